// Running commands inside network namespaces and reading their state (neighbors, links), plus packet capture.
import { execFile, execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startProcess, type ManagedProcess } from './managed-process.ts';

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command inside `ns` (or the current namespace when ns is undefined), bounded by `timeoutMs`. */
export function execIn(ns: string | undefined, argv: readonly string[], timeoutMs = 10_000): Promise<CommandResult> {
  const [command, ...rest] = ns ? ['ip', 'netns', 'exec', ns, ...argv] : argv;
  if (!command) throw new Error('empty command');
  return new Promise((resolve) => {
    execFile(
      command,
      rest,
      { timeout: timeoutMs, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
        resolve({ code, stdout, stderr: err && !stderr ? err.message : stderr });
      },
    );
  });
}

/** Like execIn but throws with the command's stderr when it fails. */
export async function mustExecIn(ns: string | undefined, argv: readonly string[], timeoutMs = 10_000): Promise<string> {
  const res = await execIn(ns, argv, timeoutMs);
  if (res.code !== 0)
    throw new Error(`${ns ? `[${ns}] ` : ''}${argv.join(' ')} failed (${res.code}): ${res.stderr.trim()}`);
  return res.stdout;
}

/** Runs many `ip` commands in one process inside `ns` (`ip -n ns -batch -`). */
export function ipBatch(ns: string, commands: readonly string[]): void {
  try {
    execFileSync('ip', ['-n', ns, '-batch', '-'], {
      input: `${commands.join('\n')}\n`,
      stdio: ['pipe', 'ignore', 'pipe'],
      timeout: 10_000,
    });
  } catch (err) {
    const stderr = (err as { stderr?: Buffer }).stderr?.toString() ?? '';
    throw new Error(`ip -n ${ns} -batch failed: ${stderr.trim() || (err as Error).message}\n${commands.join('\n')}`, {
      cause: err,
    });
  }
}

export interface Neighbor {
  dst: string;
  dev: string;
  lladdr?: string;
  state: string[];
}

/** The namespace's neighbor table (`ip -j neigh`), IPv4 and IPv6. */
export async function neighbors(ns: string): Promise<Neighbor[]> {
  return JSON.parse(await mustExecIn(ns, ['ip', '-j', 'neigh', 'show'])) as Neighbor[];
}

/** The MAC address of an interface inside `ns`. */
export async function macAddress(ns: string, dev: string): Promise<string> {
  const links = JSON.parse(await mustExecIn(ns, ['ip', '-j', 'link', 'show', 'dev', dev])) as Array<{
    address: string;
  }>;
  const mac = links[0]?.address;
  if (!mac) throw new Error(`no MAC address for ${dev} in ${ns}`);
  return mac;
}

export interface Capture {
  readonly file: string;
  /** Stops tcpdump and returns the decoded packets, one line each (`tcpdump -nn -e -r`). */
  stop(): Promise<string[]>;
}

/** Starts tcpdump on `dev` inside `ns` writing to a pcap file in `dir`; resolves once it is capturing. */
export async function startCapture(
  ns: string,
  dev: string,
  filter: string,
  dir: string,
  name = 'capture',
): Promise<Capture> {
  const file = join(dir, `${name}-${ns}-${dev}.pcap`);
  const logFile = join(dir, `${name}-${ns}-${dev}.log`);
  const tcpdump: ManagedProcess = startProcess({
    name: 'tcpdump',
    command: 'tcpdump',
    args: ['-i', dev, '--immediate-mode', '-U', '-Z', 'root', '-n', '-w', file, ...filter.split(' ').filter(Boolean)],
    netns: ns,
    logFile,
  });
  for (let i = 0; i < 100 && !tcpdump.tail().includes('listening on'); i++) {
    if (!tcpdump.running()) throw new Error(`tcpdump failed: ${tcpdump.tail()}`);
    await sleep(20);
  }
  return {
    file,
    async stop() {
      await sleep(100);
      await tcpdump.stop(2000);
      const out = await execIn(undefined, ['tcpdump', '-nn', '-e', '-r', file]);
      return out.stdout.split('\n').filter(Boolean);
    },
  };
}
