// Runs every suite of Beacon LB and ends with one summary line over all of them: `N passed, N failed, N skipped`.
// Suites: generated files in sync, type check, lint, format, unit tests (src/**/*.test.ts, scripts/**/*.test.ts) and
// end-to-end tests (e2e/**/*.test.ts, one file at a time: they share the machine's network and cores).
// Flags: --unit, --e2e (only that part), --only <substring> (test files whose path contains it).
import { spawn } from 'node:child_process';
import { globSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const args = process.argv.slice(2);
const onlyUnit = args.includes('--unit');
const onlyE2e = args.includes('--e2e');
const onlyIndex = args.indexOf('--only');
const only = onlyIndex >= 0 ? args[onlyIndex + 1] : undefined;

interface Tally {
  passed: number;
  failed: number;
  skipped: number;
}
const total: Tally = { passed: 0, failed: 0, skipped: 0 };
const failures: string[] = [];

function run(command: string, commandArgs: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
    child.on('exit', (code, signal) => {
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}

async function check(name: string, command: string, commandArgs: string[]): Promise<void> {
  console.log(`\n== ${name}`);
  const code = await run(command, commandArgs);
  if (code === 0) total.passed++;
  else {
    total.failed++;
    failures.push(name);
  }
}

function count(tap: string, key: string): number {
  const match = new RegExp(`^# ${key} (\\d+)$`, 'm').exec(tap);
  return match?.[1] ? Number(match[1]) : 0;
}

async function nodeTests(name: string, files: string[], extra: string[]): Promise<void> {
  const selected = only ? files.filter((f) => f.includes(only)) : files;
  if (selected.length === 0) return;
  console.log(`\n== ${name}: ${selected.length} files`);
  const dir = mkdtempSync(join(tmpdir(), 'beaconlb-tap-'));
  const tapFile = join(dir, 'report.tap');
  const code = await run(process.execPath, [
    '--test',
    '--test-reporter=spec',
    '--test-reporter-destination=stdout',
    '--test-reporter=tap',
    `--test-reporter-destination=${tapFile}`,
    ...extra,
    ...selected,
  ]);
  let tap = '';
  try {
    tap = readFileSync(tapFile, 'utf8');
  } catch {
    // no report: counted as a failure below
  }
  rmSync(dir, { recursive: true, force: true });
  const passed = count(tap, 'pass');
  const failed = count(tap, 'fail') + count(tap, 'cancelled');
  total.passed += passed;
  total.failed += failed;
  total.skipped += count(tap, 'skipped') + count(tap, 'todo');
  if (failed > 0) failures.push(`${name}: ${failed} failed`);
  if (code !== 0 && failed === 0) {
    total.failed++;
    failures.push(`${name}: runner exited ${code}`);
  }
}

const unitFiles = globSync(['src/**/*.test.ts', 'scripts/**/*.test.ts'], { cwd: root }).sort();
const e2eFiles = globSync('e2e/**/*.test.ts', { cwd: root }).sort();

if (!onlyE2e && !only) {
  await check('generated API files are current', process.execPath, ['scripts/gen-api.ts', '--check']);
  await check('config/install.yaml is current', process.execPath, ['scripts/render-install.ts', '--check']);
  await check('type check (tsc)', join(root, 'node_modules/.bin/tsc'), ['--noEmit', '-p', 'tsconfig.json']);
  await check('lint (eslint, layering)', join(root, 'node_modules/.bin/eslint'), ['--max-warnings', '0', '.']);
  await check('format (prettier; `npm run format` fixes it)', join(root, 'node_modules/.bin/prettier'), [
    '--check',
    '--log-level',
    'warn',
    '**/*.{ts,js}',
  ]);
}
if (!onlyE2e) await nodeTests('unit tests', unitFiles, []);
if (!onlyUnit) await nodeTests('end-to-end tests', e2eFiles, ['--test-concurrency=1', '--test-timeout=900000']);

if (failures.length > 0) console.log(`\nFailed: ${failures.join('; ')}`);
const skipped = total.skipped > 0 ? `, ${total.skipped} skipped` : '';
console.log(`\n${total.passed} passed, ${total.failed} failed${skipped}`);
process.exitCode = total.failed > 0 ? 1 : 0;
