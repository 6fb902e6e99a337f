// FRR 8.4 as the test bed's router: zebra + bgpd with explicit paths only (several instances never clash),
// `vtysh` JSON for sessions, routes and BFD. frrRouter (~110 lines) is the adapter in one piece, as the other two:
// its files and user, the zebra and bgpd processes, and the three queries.

import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { execIn } from '../netns.ts';
import type { RouterBfd, RouterOptions, RouterRoute } from '../bgp-router.ts';
import { canonicalAddress, canonicalPrefix, compareNumbered, normaliseCommunity } from './route-text.ts';
import type { Prepared } from './prepared-options.ts';
import { CLI_TIMEOUT_MS, checkSocketPath, cli, daemons, type Daemons, type RouterApi } from './daemon-set.ts';

function frrBfdConfig(bfd: RouterBfd): string {
  const ms = bfd.intervalMs;
  return [
    'bfd',
    ' profile lab',
    `  receive-interval ${ms}`,
    `  transmit-interval ${ms}`,
    `  detect-multiplier ${bfd.multiplier}`,
    ' exit',
    'exit',
    '',
  ].join('\n');
}

function frrConfig(o: RouterOptions, p: Prepared): string {
  const lines = [
    'frr defaults traditional',
    '!',
    `router bgp ${o.asn}`,
    ` bgp router-id ${o.routerId}`,
    // The traditional profile rejects all eBGP routes without a policy (sessions up, pfxRcd 0).
    ' no bgp ebgp-requires-policy',
    ' no bgp default ipv4-unicast',
    ' bgp bestpath as-path multipath-relax',
    // Helper mode is FRR's default; `bgp graceful-restart` would make bgpd a restarting speaker too, which
    // defers best-path selection after its own restart until End-of-RIB from every peer (select-defer-time).
    ...(o.gracefulRestart ? [] : [' bgp graceful-restart-disable']),
  ];
  for (const n of p.neighbors) {
    lines.push(
      n.unnumbered === true
        ? ` neighbor ${n.address} interface remote-as ${n.asn}`
        : ` neighbor ${n.address} remote-as ${n.asn}`,
    );
    if (n.interface !== undefined) lines.push(` neighbor ${n.address} interface ${n.interface}`);
    if (n.password !== undefined) lines.push(` neighbor ${n.address} password ${n.password}`);
    if (n.extendedNextHop === true) lines.push(` neighbor ${n.address} capability extended-nexthop`);
    lines.push(` neighbor ${n.address} timers connect 1`);
    if (n.bfd) lines.push(` neighbor ${n.address} bfd profile lab`);
  }
  for (const afi of ['ipv4', 'ipv6']) {
    lines.push(` address-family ${afi} unicast`, '  maximum-paths 8', '  maximum-paths ibgp 8');
    for (const n of p.neighbors) lines.push(`  neighbor ${n.address} activate`);
    lines.push(' exit-address-family');
  }
  lines.push('exit', '!');
  return `${lines.join('\n')}\n`;
}

interface FrrPath {
  prefix?: string;
  aspath?: { segments?: Array<{ list?: number[] }> };
  locPrf?: number;
  metric?: number;
  stale?: boolean;
  bestpath?: { overall?: boolean };
  community?: { list?: string[] };
  largeCommunity?: { list?: string[] };
  nexthops?: Array<{ ip?: string; scope?: string }>;
  peer?: { peerId?: string; type?: string };
}

/** Parses `show bgp ipv4|ipv6 unicast json detail` (FRR 8.4): routes[prefix] = [header, ...paths]. */
export function parseFrrRoutes(json: string): RouterRoute[] {
  const data = JSON.parse(json || '{}') as { routes?: Record<string, FrrPath[] | undefined> };
  const routes: RouterRoute[] = [];
  for (const [key, entries] of Object.entries(data.routes ?? {})) {
    const prefix = canonicalPrefix(key);
    for (const path of entries ?? []) {
      const peerId = path.peer?.peerId;
      if (!peerId || isIP(peerId) === 0) continue; // the prefix header, or a local route
      const hops = path.nexthops ?? [];
      const hop = hops.find((h) => h.scope === 'global') ?? hops[0];
      const linkLocal = hops.find((h) => h.scope === 'link-local' && h.ip !== undefined && isIP(h.ip) === 6)?.ip;
      const ibgp = path.peer?.type === 'internal';
      routes.push({
        prefix,
        neighbor: canonicalAddress(peerId),
        nextHop: hop?.ip && isIP(hop.ip) ? canonicalAddress(hop.ip) : (hop?.ip ?? ''),
        ...(linkLocal === undefined ? {} : { linkLocalNextHop: canonicalAddress(linkLocal) }),
        asPath: (path.aspath?.segments ?? []).flatMap((s) => s.list ?? []),
        ...(ibgp && path.locPrf !== undefined ? { localPref: path.locPrf } : {}),
        ...(path.metric !== undefined ? { med: path.metric } : {}),
        communities: (path.community?.list ?? []).map(normaliseCommunity).sort(compareNumbered),
        largeCommunities: [...(path.largeCommunity?.list ?? [])].sort(compareNumbered),
        best: path.bestpath?.overall === true,
        stale: path.stale === true,
      });
    }
  }
  return routes;
}

