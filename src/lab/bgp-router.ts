// A real BGP daemon as the upstream router of the test bed: gobgpd, BIRD 2 or FRR (zebra + bgpd) inside the
// router namespace, configured from one description (neighbors, ASN, MD5, graceful-restart helper), and read
// back through one interface (sessions, received paths, kernel next hops), so the same e2e tests run against
// each. The daemons only accept routes (no export to peers). Recipes and traps: /work/shared/BGP-PEERS.md.
//
// What differs per daemon, normalised here:
// - communities are "asn:value" strings, well-known ones as numbers too ("65535:65281" for NO_EXPORT: FRR
//   prints names, BIRD pairs, gobgpd 32-bit numbers); communities and large communities are sorted.
// - localPref is reported for iBGP paths only (BIRD fills in its default 100 on eBGP paths, the others don't).
// - stale: gobgpd and FRR flag each path; BIRD has no per-route flag in `show route`, so a path counts as stale
//   while its protocol shows "Neighbor graceful restart active".
// - kernelNextHops is [] for gobgpd (no zebra, nothing reaches the kernel).
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { startProcess, type ManagedProcess } from './managed-process.ts';
import { execIn, mustExecIn } from './netns.ts';
import type { Run } from './run-registry.ts';
import { waitUntil } from './wait-until.ts';

export type RouterKind = 'gobgpd' | 'bird' | 'frr';

export interface RouterNeighbor {
  /** IPv4 or IPv6 address of the peer (the transport of the session). */
  address: string;
  /** Peer AS; equal to the router's own AS means iBGP. */
  asn: number;
  /** TCP MD5 (RFC 2385) password; printable ASCII without spaces or quotes. */
  password?: string;
  /** The router's interface towards a link-local (fe80::) neighbor address (BIRD and FRR). */
  interface?: string;
  /** Run BFD (RFC 5880/5881, single hop) with this neighbor and tear the BGP session down when it goes down
   *  (needs RouterOptions.bfd; BIRD: `bfd on`, FRR: `neighbor X bfd profile`; gobgpd has no BFD). */
  bfd?: boolean;
}

/** The router's BFD timers for neighbors with `bfd: true` (the same both ways). */
export interface RouterBfd {
  intervalMs: number;
  multiplier: number;
}

export interface RouterOptions {
  kind: RouterKind;
  /** The router network namespace. */
  ns: string;
  /** Run dir for configs, sockets, logs (a subdirectory per daemon is made in it; keep it short: unix sockets). */
  dir: string;
  run: Run;
  asn: number;
  routerId: string;
  neighbors: RouterNeighbor[];
  /** Graceful restart helper (receiving speaker): paths of a peer whose session drops without a NOTIFICATION
   *  are kept (stale) for the restart time the peer advertised. Off: graceful restart disabled altogether. */
  gracefulRestart?: boolean;
  bfd?: RouterBfd;
}

export interface RouterRoute {
  /** "198.51.100.64/32", "2001:db8:a::100/128" (canonical form). */
  prefix: string;
  /** The neighbor address the path came from, as configured. */
  neighbor: string;
  /** BGP next hop (the global one for IPv6). */
  nextHop: string;
  /** The link-local IPv6 next hop sent with the global one (RFC 2545), when there is one (BIRD and FRR). */
  linkLocalNextHop?: string;
  /** AS numbers of the AS_PATH, sets flattened in order. */
  asPath: number[];
  /** LOCAL_PREF, iBGP paths only. */
  localPref?: number;
  med?: number;
  /** "65000:100"; well-known ones as numbers: "65535:65281" (NO_EXPORT). Sorted. */
  communities: string[];
  /** "65000:1:2". Sorted. */
  largeCommunities: string[];
  /** The daemon's best path for the prefix. */
  best: boolean;
  /** Kept by the graceful-restart helper after the session dropped, not refreshed yet. */
  stale?: boolean;
}

