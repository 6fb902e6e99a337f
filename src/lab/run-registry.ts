// Every lab or test run registers itself under /run/beaconlb/runs/<id>: the owner process, the processes it
// started and the network namespaces it made (all named with the run id). A later run sweeps what crashed runs
// left behind: processes are killed and namespaces deleted when their owner is gone.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { CLUSTER_HOST_RECORD, sweepClusterHost, type ClusterHostRecord } from './cluster-host.ts';

export const REGISTRY_DIR = process.env['BEACONLB_RUN_DIR'] ?? '/run/beaconlb/runs';
/** Namespaces of ours are named `blb<id>-<role>`, with a five-character run id. */
export const NAMESPACE_PATTERN = /^blb([a-z0-9]{5})-[a-z0-9-]+$/;

/** Identifies a process across pid reuse: its pid and its start time in clock ticks since boot. */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return `${pid}:${fields[19]}`;
  } catch {
    return undefined;
  }
}

function isAlive(identity: string): boolean {
  const pid = Number(identity.split(':')[0]);
  return processIdentity(pid) === identity;
}

export interface Run {
  readonly id: string;
  readonly dir: string;
  /** Records a process so a later sweep can kill its group if this run dies without stopping it. */
  recordProcess(pid: number): void;
  /** A namespace name that belongs to this run. */
  namespace(role: string): string;
  /** Removes the run's record (after its namespaces and processes are gone). */
  close(): void;
}

export function registerRun(owner: number = process.pid): Run {
  const id = randomBytes(4).readUInt32BE().toString(36).padStart(5, '0').slice(-5);
  const dir = join(REGISTRY_DIR, id);
  mkdirSync(dir, { recursive: true });
  const identity = processIdentity(owner);
  if (!identity) throw new Error(`owner process ${owner} not found`);
  writeFileSync(join(dir, 'owner'), identity);
  return {
    id,
    dir,
    recordProcess(pid) {
      const processIdentityNow = processIdentity(pid);
      if (processIdentityNow) appendFileSync(join(dir, 'processes'), `${processIdentityNow}\n`);
    },
    namespace: (role) => `blb${id}-${role}`,
    close() {
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function liveRunIds(): Set<string> {
  const live = new Set<string>();
  let ids: string[];
  try {
    ids = readdirSync(REGISTRY_DIR);
  } catch {
    return live;
  }
  for (const id of ids) {
    const dir = join(REGISTRY_DIR, id);
    let owner = '';
    try {
      owner = readFileSync(join(dir, 'owner'), 'utf8').trim();
    } catch {
      // half-written record: treat as dead
    }
    if (owner && isAlive(owner)) {
      live.add(id);
      continue;
    }
    let processes: string[] = [];
    try {
      processes = readFileSync(join(dir, 'processes'), 'utf8').split('\n').filter(Boolean);
    } catch {
      // none recorded
    }
    for (const p of processes) {
      if (!isAlive(p)) continue;
      try {
        process.kill(-Number(p.split(':')[0]), 'SIGKILL');
      } catch {
        try {
          process.kill(Number(p.split(':')[0]), 'SIGKILL');
        } catch {
          // gone meanwhile
        }
      }
    }
    // A cluster lab run (cluster-lab.ts) also left shims, containers, cgroups and kernel settings.
    try {
      sweepClusterHost(JSON.parse(readFileSync(join(dir, CLUSTER_HOST_RECORD), 'utf8')) as ClusterHostRecord);
    } catch {
      // not a cluster run, or nothing recorded yet
    }
    rmSync(dir, { recursive: true, force: true });
  }
  return live;
}

/** Lists the network namespaces on this machine. */
export function listNamespaces(): string[] {
  const out = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' });
  return out
    .split('\n')
    .map((line) => line.split(' ')[0] ?? '')
    .filter(Boolean);
}

/** Kills every process inside a namespace and deletes it. */
export function deleteNamespace(name: string): void {
  try {
    const pids = execFileSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).split('\n').filter(Boolean);
    for (const pid of pids) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // gone meanwhile
      }
    }
  } catch {
    // namespace already gone
  }
  try {
    execFileSync('ip', ['netns', 'delete', name], { stdio: 'ignore' });
  } catch {
    // already gone
  }
}

/** Removes what crashed runs left: their processes, namespaces and records. Returns the namespaces deleted. */
export function sweepStaleRuns(): string[] {
  const live = liveRunIds();
  const swept: string[] = [];
  for (const ns of listNamespaces()) {
    const match = NAMESPACE_PATTERN.exec(ns);
    if (match?.[1] && !live.has(match[1])) {
      deleteNamespace(ns);
      swept.push(ns);
    }
  }
  return swept;
}