function frrUser(): { uid: number; gid: number } {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('frr:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  if (!uid || !gid) throw new Error('user frr not found (apt-get install frr)');
  return { uid: Number(uid), gid: Number(gid) };
}

/** bgpd and zebra drop to user frr: every directory above the run dir must be traversable by it. */
function ensureTraversable(dir: string): void {
  const tmp = resolve(tmpdir());
  for (let d = dirname(resolve(dir)); d !== dirname(d); d = dirname(d)) {
    const mode = statSync(d).mode;
    if (mode & 0o001) continue;
    if (d === tmp || !d.startsWith(`${tmp}/`)) {
      throw new Error(
        `FRR runs as user frr and cannot reach ${dir}: ${d} is not traversable (mode ${(mode & 0o777).toString(8)})`,
      );
    }
    chmodSync(d, (mode & 0o7777) | 0o001); // traverse only, no listing
  }
}

export function frrRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
  const { uid, gid } = frrUser();
  ensureTraversable(dir);
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o755);
  const config = join(dir, 'frr.conf');
  writeFileSync(config, frrConfig(o, p), { mode: 0o640 });
  chownSync(config, uid, gid); // bgpd reads it after dropping to frr; unreadable = silently empty config
  const bfdConfig = join(dir, 'bfdd.conf');
  if (o.bfd) {
    writeFileSync(bfdConfig, frrBfdConfig(o.bfd), { mode: 0o640 });
    chownSync(bfdConfig, uid, gid);
  }
  const zserv = join(dir, 'zserv.api');
  for (const socket of [zserv, join(dir, 'bgpd.vty'), join(dir, 'zebra.vty')]) checkSocketPath(socket);
  const common = ['-P', '0', '-z', zserv, '--vty_socket', dir, '--log', 'stdout'];
  const vtysh = (command: string): string[] => ['vtysh', '--vty_socket', dir, '-c', command];
  const d = daemons(o, dir, [
    {
      name: 'zebra',
      command: '/usr/lib/frr/zebra',
      args: [...common, '-i', join(dir, 'zebra.pid'), '-f', '/dev/null'],
      stale: [zserv, join(dir, 'zebra.vty'), join(dir, 'zebra.pid')],
      ready: () => Promise.resolve(existsSync(zserv) && existsSync(join(dir, 'zebra.vty'))),
    },
    ...(o.bfd
      ? [
          {
            name: 'bfdd',
            command: '/usr/lib/frr/bfdd',
            args: [...common, '-i', join(dir, 'bfdd.pid'), '-f', bfdConfig],
            stale: [join(dir, 'bfdd.vty'), join(dir, 'bfdd.pid')],
            ready: () => Promise.resolve(existsSync(join(dir, 'bfdd.vty'))),
          },
        ]
      : []),
    {
      name: 'bgpd',
      command: '/usr/lib/frr/bgpd',
      args: [...common, '-i', join(dir, 'bgpd.pid'), '-f', config],
      stale: [join(dir, 'bgpd.vty'), join(dir, 'bgpd.pid')],
      // bgpd skips configuration lines it does not know (logging them) and runs on: dry-run it first, inside the
      // router namespace, without zebra and without listening.
      check: async () => {
        const checkArgs = [
          '-C',
          '-Z',
          '-p',
          '0',
          '-P',
          '0',
          '-z',
          zserv,
          '--vty_socket',
          dir,
          '-i',
          join(dir, 'bgpd-check.pid'),
        ];
        const res = await execIn(
          o.ns,
          ['/usr/lib/frr/bgpd', ...checkArgs, '-f', config, '--log', 'stdout'],
          CLI_TIMEOUT_MS,
        );
        const output = `${res.stdout}\n${res.stderr}`;
        if (res.code !== 0 || /config line \d+|^% /m.test(output))
          throw new Error(`FRR rejected ${config}:\n${output.trim()}`);
      },
      ready: async () =>
        existsSync(join(dir, 'bgpd.vty')) &&
        (await execIn(undefined, vtysh('show bgp summary json'), CLI_TIMEOUT_MS)).code === 0,
    },
  ]);
  const unnumbered = new Set(p.neighbors.filter((n) => n.unnumbered === true).map((n) => n.address));
  return {
    daemons: d,
    api: {
      async established() {
        // An IPv6-transport neighbor shows in the ipv6 summary too; peers of either family count.
        const summary = JSON.parse((await cli(vtysh('show bgp summary json'))) || '{}') as Record<
          string,
          { peers?: Record<string, { state?: string }> } | undefined
        >;
        const up = new Set<string>();
        for (const af of Object.values(summary)) {
          for (const [address, peer] of Object.entries(af?.peers ?? {})) {
            if (peer.state !== 'Established') continue;
            if (isIP(address)) up.add(canonicalAddress(address));
            else if (unnumbered.has(address)) up.add(address); // `neighbor IF interface`: named by the interface
          }
        }
        return [...up];
      },
      async routes(family) {
        return parseFrrRoutes(
          await cli(vtysh(`show bgp ${family === 4 ? 'ipv4' : 'ipv6'} unicast json detail`), 10_000),
        );
      },
      async bfdSessions() {
        const peers = JSON.parse((await cli(vtysh('show bfd peers json'))) || '[]') as Array<{
          peer?: string;
          status?: string;
        }>;
        const names: Record<string, string> = { up: 'Up', down: 'Down', init: 'Init', shutdown: 'AdminDown' };
        const sessions: Record<string, string> = {};
        for (const peer of peers)
          if (peer.peer && isIP(peer.peer))
            sessions[canonicalAddress(peer.peer)] = names[peer.status ?? ''] ?? peer.status ?? '';
        return sessions;
      },
    },
  };
}
