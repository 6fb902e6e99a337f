// Time from a fault to the withdrawal of a route at the router, both read from `ip -ts monitor` (one clock, with
// microseconds): the fault's own kernel event when it has one (a link set down in the switch namespace), else the
// moment just before the fault's command ran; and the deletion of the route from the router's kernel table.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startProcess, type ManagedProcess } from '../../src/lab/managed-process.ts';
import type { Run } from '../../src/lab/run-registry.ts';
import { waitUntil } from '../../src/lab/wait-until.ts';

/** "[2026-12-07T19:00:00.123456]" (local time, as ip prints it) in epoch milliseconds, with the microseconds. */
function monitorTime(text: string): number {
  const [whole = '', micros = '0'] = text.split('.');
  const local = new Date(whole); // no zone: local time, as printed
  return local.getTime() + Number(micros.padEnd(6, '0').slice(0, 6)) / 1000;
}

function monitor(
  run: Run,
  dir: string,
  name: string,
  ns: string,
  object: 'route' | 'link',
): { process: ManagedProcess; log: string } {
  const log = join(dir, `monitor-${name}-${object}.log`);
  const process = startProcess({
    name: `monitor-${name}-${object}`,
    command: 'ip',
    args: ['-ts', 'monitor', object],
    netns: ns,
    logFile: log,
  });
  run.recordProcess(process.pid);
  return { process, log };
}

const lines = (file: string): string[] => {
  try {
    return readFileSync(file, 'utf8').split('\n');
  } catch {
    return [];
  }
};

export interface WithdrawalOptions {
  run: Run;
  dir: string;
  name: string;
  /** The router namespace and the route's address (a /32 or /128 host route). */
  routerNs: string;
  address: string;
  /** The fault. */
  cut: () => Promise<void>;
  /** When the fault is a link going down: the namespace and name of that link, to time the cut by its event. */
  link?: { ns: string; name: string };
  timeoutMs: number;
}

/** Milliseconds from the fault to the route's deletion at the router. */
export async function timeToWithdrawal(o: WithdrawalOptions): Promise<number> {
  const routes = monitor(o.run, o.dir, o.name, o.routerNs, 'route');
  const links = o.link ? monitor(o.run, o.dir, o.name, o.link.ns, 'link') : undefined;
  try {
    await new Promise((resolve) => setTimeout(resolve, 300)); // the monitors are listening
    const before = Date.now();
    await o.cut();
    let cutAt = before;
    if (links && o.link) {
      const name = o.link.name;
      // "[...] 5: a-node1@if2: <BROADCAST,MULTICAST> mtu 1500 ... state DOWN": the flags no longer say UP.
      const event = await waitUntil(
        `link ${name} down event`,
        () => {
          for (const line of lines(links.log)) {
            const m = /^\[(\S+)\] \d+: ([^:@]+)[@:].*<([^>]*)>/.exec(line);
            if (m?.[1] && m[2] === name && !(m[3] ?? '').split(',').includes('UP'))
              return Promise.resolve(monitorTime(m[1]));
          }
          return Promise.resolve(undefined);
        },
        5000,
        10,
      );
      cutAt = event;
    }
    const deletedAt = await waitUntil(
      `route ${o.address} deleted at the router`,
      () => {
        // "[...] Deleted 198.51.100.144 via 198.51.100.11 dev eth0 proto bird metric 32" (FRR: "... nhid 23 via ...")
        for (const line of lines(routes.log)) {
          const m = /^\[(\S+)\] Deleted (\S+) /.exec(line);
          if (m?.[1] && m[2] === o.address) return Promise.resolve(monitorTime(m[1]));
        }
        return Promise.resolve(undefined);
      },
      o.timeoutMs,
      10,
    );
    return Math.round((deletedAt - cutAt) * 10) / 10;
  } finally {
    await routes.process.stop(1000);
    await links?.process.stop(1000);
  }
}