export interface BgpRouter {
  readonly kind: RouterKind;
  /** False for gobgpd: it has no FIB; kernelNextHops is then always []. */
  readonly installsKernelRoutes: boolean;
  /** The daemon's run directory (configs, sockets, logs). */
  readonly dir: string;
  /** Neighbor addresses whose session is Established, sorted. */
  established(): Promise<string[]>;
  /** Every path received from every neighbor for the family (Adj-RIB-In after import policy, i.e. accept all). */
  routes(family: 4 | 6): Promise<RouterRoute[]>;
  /** Gateways of the kernel route for `prefix` in the router namespace (main table), sorted; [] for gobgpd. */
  kernelNextHops(prefix: string): Promise<string[]>;
  /** Stops the daemons and starts them again with the same configuration. */
  restart(): Promise<void>;
  /** Clean stop (SIGTERM, then SIGKILL after a bounded wait), idempotent; removes the daemon's kernel leftovers. */
  stop(): Promise<void>;
  /** The last lines of each daemon's log, for failure messages. */
  logs(lines?: number): string;
  /** BFD session state per neighbor address ('Up', 'Down', 'Init', 'AdminDown'); {} without BFD or on gobgpd. */
  bfdSessions(): Promise<Record<string, string>>;
}

const STOP_GRACE_MS = 3000;
const READY_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 5000;
/** sun_path is 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH = 107;

/** Canonical text of an IPv4 or IPv6 address (lower case, compressed IPv6); throws on anything else. */
export function canonicalAddress(address: string): string {
  const family = isIP(address);
  if (family === 4) return address;
  if (family === 6) return new URL(`http://[${address}]/`).hostname.slice(1, -1);
  throw new Error(`not an IP address: ${JSON.stringify(address)}`);
}

/** Canonical "address/length"; a bare address gets its host length. */
export function canonicalPrefix(prefix: string): string {
  const [address = '', length] = prefix.split('/');
  const canonical = canonicalAddress(address);
  return `${canonical}/${length ?? (isIP(canonical) === 4 ? '32' : '128')}`;
}

const compareStrings = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const compareNumbered = (a: string, b: string): number => {
  const na = a.split(':').map(Number);
  const nb = b.split(':').map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? 0) - (nb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
};

const communityOf = (value: number): string => `${Math.floor(value / 65536)}:${value % 65536}`;

/** FRR's names for well-known communities (JSON list and text forms), as numbers. */
const WELL_KNOWN: Record<string, number> = {
  internet: 0,
  gracefulshutdown: 0xffff0000,
  'graceful-shutdown': 0xffff0000,
  acceptown: 0xffff0001,
  'accept-own': 0xffff0001,
  routefiltertranslatedv4: 0xffff0002,
  'route-filter-translated-v4': 0xffff0002,
  routefilterv4: 0xffff0003,
  'route-filter-v4': 0xffff0003,
  routefiltertranslatedv6: 0xffff0004,
  'route-filter-translated-v6': 0xffff0004,
  routefilterv6: 0xffff0005,
  'route-filter-v6': 0xffff0005,
  llgrstale: 0xffff0006,
  'llgr-stale': 0xffff0006,
  nollgr: 0xffff0007,
  'no-llgr': 0xffff0007,
  acceptownnexthop: 0xffff0008,
  'accept-own-nexthop': 0xffff0008,
  blackhole: 0xffff029a,
  noexport: 0xffffff01,
  'no-export': 0xffffff01,
  noadvertise: 0xffffff02,
  'no-advertise': 0xffffff02,
  localas: 0xffffff03,
  'local-as': 0xffffff03,
  'no-export-subconfed': 0xffffff03,
  nopeer: 0xffffff04,
  'no-peer': 0xffffff04,
};

function normaliseCommunity(text: string): string {
  if (/^\d+:\d+$/.test(text)) return text;
  const known = WELL_KNOWN[text.toLowerCase()];
  if (known === undefined) throw new Error(`unknown community ${JSON.stringify(text)}`);
  return communityOf(known);
}

interface Prepared {
  neighbors: Array<RouterNeighbor & { ibgp: boolean; v6: boolean }>;
}

