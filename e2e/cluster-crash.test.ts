// A cluster lab whose supervisor dies (SIGKILL: no teardown runs) leaves nothing once the next run sweeps:
// `lab down` finds the dead run and removes its processes (kubelets, containerds, kube-proxies, the control plane,
// containerd's shims and the containers), network namespaces, cgroups and mounts, and writes back the kernel
// settings kubelet rewrote.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { processesNaming, readSysctls } from '../src/lab/cluster-host.ts';
import { readLabState } from '../src/lab/lab-state.ts';
import { pidRunning } from '../src/lab/managed-process.ts';
import { listNamespaces } from '../src/lab/run-registry.ts';
import { REPO_ROOT } from './support/cluster.ts';

function beaconlb(args: readonly string[], timeoutMs: number): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(join(REPO_ROOT, 'bin', 'beaconlb'), args, {
    encoding: 'utf8',
    timeout: timeoutMs,
    maxBuffer: 16 * 1024 * 1024,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

describe('a crashed cluster lab', { timeout: 60 * 60_000 }, () => {
  // Cold, lab up builds the node components and the image first (ADR 0017): beyond the runner's 15-minute default.
  it(
    'leaves no process, namespace, cgroup, mount or changed kernel setting after the next sweep',
    { timeout: 60 * 60_000 },
    async () => {
      const stateDir = mkdtempSync(join(tmpdir(), 'beaconlb-crash-'));
      const before = readSysctls();
      try {
        const up = beaconlb(['lab', 'up', '--cluster', `--state-dir=${stateDir}`], 60 * 60_000);
        assert.equal(up.status, 0, `${up.stdout}\n${up.stderr}`);
        const state = readLabState(stateDir);
        assert.ok(state?.runId && state.phase === 'ready');
        const runId = state.runId;
        // kubelet has run: the settings differ from what the machine had (or the test proves nothing about them).
        const changed = Object.entries(readSysctls())
          .filter(([key, value]) => before[key] !== value)
          .map(([key]) => key);
        assert.ok(changed.length > 0, 'kubelet changed no kernel setting');
        assert.ok(processesNaming(stateDir).length > 5, 'the cluster runs');

        process.kill(state.supervisorPid, 'SIGKILL');
        for (let i = 0; i < 100 && pidRunning(state.supervisorPid); i++) await sleep(50);
        assert.ok(processesNaming(stateDir).length > 0, 'the components outlive their supervisor');

        const down = beaconlb(['lab', 'down', `--state-dir=${stateDir}`], 120_000);
        assert.equal(down.status, 0, down.stderr);
        assert.deepEqual(processesNaming(stateDir), []);
        assert.deepEqual(
          listNamespaces().filter((ns) => ns.startsWith(`blb${runId}-`)),
          [],
        );
        const cgroups = readdirSync('/sys/fs/cgroup').flatMap((hierarchy) => {
          const path = join('/sys/fs/cgroup', hierarchy);
          return existsSync(path)
            ? readdirSync(path)
                .filter((name) => name.startsWith(`blb${runId}-`))
                .map((name) => join(path, name))
            : [];
        });
        assert.deepEqual(cgroups, []);
        const mounts = readFileSync('/proc/self/mountinfo', 'utf8')
          .split('\n')
          .filter((line) => line.includes(stateDir) || line.includes(`blb${runId}-`));
        assert.deepEqual(mounts, []);
        assert.deepEqual(readSysctls(), before);
      } finally {
        beaconlb(['lab', 'down', `--state-dir=${stateDir}`], 120_000);
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});
