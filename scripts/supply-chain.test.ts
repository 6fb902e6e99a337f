// Supply chain: `npm audit` finds no high or critical advisory, for the runtime dependencies (--omit=dev) and for
// all of them; every package-lock.json entry is pinned to an exact version with an integrity hash, the lock file's
// root matches package.json, and package.json names exact versions only (no ^, ~, ranges, tags or URLs).
// When the registry's audit endpoint cannot be reached or does not answer audits (network down, an HTTP error such as
// a mirror's 405), the audit cases are skipped with "skipped: audit endpoint unreachable": skipped, never passed.
import { describe, it, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const EXACT_VERSION = /^\d+\.\d+\.\d+(-[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?(\+[0-9A-Za-z-]+(\.[0-9A-Za-z-]+)*)?$/;
const INTEGRITY = /^sha(384|512)-[A-Za-z0-9+/]+={0,2}$/;
/** Transport failures npm reports when the registry cannot be reached at all. */
const NETWORK_CODES = new Set([
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ESOCKETTIMEDOUT',
  'ERR_SOCKET_TIMEOUT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
]);

interface AuditReport {
  metadata?: { vulnerabilities?: Record<'info' | 'low' | 'moderate' | 'high' | 'critical', number> };
  vulnerabilities?: Record<string, { severity: string; via: unknown[]; range?: string }>;
  statusCode?: number;
  message?: string;
  error?: { code?: string; summary?: string };
}

type AuditOutcome =
  { kind: 'report'; report: AuditReport } | { kind: 'unreachable'; why: string } | { kind: 'failed'; why: string };

/** Runs npm audit with --json; sorts its answer into a report, an unreachable endpoint, or another failure. */
function audit(args: readonly string[]): Promise<AuditOutcome> {
  return new Promise((resolve) => {
    execFile(
      'npm',
      ['audit', '--json', '--audit-level=high', ...args],
      { cwd: root, timeout: 90_000, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error && (error.killed || error.signal)) {
          resolve({ kind: 'unreachable', why: 'npm audit did not finish within 90 s' });
          return;
        }
        let report: AuditReport;
        try {
          report = JSON.parse(stdout) as AuditReport;
        } catch {
          resolve({
            kind: 'failed',
            why: `npm audit printed no JSON (exit ${error?.code ?? 0}): ${stderr.slice(-500)}`,
          });
          return;
        }
        // A finished audit has its counts, whatever the exit code (1 when something at the audit level was found).
        if (report.metadata?.vulnerabilities) resolve({ kind: 'report', report });
        else if (typeof report.statusCode === 'number')
          resolve({ kind: 'unreachable', why: report.message ?? `HTTP ${report.statusCode}` });
        else if (report.error?.code && NETWORK_CODES.has(report.error.code))
          resolve({ kind: 'unreachable', why: `${report.error.code} ${report.error.summary ?? ''}`.trim() });
        else
          resolve({
            kind: 'failed',
            why: `npm audit failed (exit ${error?.code ?? 0}): ${stdout.slice(0, 500)} ${stderr.slice(-500)}`,
          });
      },
    );
  });
}

async function expectNoHighOrCritical(t: TestContext, args: readonly string[]): Promise<void> {
  const outcome = await audit(args);
  if (outcome.kind === 'unreachable') {
    console.log(`skipped: audit endpoint unreachable (${outcome.why})`);
    t.skip(`skipped: audit endpoint unreachable (${outcome.why})`);
    return;
  }
  if (outcome.kind === 'failed') assert.fail(outcome.why);
  const counts = outcome.report.metadata?.vulnerabilities;
  const serious = Object.entries(outcome.report.vulnerabilities ?? {})
    .filter(([, v]) => v.severity === 'high' || v.severity === 'critical')
    .map(([name, v]) => `${name} (${v.severity}${v.range ? `, ${v.range}` : ''})`);
  console.log(`npm audit ${args.join(' ') || '(all dependencies)'}: ${JSON.stringify(counts)}`);
  assert.deepEqual(serious, [], 'high or critical advisories');
  assert.equal((counts?.high ?? 0) + (counts?.critical ?? 0), 0);
}

describe('supply chain', () => {
  it('npm audit --omit=dev: no high or critical advisory in the runtime dependencies', async (t) => {
    await expectNoHighOrCritical(t, ['--omit=dev']);
  });

  it('npm audit: no high or critical advisory in any dependency, dev included', async (t) => {
    await expectNoHighOrCritical(t, []);
  });

  it('every package-lock.json entry has an exact version and an integrity hash; its root matches package.json', () => {
    const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
      lockfileVersion: number;
      packages: Record<
        string,
        {
          version?: string;
          integrity?: string;
          link?: boolean;
          dependencies?: Record<string, string>;
          devDependencies?: Record<string, string>;
        }
      >;
    };
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      devDependencies?: Record<string, string>;
    };
    assert.ok(
      lock.lockfileVersion >= 2,
      `lockfileVersion ${lock.lockfileVersion}: an entry per package needs version 2 or 3`,
    );
    const problems: string[] = [];
    const entries = Object.entries(lock.packages).filter(([path]) => path !== '');
    assert.ok(entries.length > 0);
    for (const [path, entry] of entries) {
      if (entry.link) problems.push(`${path}: a link, not a pinned package`);
      else if (!entry.version || !EXACT_VERSION.test(entry.version))
        problems.push(`${path}: version ${entry.version ?? 'missing'}`);
      else if (!entry.integrity || !INTEGRITY.test(entry.integrity))
        problems.push(`${path}: integrity ${entry.integrity ?? 'missing'}`);
    }
    assert.deepEqual(problems, []);
    const rootEntry = lock.packages[''];
    assert.deepEqual(
      rootEntry?.dependencies ?? {},
      pkg.dependencies ?? {},
      'package-lock.json is out of date with package.json dependencies',
    );
    assert.deepEqual(
      rootEntry?.devDependencies ?? {},
      pkg.devDependencies ?? {},
      'package-lock.json is out of date with package.json devDependencies',
    );
  });

  it('package.json names exact versions only', () => {
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as Record<
      string,
      Record<string, string> | undefined
    >;
    const loose: string[] = [];
    for (const field of ['dependencies', 'devDependencies', 'optionalDependencies', 'peerDependencies', 'overrides']) {
      for (const [name, version] of Object.entries(pkg[field] ?? {})) {
        if (typeof version !== 'string' || !EXACT_VERSION.test(version))
          loose.push(`${field}.${name}: ${JSON.stringify(version)}`);
      }
    }
    assert.deepEqual(loose, []);
  });
});