function prepare(o: RouterOptions): Prepared {
  if (isIP(o.routerId) !== 4) throw new Error(`routerId must be an IPv4 address: ${o.routerId}`);
  if (!Number.isInteger(o.asn) || o.asn < 1 || o.asn > 0xffffffff) throw new Error(`bad ASN ${o.asn}`);
  if (o.neighbors.length === 0) throw new Error('no neighbors');
  if (o.neighbors.some((n) => n.bfd) && (o.bfd === undefined || o.kind === 'gobgpd')) {
    throw new Error(o.kind === 'gobgpd' ? 'gobgpd has no BFD' : 'neighbors with bfd need RouterOptions.bfd (intervals)');
  }
  if (o.bfd && (!Number.isInteger(o.bfd.intervalMs) || o.bfd.intervalMs < 10 || !Number.isInteger(o.bfd.multiplier) || o.bfd.multiplier < 1)) {
    throw new Error(`bad BFD timers ${JSON.stringify(o.bfd)}`);
  }
  const seen = new Set<string>();
  const neighbors = o.neighbors.map((n) => {
    const address = canonicalAddress(n.address);
    if (seen.has(address)) throw new Error(`neighbor ${address} listed twice`);
    seen.add(address);
    if (!Number.isInteger(n.asn) || n.asn < 1 || n.asn > 0xffffffff) throw new Error(`bad ASN ${n.asn} for ${address}`);
    if (n.interface !== undefined && o.kind === 'gobgpd') throw new Error(`link-local neighbor ${address}: the gobgpd harness has no interface neighbors`);
    if (n.interface !== undefined && !/^[\w.-]{1,15}$/.test(n.interface)) throw new Error(`bad interface name ${JSON.stringify(n.interface)}`);
    if (n.password !== undefined && !/^[!#-[\]-~]{1,80}$/.test(n.password)) {
      throw new Error(`password for ${address}: printable ASCII without spaces, quotes or backslashes, 1-80 chars`);
    }
    return { ...n, address, ibgp: n.asn === o.asn, v6: isIP(address) === 6 };
  });
  return { neighbors };
}

function checkSocketPath(path: string): void {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH) {
    throw new Error(`unix socket path too long (${Buffer.byteLength(path)} > ${MAX_SOCKET_PATH} bytes): ${path}; use a shorter dir`);
  }
}

/** Runs a CLI (in the current namespace: the daemons' control sockets are files), throws with its stderr. */
async function cli(argv: readonly string[], timeoutMs = CLI_TIMEOUT_MS): Promise<string> {
  return mustExecIn(undefined, argv, timeoutMs);
}

/** One daemon process: started in the router namespace, recorded for sweeping, stopped with a bounded wait. */
interface DaemonSpec {
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

interface Daemons {
  start(): Promise<void>;
  stop(): Promise<void>;
  running(): boolean;
  logs(lines: number): string;
}

function daemons(o: RouterOptions, dir: string, specs: readonly DaemonSpec[]): Daemons {
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
    return readFileSync(file, 'utf8').split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '';
  }
}

async function kernelNextHopsIn(ns: string, prefix: string): Promise<string[]> {
  const p = canonicalPrefix(prefix);
  const family = isIP(p.split('/')[0] ?? '') === 6 ? '-6' : '-4';
  const out = await mustExecIn(ns, ['ip', '-j', family, 'route', 'show', 'table', 'main', 'exact', p]);
  const routes = JSON.parse(out || '[]') as Array<{ gateway?: string; nexthops?: Array<{ gateway?: string }> }>;
  const hops = routes.flatMap((r) => [r.gateway, ...(r.nexthops ?? []).map((h) => h.gateway)]);
  return hops
    .filter((h): h is string => typeof h === 'string')
    .map(canonicalAddress)
    .sort(compareStrings);
}

/** Removes kernel routes (and FRR's nexthop objects) a killed daemon may have left; bounded, best effort. */
async function flushKernel(ns: string, proto: string, nexthops: boolean): Promise<void> {
  for (const family of ['-4', '-6']) await execIn(ns, ['ip', family, 'route', 'flush', 'proto', proto], 5000);
  // iproute2 6.1 rejects `proto zebra` for nexthops; 11 is RTPROT_ZEBRA.
  if (nexthops) await execIn(ns, ['ip', 'nexthop', 'flush', 'proto', '11'], 5000);
}

const tomlString = (s: string): string => JSON.stringify(s);

// ---------------------------------------------------------------------------------------------------------
// gobgpd

interface GobgpPath {
  nlri?: { prefix?: string };
  best?: boolean;
  stale?: boolean;
  'neighbor-ip'?: string;
  attrs?: Array<{
    type: number;
    value?: unknown;
    metric?: number;
    nexthop?: string;
    as_paths?: Array<{ asns?: number[] }>;
    communities?: number[];
  }>;
}

