// A real BGP daemon as the upstream router of the test bed: gobgpd, BIRD 2 or FRR (zebra + bgpd) inside the
// router namespace, configured from one description (neighbors, ASN, MD5, graceful-restart helper), and read
// back through one interface (sessions, received paths, kernel next hops), so the same e2e tests run against
// each. The daemons only accept routes (no export to peers). Recipes and traps: docs/lab.md.
//
// What differs per daemon, normalised here:
// - communities are "asn:value" strings, well-known ones as numbers too ("65535:65281" for NO_EXPORT: FRR
//   prints names, BIRD pairs, gobgpd 32-bit numbers); communities and large communities are sorted.
// - localPref is reported for iBGP paths only (BIRD fills in its default 100 on eBGP paths, the others don't).
// - stale: gobgpd and FRR flag each path; BIRD has no per-route flag in `show route`, so a path counts as stale
//   while its protocol shows "Neighbor graceful restart active".
// - kernelNextHops is [] for gobgpd (no zebra, nothing reaches the kernel).
//
// One adapter per daemon in bgp-router/ (gobgpd-router.ts, bird-router.ts, frr-router.ts) over the shared
// process handling (daemon-set.ts), option checks (prepared-options.ts) and text normalisation (route-text.ts).

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Run } from './run-registry.ts';
import { compareStrings } from './bgp-router/route-text.ts';
import { prepare } from './bgp-router/prepared-options.ts';
import { flushKernel, kernelNextHopsIn } from './bgp-router/kernel-routes.ts';
import { gobgpRouter } from './bgp-router/gobgpd-router.ts';
import { birdRouter } from './bgp-router/bird-router.ts';
import { frrRouter } from './bgp-router/frr-router.ts';

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
  /**
   * Offer extended next hop (RFC 8950: IPv4 routes with IPv6 next hops) to an IPv6 neighbor (BIRD: `extended next
   * hop on` in its ipv4 channel; FRR: `capability extended-nexthop`, which FRR turns on by itself for link-local
   * neighbors; gobgpd: not in this harness).
   */
  extendedNextHop?: boolean;
  /** FRR only: unnumbered, `neighbor IF interface` (the peer found by its Router Advertisements); address is then
   *  the router's interface name, and established() names the session by it. */
  unnumbered?: boolean;
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

const KERNEL_PROTO: Record<RouterKind, string | undefined> = { gobgpd: undefined, bird: 'bird', frr: 'bgp' };

/** Starts the daemon(s) in `o.ns` and resolves once they answer on their control sockets (not once sessions are up). */
export async function startBgpRouter(o: RouterOptions): Promise<BgpRouter> {
  const prepared = prepare(o);
  const dir = join(o.dir, `bgp-${o.kind}`);
  mkdirSync(dir, { recursive: true });
  const { daemons: d, api } =
    o.kind === 'gobgpd'
      ? gobgpRouter(o, prepared, dir)
      : o.kind === 'bird'
        ? birdRouter(o, prepared, dir)
        : frrRouter(o, prepared, dir);
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
