// The processes of one router daemon (gobgpd; bird; zebra + bgpd): started in order in the router namespace,
// each waited for on its control socket, recorded for sweeping, stopped in reverse with a bounded wait; and the
// interface each daemon's adapter answers the harness through.

import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '../managed-process.ts';
import { mustExecIn } from '../netns.ts';
import { waitUntil } from '../wait-until.ts';
import type { RouterOptions, RouterRoute } from '../bgp-router.ts';

const STOP_GRACE_MS = 3000;
const READY_TIMEOUT_MS = 10_000;
export const CLI_TIMEOUT_MS = 5000;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

export function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(
      `unix socket path too long (${Buffer.byteLength(path)} > ${MAX_SOCKET_PATH} bytes): ${path}; use a shorter dir`,
    );
  }
}

/** Runs a CLI (in the current namespace: the daemons' control sockets are files), throws with its stderr. */
export async function cli(argv: readonly string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
  return mustExecIn(undefined, argv, timeoutMs);
}

/** One daemon process: started in the router namespace, recorded for sweeping, stopped with a bounded wait. */
export interface DaemonSpec {
  name: string;
  command: string;
  args: readonly string[];
  /** Resolves true once the daemon answers on its control socket. */
  ready: () => Promise<boolean>;
  /** Files to remove before starting (stale sockets and pid files of a killed predecessor). */
  stale?: readonly string[];
  /** Validates the configuration (a dry run of the daemon); throws with what it rejected. */
  check?: () => Promise<void>;
}

export interface Daemons {
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  logs(lines: number): string;
}

export function daemons(o: RouterOptions, dir: string, specs: readonly DaemonSpec[]): Daemons {
  let processes: ManagedProcess[] = [];
  const stop = async (): Promise<void> => {
    // Reverse start order: bgpd before zebra, so zebra withdraws what bgpd installed.
    for (const p of [...processes].reverse()) await p.stop(STOP_GRACE_MS);
    processes = [];
  };
  return {
    async start() {
      if (processes.length > 0) throw new Error(`${o.kind} already running`);
      try {
        for (const spec of specs) {
          await spec.check?.();
          for (const file of spec.stale ?? []) rmSync(file, { force: true });
          const p = startProcess({
            name: spec.name,
            command: spec.command,
            args: spec.args,
            netns: o.ns,
            logFile: join(dir, `${spec.name}.log`),
          });
          processes.push(p);
          o.run.recordProcess(p.pid);
          await waitUntil(
            `${spec.name} to answer in ${o.ns}`,
            async () => {
              if (!p.running()) throw new Error(`${spec.name} exited: ${p.tail()}`);
              return (await spec.ready()) ? true : undefined;
            },
            READY_TIMEOUT_MS,
            50,
          ).catch((err: unknown) => {
            throw new Error(`${(err as Error).message}\n--- ${spec.name} log ---\n${p.tail()}`, { cause: err });
          });
        }
      } catch (err) {
        await stop();
        throw err;
      }
    },
    stop,
    running: () => processes.some((p) => p.running()),
    logs: (lines) => specs.map((s) => `--- ${s.name} ---\n${tailFile(join(dir, `${s.name}.log`), lines)}`).join('\n'),
  };
}

function tailFile(file: string, lines: number): string {
  try {
    return readFileSync(file, 'utf8')
      .split('\n')
      .slice(-lines - 1)
      .join('\n');
  } catch {
    return '';
  }
}

/** What each daemon's adapter reads back, in the daemon's own terms normalised (see ../bgp-router.ts). */
export interface RouterApi {
  established(): Promise<string[]>;
  routes(family: 4 | 6): Promise<RouterRoute[]>;
  bfdSessions?(): Promise<Record<string, string>>;
}
