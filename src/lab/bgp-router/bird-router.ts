// BIRD 2 as the test bed's router: one `protocol bgp` per neighbor, `birdc` text for sessions, routes and BFD
// (BIRD has no JSON output, so parseBirdRoutes reads `show route all`).

import { existsSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { execIn } from '../netns.ts';
import type { RouterOptions, RouterRoute } from '../bgp-router.ts';
import { canonicalAddress, canonicalPrefix, compareNumbered } from './route-text.ts';
import type { Prepared } from './prepared-options.ts';
import { CLI_TIMEOUT_MS, checkSocketPath, cli, daemons, type Daemons, type RouterApi } from './daemon-set.ts';

function birdConfig(o: RouterOptions, p: Prepared): string {
  const lines = [
    `router id ${o.routerId};`,
    'log stderr all;',
    'protocol device { scan time 10; }',
    // merge paths: ECMP routes into the kernel (otherwise only the best path gets there).
    'protocol kernel k4 { ipv4 { import none; export all; }; merge paths on; }',
    'protocol kernel k6 { ipv6 { import none; export all; }; merge paths on; }',
    'template bgp peer {',
    `  local as ${o.asn};`,
    // BIRD waits `connect delay time` (default 5 s) before its first connect, and after an error
    // `error wait time` (default 60..300 s) before the next attempt.
    '  connect delay time 0;',
    '  connect retry time 1;',
    '  error wait time 1, 2;',
    '  error forget time 10;',
    // on = helper for a restarting peer (aware would only announce the capability); restart time of the peer honoured.
    `  graceful restart ${o.gracefulRestart ? 'on' : 'off'};`,
    '  ipv4 { import all; export none; };',
    '  ipv6 { import all; export none; };',
    '}',
  ];
  if (o.bfd) {
    const ms = o.bfd.intervalMs;
    // BGP's `bfd on` asks this protocol for a session per neighbor; idle tx interval: the rate before Up.
    lines.push(
      `protocol bfd { interface "*" { min rx interval ${ms} ms; min tx interval ${ms} ms; idle tx interval 1000 ms; multiplier ${o.bfd.multiplier}; }; }`,
    );
  }
  p.neighbors.forEach((n, i) => {
    const opts = [`neighbor ${n.address} as ${n.asn};`];
    if (n.bfd) opts.push('bfd on;');
    // BIRD treats iBGP as multihop (recursive next hops, which need an IGP table); the lab's iBGP peers are on
    // the segment, so say so: next hops then resolve directly like eBGP ones.
    if (n.ibgp) opts.push('direct;');
    if (n.interface !== undefined) opts.push(`interface "${n.interface}";`);
    if (n.password !== undefined) opts.push(`password "${n.password}";`);
    // RFC 8950: IPv4 routes with IPv6 next hops over this IPv6 session.
    if (n.extendedNextHop === true) opts.push('ipv4 { import all; export none; extended next hop on; };');
    lines.push(`protocol bgp ${birdProtocol(i)} from peer { ${opts.join(' ')} }`);
  });
  return `${lines.join('\n')}\n`;
}

const birdProtocol = (index: number): string => `peer${index}`;

/**
 * Parses `birdc show route all` (BIRD 2.0): one block per prefix, one sub-block per path.
 * Long (~80 lines): one parser of the block format, prefix block and path sub-block together.
 */
export function parseBirdRoutes(
  text: string,
  neighborOf: (protocol: string) => string | undefined,
  ibgp: (neighbor: string) => boolean,
  staleProtocols: ReadonlySet<string>,
): RouterRoute[] {
  const routes: RouterRoute[] = [];
  let prefix = '';
  let current: { route: RouterRoute; localPref?: number } | undefined;
  const flush = (): void => {
    if (!current) return;
    const { route, localPref } = current;
    if (localPref !== undefined && ibgp(route.neighbor)) route.localPref = localPref;
    route.communities.sort(compareNumbered);
    route.largeCommunities.sort(compareNumbered);
    routes.push(route);
    current = undefined;
  };
  for (const line of text.split('\n')) {
    // "198.51.100.64/32     unicast [peer0 12:00:00.000] * (100) [AS65001?]" or, for a further path of the same
    // prefix, the same without the prefix; "from <address>" appears after the time when it differs from the gateway.
    const head = /^(\S+)?\s+(unicast|unreachable|blackhole|prohibit|multipath)\s+\[(\S+)\s[^\]]*\](\s+[*!])?/.exec(
      line,
    );
    if (head) {
      flush();
      if (head[1]) prefix = canonicalPrefix(head[1]);
      const protocol = head[3] ?? '';
      const neighbor = neighborOf(protocol);
      if (!neighbor) continue; // not a BGP path of ours (device, kernel, static)
      current = {
        route: {
          prefix,
          neighbor,
          nextHop: '',
          asPath: [],
          communities: [],
          largeCommunities: [],
          best: (head[4] ?? '').trim() === '*',
          stale: staleProtocols.has(protocol),
        },
      };
      continue;
    }
    if (!current) continue;
    const attr = /^\s+BGP\.(\w+):\s*(.*)$/.exec(line);
    if (!attr) continue;
    const [, name, value = ''] = attr;
    const route = current.route;
    switch (name) {
      case 'as_path':
        route.asPath = (value.match(/\d+/g) ?? []).map(Number);
        break;
      case 'next_hop': {
        const first = value.trim().split(/\s+/)[0] ?? '';
        route.nextHop = isIP(first) ? canonicalAddress(first) : first;
        const second = value.trim().split(/\s+/)[1];
        if (second !== undefined && isIP(second) === 6 && second.toLowerCase().startsWith('fe80:'))
          route.linkLocalNextHop = canonicalAddress(second);
        break;
      }
      case 'local_pref':
        current.localPref = Number(value);
        break;
      case 'med':
        route.med = Number(value);
        break;
      case 'community':
        route.communities = [...value.matchAll(/\((\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}`);
        break;
      case 'large_community':
        route.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map(
          (m) => `${m[1]}:${m[2]}:${m[3]}`,
        );
        break;
      default:
        break;
    }
  }
  flush();
  return routes;
}

export function birdRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
  const config = join(dir, 'bird.conf');
  const socket = join(dir, 'bird.ctl');
  const pidFile = join(dir, 'bird.pid');
  checkSocketPath(socket);
  writeFileSync(config, birdConfig(o, p));
  const birdc = (...args: string[]): string[] => ['birdc', '-s', socket, ...args];
  const byProtocol = new Map(p.neighbors.map((n, i) => [birdProtocol(i), n]));
  const d = daemons(o, dir, [
    {
      name: 'bird',
      command: 'bird',
      args: ['-f', '-c', config, '-s', socket, '-P', pidFile],
      stale: [socket, pidFile],
      check: async () => {
        await cli(['bird', '-p', '-c', config]);
      },
      ready: async () =>
        existsSync(socket) &&
        (await execIn(undefined, birdc('show', 'status'), CLI_TIMEOUT_MS)).stdout.includes('up and running'),
    },
  ]);
  const protocolStates = async (): Promise<Map<string, string>> => {
    const states = new Map<string, string>();
    for (const line of (await cli(birdc('show', 'protocols'))).split('\n')) {
      const m = /^(\S+)\s+BGP\s+\S+\s+\S+\s+\S+\s+(\S+)/.exec(line);
      if (m?.[1] && m[2]) states.set(m[1], m[2]);
    }
    return states;
  };
  return {
    daemons: d,
    api: {
      async bfdSessions() {
        // "198.51.100.11   eth0   Up   12:00:00.000   0.100   0.300" under a "bfd1:" header
        const sessions: Record<string, string> = {};
        for (const line of (await cli(birdc('show', 'bfd', 'sessions'))).split('\n')) {
          const m = /^(\S+)\s+\S+\s+(Up|Down|Init|AdminDown)\s/.exec(line);
          if (m?.[1] && m[2] && isIP(m[1])) sessions[canonicalAddress(m[1])] = m[2];
        }
        return sessions;
      },
      async established() {
        const states = await protocolStates();
        return [...states]
          .filter(([, state]) => state === 'Established')
          .map(([name]) => byProtocol.get(name)?.address ?? name);
      },
      async routes(family) {
        const [details, table] = await Promise.all([
          o.gracefulRestart ? cli(birdc('show', 'protocols', 'all')) : Promise.resolve(''),
          cli(birdc('show', 'route', 'table', family === 4 ? 'master4' : 'master6', 'all')),
        ]);
        const stale = new Set<string>();
        let protocol = '';
        for (const line of details.split('\n')) {
          const name = /^(\S+)\s+BGP\s/.exec(line);
          if (name?.[1]) protocol = name[1];
          else if (protocol && line.includes('Neighbor graceful restart active')) stale.add(protocol);
        }
        return parseBirdRoutes(
          table,
          (name) => byProtocol.get(name)?.address,
          (neighbor) => p.neighbors.some((n) => n.address === neighbor && n.ibgp),
          stale,
        );
      },
    },
  };
}