function gobgpRoutes(json: string, family: 4 | 6, localAsn: number, asnOf: Map<string, number>): RouterRoute[] {
  const table = JSON.parse(json || '{}') as Record<string, GobgpPath[] | undefined>;
  const routes: RouterRoute[] = [];
  for (const [key, paths] of Object.entries(table)) {
    for (const path of paths ?? []) {
      const prefix = canonicalPrefix(path.nlri?.prefix ?? key);
      const neighborIp = path['neighbor-ip'];
      if (!neighborIp || neighborIp === '<nil>' || isIP(neighborIp) === 0) continue; // locally originated
      const neighbor = canonicalAddress(neighborIp);
      let nextHop = '';
      let asPath: number[] = [];
      let localPref: number | undefined;
      let med: number | undefined;
      let communities: string[] = [];
      let largeCommunities: string[] = [];
      for (const attr of path.attrs ?? []) {
        switch (attr.type) {
          case 2:
            asPath = (attr.as_paths ?? []).flatMap((s) => s.asns ?? []);
            break;
          case 3:
            if (family === 4 || !nextHop) nextHop = attr.nexthop ?? nextHop;
            break;
          case 14:
            nextHop = attr.nexthop ?? nextHop;
            break;
          case 4:
            med = typeof attr.metric === 'number' ? attr.metric : Number(attr.value);
            break;
          case 5:
            localPref = Number(attr.value);
            break;
          case 8:
            communities = (attr.communities ?? []).map(communityOf);
            break;
          case 32:
            largeCommunities = ((attr.value ?? []) as Array<{ ASN: number; LocalData1: number; LocalData2: number }>).map(
              (c) => `${c.ASN}:${c.LocalData1}:${c.LocalData2}`,
            );
            break;
          default:
            break;
        }
      }
      const ibgp = asnOf.get(neighbor) === localAsn;
      routes.push({
        prefix,
        neighbor,
        nextHop: nextHop && isIP(nextHop) ? canonicalAddress(nextHop) : nextHop,
        asPath,
        ...(ibgp && localPref !== undefined ? { localPref } : {}),
        ...(med !== undefined ? { med } : {}),
        communities: communities.sort(compareNumbered),
        largeCommunities: largeCommunities.sort(compareNumbered),
        best: path.best === true,
        stale: path.stale === true,
      });
    }
  }
  return routes;
}

function gobgpConfig(o: RouterOptions, p: Prepared): string {
  const lines = ['[global.config]', `as = ${o.asn}`, `router-id = ${tomlString(o.routerId)}`, ''];
  for (const n of p.neighbors) {
    lines.push('[[neighbors]]', '[neighbors.config]', `neighbor-address = ${tomlString(n.address)}`, `peer-as = ${n.asn}`);
    if (n.password !== undefined) lines.push(`auth-password = ${tomlString(n.password)}`);
    // connect-retry is clamped to 5 s by gobgpd 3.x and its first connect comes after a random 5-10 s anyway;
    // idle-hold-time-after-reset only applies after an administrative reset.
    lines.push('[neighbors.timers.config]', 'connect-retry = 1', 'idle-hold-time-after-reset = 1');
    if (o.gracefulRestart) lines.push('[neighbors.graceful-restart.config]', 'enabled = true', 'helper-only = true');
    for (const afi of ['ipv4-unicast', 'ipv6-unicast']) {
      lines.push('[[neighbors.afi-safis]]', '[neighbors.afi-safis.config]', `afi-safi-name = ${tomlString(afi)}`);
      if (o.gracefulRestart) lines.push('[neighbors.afi-safis.mp-graceful-restart.config]', 'enabled = true');
    }
    lines.push('');
  }
  return lines.join('\n');
}

function gobgpRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
  const config = join(dir, 'gobgpd.toml');
  const socket = join(dir, 'gobgpd.sock');
  checkSocketPath(socket);
  writeFileSync(config, gobgpConfig(o, p));
  const g = (...args: string[]): string[] => ['gobgp', '--target', `unix://${socket}`, ...args];
  const asnOf = new Map(p.neighbors.map((n) => [n.address, n.asn]));
  const d = daemons(o, dir, [
    {
      name: 'gobgpd',
      command: 'gobgpd',
      args: ['-f', config, '-p', '-l', 'info', '--pprof-disable', `--api-hosts=unix://${socket}`],
      // gobgpd does not remove the socket of a killed predecessor: bind fails with "address already in use".
      stale: [socket],
      check: async () => {
        await cli(['gobgpd', '-d', '-f', config]);
      },
      ready: async () => existsSync(socket) && (await execIn(undefined, g('global', '-j'), CLI_TIMEOUT_MS)).code === 0,
    },
  ]);
  return {
    daemons: d,
    api: {
      async established() {
        const peers = JSON.parse((await cli(g('neighbor', '-j'))) || '[]') as Array<{
          conf?: { neighbor_address?: string };
          state?: { neighbor_address?: string; session_state?: number | string };
        }>;
        return peers
          .filter((peer) => {
            const s = peer.state?.session_state;
            return s === 6 || (typeof s === 'string' && s.toLowerCase() === 'established');
          })
          .map((peer) => canonicalAddress(peer.state?.neighbor_address ?? peer.conf?.neighbor_address ?? ''));
      },
      async routes(family) {
        return gobgpRoutes(await cli(g('global', 'rib', '-a', family === 4 ? 'ipv4' : 'ipv6', '-j')), family, o.asn, asnOf);
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------
// BIRD 2

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
    lines.push(`protocol bfd { interface "*" { min rx interval ${ms} ms; min tx interval ${ms} ms; idle tx interval 1000 ms; multiplier ${o.bfd.multiplier}; }; }`);
  }
  p.neighbors.forEach((n, i) => {
    const opts = [`neighbor ${n.address} as ${n.asn};`];
    if (n.bfd) opts.push('bfd on;');
    // BIRD treats iBGP as multihop (recursive next hops, which need an IGP table); the lab's iBGP peers are on
    // the segment, so say so: next hops then resolve directly like eBGP ones.
    if (n.ibgp) opts.push('direct;');
    if (n.interface !== undefined) opts.push(`interface "${n.interface}";`);
    if (n.password !== undefined) opts.push(`password "${n.password}";`);
    lines.push(`protocol bgp ${birdProtocol(i)} from peer { ${opts.join(' ')} }`);
  });
  return `${lines.join('\n')}\n`;
}

const birdProtocol = (index: number): string => `peer${index}`;

/** Parses `birdc show route all` (BIRD 2.0): one block per prefix, one sub-block per path. */
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
    const head = /^(\S+)?\s+(unicast|unreachable|blackhole|prohibit|multipath)\s+\[(\S+)\s[^\]]*\](\s+[*!])?/.exec(line);
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
        if (second !== undefined && isIP(second) === 6 && second.toLowerCase().startsWith('fe80:')) route.linkLocalNextHop = canonicalAddress(second);
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
        route.largeCommunities = [...value.matchAll(/\((\d+),\s*(\d+),\s*(\d+)\)/g)].map((m) => `${m[1]}:${m[2]}:${m[3]}`);
        break;
      default:
        break;
    }
  }
  flush();
  return routes;
}

function birdRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
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
      ready: async () => existsSync(socket) && (await execIn(undefined, birdc('show', 'status'), CLI_TIMEOUT_MS)).stdout.includes('up and running'),
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
        return [...states].filter(([, state]) => state === 'Established').map(([name]) => byProtocol.get(name)?.address ?? name);
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

// ---------------------------------------------------------------------------------------------------------
// FRR 8.4 (zebra + bgpd, explicit paths only: several instances never clash)

/** bfdd's own file (bgpd would reject the bfd node): the profile the neighbors with bfd use. */
function frrBfdConfig(bfd: RouterBfd): string {
  const ms = bfd.intervalMs;
  return ['bfd', ' profile lab', `  receive-interval ${ms}`, `  transmit-interval ${ms}`, `  detect-multiplier ${bfd.multiplier}`, ' exit', 'exit', ''].join('\n');
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
    lines.push(` neighbor ${n.address} remote-as ${n.asn}`);
    if (n.interface !== undefined) lines.push(` neighbor ${n.address} interface ${n.interface}`);
    if (n.password !== undefined) lines.push(` neighbor ${n.address} password ${n.password}`);
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
      throw new Error(`FRR runs as user frr and cannot reach ${dir}: ${d} is not traversable (mode ${(mode & 0o777).toString(8)})`);
    }
    chmodSync(d, (mode & 0o7777) | 0o001); // traverse only, no listing
  }
}

