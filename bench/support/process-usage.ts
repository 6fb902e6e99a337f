// CPU time and memory of other processes, read from /proc, for benchmarks that measure the control plane.
import { readdirSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

let ticksPerSecond: number | undefined;

/** The kernel's clock ticks per second (utime and stime in /proc/<pid>/stat count these). */
function clockTicks(): number {
  ticksPerSecond ??= Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  return ticksPerSecond;
}

/** User + system CPU seconds a process has used so far (children not included). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the command: state is field 3 of the man page, utime 14 and stime 15 (indices 11 and 12 here).
  return (Number(fields[11]) + Number(fields[12])) / clockTicks();
}

/** The pid of the one process whose command line contains every one of `parts` (an argument each). */
export function findProcess(parts: readonly string[]): number {
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let args: string[];
    try {
      args = readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
    } catch {
      continue;
    }
    if (parts.every((part) => args.some((arg) => arg.includes(part)))) found.push(Number(entry));
  }
  if (found.length !== 1) throw new Error(`expected one process with ${parts.join(' ')}, found ${found.length}`);
  return found[0]!;
}
