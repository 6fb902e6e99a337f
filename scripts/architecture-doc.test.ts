// docs/architecture.md stays a current map: its "Where things happen" table names files that exist and functions
// those files hold, and it links every component doc in docs/ and every decision in docs/adr/.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, globSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

const root = join(import.meta.dirname, '..');
const DOC = 'docs/architecture.md';
const TABLE = 'Where things happen';
const markdown = readFileSync(join(root, DOC), 'utf8');

/** The "where" cells of the table's rows. */
function whereCells(): string[] {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => l === `## ${TABLE}`);
  assert.ok(start >= 0, `${DOC} has no section "${TABLE}"`);
  const cells: string[] = [];
  for (const line of lines.slice(start + 1)) {
    if (line.startsWith('## ')) break;
    const parts = line.split(' | ');
    if (line.startsWith('| ') && parts.length === 2 && !line.startsWith('| event') && !line.startsWith('| ---'))
      cells.push(parts[1] ?? '');
  }
  return cells;
}

const escape = (text: string): string => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** What is wrong with the names of one cell: each `src/...` file must exist, each name after it must be in it. */
function problemsOf(cell: string): string[] {
  const problems: string[] = [];
  let file: string | undefined;
  let text = '';
  for (const [, token] of cell.matchAll(/`([^`]+)`/g)) {
    if (!token) continue;
    if (token.startsWith('src/')) {
      file = token;
      if (!existsSync(join(root, file))) {
        problems.push(`${file} does not exist`);
        text = '';
      } else text = readFileSync(join(root, file), 'utf8');
      continue;
    }
    if (!/^[A-Za-z#][\w#]*(\.[\w#]+)?$/.test(token)) continue; // an Event reason, a field: not a name
    if (!file) {
      problems.push(`${token} is named before any file`);
      continue;
    }
    const [owner, member] = token.includes('.') ? (token.split('.') as [string, string]) : [undefined, token];
    if (owner !== undefined && !new RegExp(`class ${escape(owner)}\\b`).test(text))
      problems.push(`${file} has no class ${owner}`);
    if (!new RegExp(`(^|[^\\w#])${escape(member)}\\s*(<[^>]*>)?\\(`, 'm').test(text))
      problems.push(`${file} has no function ${member}`);
  }
  return problems;
}

describe(DOC, () => {
  it(`"${TABLE}" names files that exist and functions they hold`, () => {
    const cells = whereCells();
    assert.ok(cells.length >= 20, `${cells.length} rows`);
    assert.deepEqual(cells.flatMap(problemsOf), []);
  });

  it('the check finds a missing file, class and function', () => {
    assert.deepEqual(problemsOf('`src/no-such-file.ts` `f`'), [
      'src/no-such-file.ts does not exist',
      'src/no-such-file.ts has no function f',
    ]);
    assert.deepEqual(problemsOf('`src/core/result.ts` `Nothing.ok`, `notThere`, `ok`'), [
      'src/core/result.ts has no class Nothing',
      'src/core/result.ts has no function notThere',
    ]);
  });

  it('links every component doc in docs/ and every ADR in docs/adr/', () => {
    const linked = new Set([...markdown.matchAll(/\]\(([^)#]+)(#[^)]*)?\)/g)].map((m) => m[1]));
    const docs = globSync('docs/*.md', { cwd: root })
      .filter((f) => basename(f) !== 'architecture.md')
      .map((f) => basename(f));
    const adrs = globSync('docs/adr/*.md', { cwd: root }).map((f) => `adr/${basename(f)}`);
    assert.deepEqual([...docs, ...adrs].filter((f) => !linked.has(f)).sort(), []);
  });
});