function frrRouter(o: RouterOptions, p: Prepared, dir: string): { daemons: Daemons; api: RouterApi } {
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
        const checkArgs = ['-C', '-Z', '-p', '0', '-P', '0', '-z', zserv, '--vty_socket', dir, '-i', join(dir, 'bgpd-check.pid')];
        const res = await execIn(o.ns, ['/usr/lib/frr/bgpd', ...checkArgs, '-f', config, '--log', 'stdout'], CLI_TIMEOUT_MS);
        const output = `${res.stdout}\n${res.stderr}`;
        if (res.code !== 0 || /config line \d+|^% /m.test(output)) throw new Error(`FRR rejected ${config}:\n${output.trim()}`);
      },
      ready: async () =>
        existsSync(join(dir, 'bgpd.vty')) && (await execIn(undefined, vtysh('show bgp summary json'), CLI_TIMEOUT_MS)).code === 0,
    },
  ]);
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
            if (peer.state === 'Established' && isIP(address)) up.add(canonicalAddress(address));
          }
        }
        return [...up];
      },
      async routes(family) {
        return parseFrrRoutes(await cli(vtysh(`show bgp ${family === 4 ? 'ipv4' : 'ipv6'} unicast json detail`), 10_000));
      },
      async bfdSessions() {
        const peers = JSON.parse((await cli(vtysh('show bfd peers json'))) || '[]') as Array<{ peer?: string; status?: string }>;
        const names: Record<string, string> = { up: 'Up', down: 'Down', init: 'Init', shutdown: 'AdminDown' };
        const sessions: Record<string, string> = {};
        for (const peer of peers) if (peer.peer && isIP(peer.peer)) sessions[canonicalAddress(peer.peer)] = names[peer.status ?? ''] ?? peer.status ?? '';
        return sessions;
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------------------

interface RouterApi {
  established(): Promise<string[]>;
  routes(family: 4 | 6): Promise<RouterRoute[]>;
  bfdSessions?(): Promise<Record<string, string>>;
}

const KERNEL_PROTO: Record<RouterKind, string | undefined> = { gobgpd: undefined, bird: 'bird', frr: 'bgp' };

/** Starts the daemon(s) in `o.ns` and resolves once they answer on their control sockets (not once sessions are up). */
export async function startBgpRouter(o: RouterOptions): Promise<BgpRouter> {
  const prepared = prepare(o);
  const dir = join(o.dir, `bgp-${o.kind}`);
  mkdirSync(dir, { recursive: true });
  const { daemons: d, api } =
    o.kind === 'gobgpd' ? gobgpRouter(o, prepared, dir) : o.kind === 'bird' ? birdRouter(o, prepared, dir) : frrRouter(o, prepared, dir);
  const proto = KERNEL_PROTO[o.kind];
  const stopAndClean = async (): Promise<void> => {
    await d.stop();
    if (proto) await flushKernel(o.ns, proto, o.kind === 'frr');
  };
  // Leftovers of an earlier instance in this namespace (FRR nexthop objects make the next zebra complain).
  if (proto) await flushKernel(o.ns, proto, o.kind === 'frr');
  await d.start();
  let stopped = false;
  return {
    kind: o.kind,
    installsKernelRoutes: proto !== undefined,
    dir,
    established: async () => (await api.established()).sort(compareStrings),
    routes: async (family) =>
      (await api.routes(family)).sort(
        (a, b) => compareStrings(a.prefix, b.prefix) || compareStrings(a.neighbor, b.neighbor),
      ),
    kernelNextHops: async (prefix) => (proto ? kernelNextHopsIn(o.ns, prefix) : []),
    async restart() {
      if (stopped) throw new Error(`${o.kind} router was stopped`);
      await stopAndClean();
      await d.start();
    },
    async stop() {
      if (stopped && !d.running()) return;
      stopped = true;
      await stopAndClean();
    },
    logs: (lines = 30) => d.logs(lines),
    bfdSessions: async () => (o.bfd && api.bfdSessions ? api.bfdSessions() : {}),
  };
}
