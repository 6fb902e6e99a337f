// A child process in its own process group, with its output in a log file and a bounded stop:
// SIGTERM, wait, then SIGKILL to the whole group, so nothing a test starts outlives it.
import { spawn } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

export interface ManagedProcessOptions {
  /** Shown in errors and used for the log file name. */
  name: string;
  command: string;
  args: readonly string[];
  /** Run inside this network namespace (`ip netns exec`). */
  netns?: string;
  /** stdout and stderr go here. */
  logFile: string;
  env?: NodeJS.ProcessEnv;
  cwd?: string;
}

export interface ManagedProcess {
  readonly name: string;
  readonly pid: number;
  readonly logFile: string;
  /** Resolves with the exit code (or the signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  /** True while the process runs. */
  running(): boolean;
  /** SIGTERM, then SIGKILL to the process group after `graceMs`; resolves when it has exited. */
  stop(graceMs?: number): Promise<void>;
  /** SIGKILL to the process group at once (no SIGTERM first: the process gets no chance to react). */
  kill(): Promise<void>;
  /** The last lines of its log, for error messages. */
  tail(lines?: number): string;
}

/** Whether a process with this pid exists (signal 0: no signal is sent). */
export function pidRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export function startProcess(options: ManagedProcessOptions): ManagedProcess {
  const [command, args] = options.netns
    ? ['ip', ['netns', 'exec', options.netns, options.command, ...options.args]]
    : [options.command, options.args];
  const log = openSync(options.logFile, 'a');
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', log, log],
    env: options.env ?? process.env,
    cwd: options.cwd,
  });
  closeSync(log);
  let alive = true;
  const exited = new Promise<number | string>((resolve) => {
    child.once('exit', (code, signal) => {
      alive = false;
      resolve(code ?? signal ?? 'unknown');
    });
    child.once('error', (err) => {
      alive = false;
      resolve(`spawn error: ${err.message}`);
    });
  });
  const pid = child.pid ?? -1;
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-pid, signal);
    } catch {
      // already gone
    }
  };
  const tail = (lines = 20): string => {
    try {
      return readFileSync(options.logFile, 'utf8')
        .split('\n')
        .slice(-lines - 1)
        .join('\n');
    } catch {
      return '';
    }
  };
  const stop = async (graceMs = 2000): Promise<void> => {
    if (pid > 0) signalGroup('SIGTERM');
    const outcome = await Promise.race([exited.then(() => 'exited'), sleep(graceMs).then(() => 'timeout')]);
    // Kill the group even when the leader exited: `ip netns exec` or a forking child may leave members behind.
    if (pid > 0) signalGroup('SIGKILL');
    if (outcome === 'timeout') await exited;
  };
  return {
    name: options.name,
    pid,
    logFile: options.logFile,
    exited,
    running: () => alive,
    stop,
    kill: async () => {
      if (pid > 0) signalGroup('SIGKILL');
      await exited;
    },
    tail,
  };
}
