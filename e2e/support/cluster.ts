// Test fixture: a run record (for sweeping), a fresh control plane with the CRDs established and the RBAC
// installed, torn down after the suite, also on failure.
import { after, before } from 'node:test';
import { mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { startControlPlane, type ControlPlane } from '../../src/lab/control-plane.ts';
import { installBase } from '../../src/lab/install-base.ts';
import { registerRun, sweepStaleRuns, type Run } from '../../src/lab/run-registry.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
export { INSTALL_NAMESPACE, PASSWORD_NAMESPACE } from '../../src/lab/component-process.ts';

export interface ClusterFixture {
  run: Run;
  cp: ControlPlane;
  dir: string;
  /** Registers a cleanup that runs (last registered first) before the control plane stops. */
  defer(cleanup: () => Promise<void> | void): void;
}

export { installBase } from '../../src/lab/install-base.ts';

/**
 * Registers before/after hooks of the current suite; the returned object is filled in by `before`.
 * `install: false` leaves the API server empty.
 */
export function useCluster(options: { install?: boolean } = {}): ClusterFixture {
  const cleanups: Array<() => Promise<void> | void> = [];
  // Filled in by `before`; until then only defer() may be used.
  const fixture = {
    defer: (cleanup: () => Promise<void> | void) => {
      cleanups.push(cleanup);
    },
  } as unknown as ClusterFixture;
  before(async () => {
    sweepStaleRuns();
    fixture.run = registerRun();
    fixture.dir = mkdtempSync(join(tmpdir(), `beaconlb-${fixture.run.id}-`));
    fixture.cp = await startControlPlane({ dir: join(fixture.dir, 'control-plane'), run: fixture.run });
    if (options.install !== false) installBase(fixture.cp);
  });
  after(async () => {
    // Any of these is missing when `before` failed half-way.
    const partial = fixture as Partial<ClusterFixture>;
    for (const cleanup of cleanups.reverse()) {
      try {
        await cleanup();
      } catch (error) {
        console.error('cleanup failed:', error);
      }
    }
    await partial.cp?.stop();
    partial.run?.close();
    if (partial.dir && process.env['BEACONLB_KEEP_LOGS']) console.log(`logs kept in ${partial.dir}`);
    else if (partial.dir) rmSync(partial.dir, { recursive: true, force: true });
  });
  return fixture;
}

/** Runs kubectl, returning {ok, out} instead of throwing, with stderr as out on failure. */
export function tryKubectl(cp: ControlPlane, args: readonly string[], input?: string): { ok: boolean; out: string } {
  try {
    return { ok: true, out: cp.kubectl(args, input) };
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    return { ok: false, out: e.stderr ?? e.message };
  }
}
