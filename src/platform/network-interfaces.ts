// The node's interfaces, their addresses and default routes, read with `ip -j` (rtnetlink underneath), and a
// watcher that reports link and address changes (`ip monitor link address`), so announcements follow links
// coming up, addresses moving and interfaces appearing.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { parseIp, type IpFamily } from '../core/ip/ip-address.ts';

export interface InterfaceAddress {
  family: IpFamily;
  address: bigint;
  prefixLength: number;
}

export interface NetInterface {
  name: string;
  index: number;
  mac: string;
  up: boolean;
  addresses: InterfaceAddress[];
}

export interface InterfaceTable {
  interfaces: NetInterface[];
  defaultRoute: Partial<Record<IpFamily, string>>;
}

function ipJson<T>(args: string[]): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile('ip', ['-j', ...args], { timeout: 5000, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(new Error(`ip -j ${args.join(' ')}: ${error.message}`));
      else resolve((stdout.trim() ? JSON.parse(stdout) : []) as T);
    });
  });
}

interface IpAddrEntry {
  ifindex: number;
  ifname: string;
  flags?: string[];
  operstate?: string;
  address?: string;
  addr_info?: Array<{ family: string; local: string; prefixlen: number; scope?: string }>;
}

export async function readInterfaceTable(): Promise<InterfaceTable> {
  const [links, v4, v6] = await Promise.all([
    ipJson<IpAddrEntry[]>(['addr', 'show']),
    ipJson<Array<{ dev?: string }>>(['-4', 'route', 'show', 'default']),
    ipJson<Array<{ dev?: string }>>(['-6', 'route', 'show', 'default']),
  ]);
  const interfaces = links.map((link) => ({
    name: link.ifname,
    index: link.ifindex,
    mac: link.address ?? '',
    up: (link.flags ?? []).includes('UP') && link.operstate !== 'DOWN',
    addresses: (link.addr_info ?? []).flatMap((a): InterfaceAddress[] => {
      const parsed = parseIp(a.local);
      return parsed.ok && a.scope !== 'host' ? [{ family: a.family === 'inet6' ? 6 : 4, address: parsed.value, prefixLength: a.prefixlen }] : [];
    }),
  }));
  return {
    interfaces,
    defaultRoute: {
      ...(v4[0]?.dev ? { 4: v4[0].dev } : {}),
      ...(v6[0]?.dev ? { 6: v6[0].dev } : {}),
    },
  };
}

/** Calls `onChange` after link or address changes (debounced by the caller). Stop it with the returned function. */
export function watchInterfaceChanges(onChange: () => void): () => void {
  let child: ChildProcess | undefined;
  let stopped = false;
  const start = (): void => {
    child = spawn('ip', ['monitor', 'link', 'address'], { stdio: ['ignore', 'pipe', 'ignore'] });
    child.stdout?.on('data', () => {
      onChange();
    });
    child.on('exit', () => {
      if (!stopped) setTimeout(start, 1000).unref();
    });
  };
  start();
  return () => {
    stopped = true;
    child?.kill();
  };
}
