// What the cluster lab's kubelets and containerds need from the machine, and how it is given back: a private mount
// namespace that every node component joins (their overlay, tmpfs and netns mounts die with it), a cgroup root per
// node in every cgroup hierarchy (removed with whatever runs in it), and the kernel settings kubelet rewrites
// (recorded first, restored at the end).
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import type { Run } from './run-registry.ts';

const CGROUP_ROOT = '/sys/fs/cgroup';

/**
 * A process holding a private mount namespace with its own /run, /var/lib and /var/log (tmpfs), so containerd's
 * pod network namespaces, shim sockets, CNI state and kubelet's log links never appear on the host. Components
 * join it with `nsenter --mount=<holder>/ns/mnt --net=/run/netns/<node>` (nsenter opens both before entering).
 */
export interface MountHolder {
  /** The nsenter prefix that runs a command in the holder's mount namespace and `netns`. */
  enter(netns: string): string[];
  stop(): Promise<void>;
}

export async function startMountHolder(dir: string, run: Run): Promise<MountHolder> {
  const holder: ManagedProcess = startProcess({
    name: 'mount-holder',
    command: 'unshare',
    args: [
      '--mount',
      '--propagation',
      'private',
      '--',
      'sh',
      '-c',
      'mount -t tmpfs beaconlb-run /run && mount -t tmpfs beaconlb-varlib /var/lib && mount -t tmpfs beaconlb-varlog /var/log && echo ready && exec sleep infinity',
    ],
    logFile: join(dir, 'mount-holder.log'),
  });
  run.recordProcess(holder.pid);
  for (let i = 0; i < 250 && !holder.tail().includes('ready'); i++) {
    if (!holder.running()) throw new Error(`mount holder failed: ${holder.tail()}`);
    await sleep(20);
  }
  if (!holder.tail().includes('ready')) {
    await holder.stop(500);
    throw new Error(`mount holder not ready: ${holder.tail()}`);
  }
  // `unshare ... sh -c '... exec sleep'` keeps one pid: the namespace is /proc/<pid>/ns/mnt.
  const mnt = `/proc/${holder.pid}/ns/mnt`;
  return {
    enter: (netns) => ['nsenter', `--mount=${mnt}`, `--net=/run/netns/${netns}`, '--'],
    stop: () => holder.stop(500),
  };
}

/**
 * The cgroup hierarchies mounted under /sys/fs/cgroup: the v1 ones and, on a hybrid host, the unified (v2) one,
 * where runc also makes a cgroup for every container.
 */
function hierarchies(): string[] {
  return readdirSync(CGROUP_ROOT)
    .map((name) => join(CGROUP_ROOT, name))
    .filter((path) => statSync(path).isDirectory() && existsSync(join(path, 'cgroup.procs')));
}

/** Creates `/<name>` in every v1 hierarchy (cpuset filled from the parent), for kubelet's cgroupRoot. */
export function createCgroupRoot(name: string): void {
  for (const hierarchy of hierarchies().filter((path) => !path.endsWith('/unified'))) {
    const path = join(hierarchy, name);
    mkdirSync(path, { recursive: true });
    if (hierarchy.endsWith('/cpuset')) {
      for (const file of ['cpuset.cpus', 'cpuset.mems'])
        writeFileSync(join(path, file), readFileSync(join(hierarchy, file)));
    }
  }
}

function cgroupDirs(path: string): string[] {
  if (!existsSync(path)) return [];
  const below = readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory())
    .flatMap((e) => cgroupDirs(join(path, e.name)));
  return [...below, path];
}

/** The processes in `/<name>` and below, in any hierarchy. */
export function cgroupProcesses(name: string): number[] {
  const pids = new Set<number>();
  for (const hierarchy of hierarchies()) {
    for (const dir of cgroupDirs(join(hierarchy, name))) {
      try {
        for (const line of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n'))
          if (line) pids.add(Number(line));
      } catch {
        // removed meanwhile
      }
    }
  }
  return [...pids];
}

/** Kills every process in `/<name>` (containers whose shim is gone) and removes the cgroups, deepest first. */
export async function removeCgroupRoot(name: string): Promise<string[]> {
  for (let round = 0; round < 50; round++) {
    const pids = cgroupProcesses(name);
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await sleep(100);
  }
  const left: string[] = [];
  for (const hierarchy of hierarchies()) {
    for (const dir of cgroupDirs(join(hierarchy, name))) {
      try {
        rmdirSync(dir);
      } catch (err) {
        left.push(`${dir}: ${(err as Error).message}`);
      }
    }
  }
  return left;
}

/** The kernel settings kubelet's container manager rewrites (setupKernelTunables) unless protectKernelDefaults. */
export const KUBELET_SYSCTLS = [
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

const sysctlPath = (key: string): string => join('/proc/sys', ...key.split('.'));

export type SysctlValues = Record<string, string>;

export function readSysctls(keys: readonly string[] = KUBELET_SYSCTLS): SysctlValues {
  return Object.fromEntries(keys.map((key) => [key, readFileSync(sysctlPath(key), 'utf8').trim()]));
}

/** Writes back recorded values; returns the keys it had to change. */
export function restoreSysctls(values: SysctlValues): string[] {
  const changed: string[] = [];
  for (const [key, value] of Object.entries(values)) {
    if (readFileSync(sysctlPath(key), 'utf8').trim() === value) continue;
    writeFileSync(sysctlPath(key), value);
    changed.push(key);
  }
  return changed;
}

/** Processes whose command line names `marker` (a path of this run): containerd's shims, which daemonize. */
export function processesNaming(marker: string): number[] {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(marker)) found.push(Number(entry));
    } catch {
      // gone
    }
  }
  return found.filter((pid) => pid !== process.pid);
}

/** What a cluster lab run leaves for a later sweep if it dies without its teardown (run-registry.ts). */
export interface ClusterHostRecord {
  /** The lab's directory: containerd's shims name it on their command lines. */
  dir: string;
  cgroupRoots: string[];
  sysctls: SysctlValues;
}

export const CLUSTER_HOST_RECORD = 'cluster-host.json';

/**
 * The teardown of a dead run, synchronously (the run registry's sweep is synchronous): shims, containers and cgroups
 * go, the kernel settings are written back. The run's recorded processes (kubelet, containerd, the mount holder)
 * were killed by the sweep already.
 */
export function sweepClusterHost(record: ClusterHostRecord): void {
  const pause = (ms: number): void => {
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
  };
  for (let round = 0; round < 40; round++) {
    const pids = [...processesNaming(record.dir), ...record.cgroupRoots.flatMap((root) => cgroupProcesses(root))];
    if (pids.length === 0) break;
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    pause(50);
  }
  for (const root of record.cgroupRoots) {
    for (const hierarchy of hierarchies()) {
      for (const dir of cgroupDirs(join(hierarchy, root))) {
        try {
          rmdirSync(dir);
        } catch {
          // busy or gone: the next sweep tries again
        }
      }
    }
  }
  restoreSysctls(record.sysctls);
}

/** Runs a command to completion; throws with its stderr. */
export function must(command: string, args: readonly string[], timeoutMs = 60_000): string {
  try {
    return execFileSync(command, args, {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: timeoutMs,
      maxBuffer: 64 * 1024 * 1024,
    });
  } catch (err) {
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`${command} ${args.join(' ')} failed: ${stderr.trim() || (err as Error).message}`, { cause: err });
  }
}
