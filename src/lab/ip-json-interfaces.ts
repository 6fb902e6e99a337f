// The node's interface table read the way the speaker read it before rtnetlink (ADR 0022): `ip -j addr show` and
// `ip -j -4/-6 route show default` inside a namespace, and `ip monitor link address` for changes. Kept as the
// reference the rtnetlink reader is compared with (e2e/rtnetlink-interfaces.test.ts, bench/package-netlink.ts);
// the speaker no longer runs `ip`, and the image has no iproute2.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { parseIp } from '../core/ip/ip-address.ts';
import type { InterfaceAddress, InterfaceTable } from '../platform/network-interfaces.ts';

function ipJson<T>(ns: string | undefined, args: string[]): Promise<T> {
  const argv = [...(ns ? ['-n', ns] : []), '-j', ...args];
  return new Promise((resolve, reject) => {
    execFile('ip', argv, { timeout: 5000, encoding: 'utf8' }, (error, stdout) => {
      if (error) reject(new Error(`ip ${argv.join(' ')}: ${error.message}`));
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

/** The interface table of namespace `ns` (the current one when undefined), from `ip -j`. */
export async function readInterfaceTableWithIp(ns?: string): Promise<InterfaceTable> {
  const [links, v4, v6] = await Promise.all([
    ipJson<IpAddrEntry[]>(ns, ['addr', 'show']),
    ipJson<Array<{ dev?: string }>>(ns, ['-4', 'route', 'show', 'default']),
    ipJson<Array<{ dev?: string }>>(ns, ['-6', 'route', 'show', 'default']),
  ]);
  const interfaces = links.map((link) => ({
    name: link.ifname,
    index: link.ifindex,
    mac: link.address ?? '',
    up: (link.flags ?? []).includes('UP') && link.operstate !== 'DOWN',
    addresses: (link.addr_info ?? []).flatMap((a): InterfaceAddress[] => {
      const parsed = parseIp(a.local);
      return parsed.ok && a.scope !== 'host'
        ? [{ family: a.family === 'inet6' ? 6 : 4, address: parsed.value, prefixLength: a.prefixlen }]
        : [];
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

/** Calls `onChange` after link or address changes in the current namespace (`ip monitor`); returns the stop function. */
export function watchInterfaceChangesWithIp(onChange: () => void): () => void {
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
