// The BGP router harness (src/lab/bgp-router.ts) against gobgpd stand-ins for the speaker: gobgpd, BIRD and FRR
// in turn as the router of the test bed learn the same paths (eBGP from node1 with MD5 and node2, iBGP over IPv6
// transport from node3), with next hops, AS paths, MED, local preference, communities and large communities;
// BIRD and FRR install ECMP routes into the router namespace's kernel; restart() brings the sessions back; the
// graceful-restart helper keeps a crashed peer's paths as stale; stop() leaves no process and no route.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  startBgpRouter,
  type BgpRouter,
  type RouterKind,
  type RouterNeighbor,
  type RouterRoute,
} from '../src/lab/bgp-router.ts';
import { startProcess, type ManagedProcess } from '../src/lab/managed-process.ts';
import { execIn, mustExecIn } from '../src/lab/netns.ts';
import { listNamespaces, registerRun, sweepStaleRuns, type Run } from '../src/lab/run-registry.ts';
import { createTestBed, type Host, type TestBed } from '../src/lab/test-bed.ts';
import { waitUntil } from '../src/lab/wait-until.ts';

const ROUTER_AS = 65000;
const NODE_AS = 65001;
const PASSWORD = 's3cret';
// Service-like addresses on segment A that no host of the bed uses.
const V4 = '198.51.100.64/32';
const V4_NO_EXPORT = '198.51.100.65/32';
const V4_IBGP = '198.51.100.66/32';
const V6 = '2001:db8:a::100/128';
const V6_IBGP = '2001:db8:a::102/128';
/** gobgpd peers: the first connect after start or after a Cease comes 5-10 s later (BGP-PEERS.md section 6). */
const SESSION_TIMEOUT_MS = 30_000;

interface StandIn {
  readonly host: Host;
  readonly process: ManagedProcess;
  gobgp(args: readonly string[]): Promise<string>;
}

interface StandInSpec {
  host: Host;
  asn: number;
  /** The router address this stand-in peers with (IPv4 or IPv6 transport). */
  peer: string;
  password?: string;
  gracefulRestart?: boolean;
  /** `gobgp global rib add` argument lists. */
  routes: string[][];
}

/** gobgpd in a node namespace advertising fixed paths (BGP-PEERS.md recipe 2). */
async function startStandIn(run: Run, dir: string, spec: StandInSpec): Promise<StandIn> {
  const name = `standin-${spec.host.role}`;
  const config = join(dir, `${name}.toml`);
  const socket = join(dir, `${name}.sock`);
  const lines = [
    '[global.config]',
    `as = ${spec.asn}`,
    `router-id = "${spec.host.ipv4}"`,
    '[[neighbors]]',
    '[neighbors.config]',
    `neighbor-address = "${spec.peer}"`,
    `peer-as = ${ROUTER_AS}`,
    ...(spec.password ? [`auth-password = "${spec.password}"`] : []),
    ...(spec.gracefulRestart ? ['[neighbors.graceful-restart.config]', 'enabled = true', 'restart-time = 30'] : []),
    ...['ipv4-unicast', 'ipv6-unicast'].flatMap((afi) => [
      '[[neighbors.afi-safis]]',
      '[neighbors.afi-safis.config]',
      `afi-safi-name = "${afi}"`,
      ...(spec.gracefulRestart ? ['[neighbors.afi-safis.mp-graceful-restart.config]', 'enabled = true'] : []),
    ]),
  ];
  writeFileSync(config, `${lines.join('\n')}\n`);
  rmSync(socket, { force: true }); // a SIGKILLed gobgpd leaves its socket: the next bind fails
  const process = startProcess({
    name,
    command: 'gobgpd',
    args: ['-f', config, '-p', '--pprof-disable', `--api-hosts=unix://${socket}`],
    netns: spec.host.ns,
    logFile: join(dir, `${name}.log`),
  });
  run.recordProcess(process.pid);
  const gobgp = (args: readonly string[]): Promise<string> =>
    mustExecIn(undefined, ['gobgp', '--target', `unix://${socket}`, ...args]);
  try {
    await waitUntil(
      `${name} API`,
      async () => {
        if (!process.running()) throw new Error(process.tail());
        return existsSync(socket) &&
          (await execIn(undefined, ['gobgp', '--target', `unix://${socket}`, 'global'])).code === 0
          ? true
          : undefined;
      },
      10_000,
      50,
    );
    for (const route of spec.routes) await gobgp(['global', 'rib', 'add', ...route]);
  } catch (err) {
    await process.stop(1000);
    throw err;
  }
  return { host: spec.host, process, gobgp };
}

function pathsOf(routes: readonly RouterRoute[], prefix: string): RouterRoute[] {
  return routes.filter((r) => r.prefix === prefix);
}

describe("BGP router harness: gobgpd, BIRD and FRR learn the stand-in speakers' paths", () => {
  let run: Run | undefined;
  let dir = '';
  let bed: TestBed | undefined;
  const standIns = new Map<string, StandIn>();
  let router: BgpRouter | undefined;
  let standInSpecs: StandInSpec[] = [];
  let neighbors: RouterNeighbor[] = [];
  const timings: string[] = [];

  before(async () => {
    sweepStaleRuns();
    run = registerRun();
    dir = mkdtempSync(join(tmpdir(), `blb-${run.id}-`));
    bed = await createTestBed({ run, nodes: 3 });
    const [node1, node2, node3] = bed.nodes as [Host, Host, Host];
    const r = bed.router;
    const common = ['community', '65000:100', 'large-community', '65000:1:2'];
    standInSpecs = [
      {
        host: node1,
        asn: NODE_AS,
        peer: r.ipv4,
        password: PASSWORD,
        gracefulRestart: true,
        routes: [
          ['-a', 'ipv4', V4, 'med', '10', ...common],
          ['-a', 'ipv6', V6, 'nexthop', node1.ipv6, 'med', '10', ...common], // explicit v6 next hop: G1
        ],
      },
      {
        host: node2,
        asn: NODE_AS,
        peer: r.ipv4,
        routes: [
          ['-a', 'ipv4', V4, 'med', '10', ...common],
          ['-a', 'ipv6', V6, 'nexthop', node2.ipv6, 'med', '10', ...common],
          ['-a', 'ipv4', V4_NO_EXPORT, 'community', 'no-export,65000:7'],
        ],
      },
      {
        // iBGP over IPv6 transport, both families, explicit next hops.
        host: node3,
        asn: ROUTER_AS,
        peer: r.ipv6,
        routes: [
          ['-a', 'ipv4', V4_IBGP, 'nexthop', node3.ipv4, 'local-pref', '200', ...common],
          ['-a', 'ipv6', V6_IBGP, 'nexthop', node3.ipv6, 'local-pref', '200', ...common],
        ],
      },
    ];
    for (const spec of standInSpecs) standIns.set(spec.host.role, await startStandIn(run, dir, spec));
    neighbors = [
      { address: node1.ipv4, asn: NODE_AS, password: PASSWORD },
      { address: node2.ipv4, asn: NODE_AS },
      { address: node3.ipv6, asn: ROUTER_AS },
    ];
  });

  after(async () => {
    try {
      await router?.stop();
    } catch (err) {
      console.error('router stop failed:', err);
    }
    for (const s of standIns.values()) await s.process.stop(2000);
    bed?.destroy();
    run?.close();
    if (timings.length) console.log(timings.join('\n'));
    if (dir && process.env['BEACONLB_KEEP_LOGS']) console.log(`logs kept in ${dir}`);
    else if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const expectedNeighbors = (): string[] => neighbors.map((n) => n.address).sort();

  async function waitEstablished(r: BgpRouter, expected: string[], what: string): Promise<number> {
    const started = performance.now();
    await waitUntil(
      `${r.kind}: ${what}: sessions with ${expected.join(', ')}`,
      async () => {
        const up = await r.established();
        return expected.every((a) => up.includes(a)) ? true : undefined;
      },
      SESSION_TIMEOUT_MS,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\n${r.logs(15)}`, { cause: err });
    });
    return Math.round(performance.now() - started);
  }

  async function waitRoutes(
    r: BgpRouter,
    family: 4 | 6,
    ok: (routes: RouterRoute[]) => boolean,
    what: string,
  ): Promise<RouterRoute[]> {
    let last: RouterRoute[] = [];
    return waitUntil(
      `${r.kind}: ${what}`,
      async () => {
        last = await r.routes(family);
        return ok(last) ? last : undefined;
      },
      15_000,
      200,
    ).catch((err: unknown) => {
      throw new Error(`${(err as Error).message}\nlast: ${JSON.stringify(last, null, 1)}`, { cause: err });
    });
  }

  const allPaths4 = (routes: RouterRoute[]): boolean =>
    pathsOf(routes, V4).length === 2 &&
    pathsOf(routes, V4_NO_EXPORT).length === 1 &&
    pathsOf(routes, V4_IBGP).length === 1;
  const allPaths6 = (routes: RouterRoute[]): boolean =>
    pathsOf(routes, V6).length === 2 && pathsOf(routes, V6_IBGP).length === 1;

  for (const kind of ['gobgpd', 'bird', 'frr'] as const satisfies readonly RouterKind[]) {
    describe(kind, () => {
      it('starts in the router namespace and establishes eBGP (MD5 and plain) and iBGP over IPv6 sessions', async () => {
        assert.ok(bed);
        const started = performance.now();
        router = await startBgpRouter({
          kind,
          ns: bed.router.ns,
          dir,
          run: run!,
          asn: ROUTER_AS,
          routerId: bed.router.ipv4,
          neighbors,
          gracefulRestart: true,
        });
        const ready = Math.round(performance.now() - started);
        const up = await waitEstablished(router, expectedNeighbors(), 'start');
        timings.push(`${kind}: daemon answering after ${ready} ms, all sessions Established ${up} ms later`);
        assert.deepEqual(await router.established(), expectedNeighbors());
        assert.equal(router.installsKernelRoutes, kind !== 'gobgpd');
      });

      it('reports every received IPv4 path with next hop, AS path, MED, local preference and communities', async () => {
        const r = router!;
        const routes = await waitRoutes(r, 4, allPaths4, 'all IPv4 paths');
        const [node1, node2, node3] = bed!.nodes as [Host, Host, Host];
        const v4 = pathsOf(routes, V4);
        assert.deepEqual(
          v4.map((p) => p.neighbor),
          [node1.ipv4, node2.ipv4],
        );
        for (const p of v4) {
          assert.equal(p.nextHop, p.neighbor);
          assert.deepEqual(p.asPath, [NODE_AS]);
          assert.equal(p.med, 10);
          assert.equal(p.localPref, undefined, 'local preference is reported for iBGP paths only');
          assert.deepEqual(p.communities, ['65000:100']);
          assert.deepEqual(p.largeCommunities, ['65000:1:2']);
          assert.equal(p.stale, false);
        }
        assert.equal(v4.filter((p) => p.best).length, 1, JSON.stringify(v4));
        const [noExport] = pathsOf(routes, V4_NO_EXPORT);
        assert.deepEqual(noExport?.communities, ['65000:7', '65535:65281']);
        assert.deepEqual(noExport.largeCommunities, []);
        assert.equal(noExport.med, undefined);
        const [ibgp] = pathsOf(routes, V4_IBGP);
        assert.deepEqual(
          {
            neighbor: ibgp?.neighbor,
            nextHop: ibgp?.nextHop,
            asPath: ibgp?.asPath,
            localPref: ibgp?.localPref,
            best: ibgp?.best,
          },
          { neighbor: node3.ipv6, nextHop: node3.ipv4, asPath: [], localPref: 200, best: true },
        );
        assert.deepEqual(ibgp?.largeCommunities, ['65000:1:2']);
      });

      it('reports IPv6 paths received over IPv4 and IPv6 sessions with their global next hops', async () => {
        const r = router!;
        const routes = await waitRoutes(r, 6, allPaths6, 'all IPv6 paths');
        const [node1, node2, node3] = bed!.nodes as [Host, Host, Host];
        const v6 = pathsOf(routes, V6);
        assert.deepEqual(
          v6.map((p) => [p.neighbor, p.nextHop]),
          [
            [node1.ipv4, node1.ipv6],
            [node2.ipv4, node2.ipv6],
          ],
        );
        for (const p of v6) {
          assert.deepEqual(p.communities, ['65000:100']);
          assert.deepEqual(p.largeCommunities, ['65000:1:2']);
          assert.equal(p.med, 10);
        }
        const [ibgp] = pathsOf(routes, V6_IBGP);
        assert.deepEqual([ibgp?.neighbor, ibgp?.nextHop, ibgp?.localPref], [node3.ipv6, node3.ipv6, 200]);
        assert.ok(
          (await r.routes(4)).every((p) => !p.prefix.includes(':')),
          'routes(4) returned an IPv6 prefix',
        );
      });

      it(
        kind === 'gobgpd'
          ? 'installs nothing into the kernel'
          : 'installs ECMP routes over both eBGP nodes into the kernel',
        async () => {
          const r = router!;
          const [node1, node2, node3] = bed!.nodes as [Host, Host, Host];
          if (!r.installsKernelRoutes) {
            assert.deepEqual(await r.kernelNextHops(V4), []);
            const kernel = await mustExecIn(bed!.router.ns, ['ip', '-j', 'route', 'show', 'exact', V4]);
            assert.deepEqual(JSON.parse(kernel), []);
            return;
          }
          const want: Array<[string, string[]]> = [
            [V4, [node1.ipv4, node2.ipv4]],
            [V6, [node1.ipv6, node2.ipv6]],
            [V4_IBGP, [node3.ipv4]],
            [V6_IBGP, [node3.ipv6]],
            [V4_NO_EXPORT, [node2.ipv4]],
          ];
          for (const [prefix, hops] of want) {
            await waitUntil(
              `${kind}: kernel route ${prefix} via ${hops.join(', ')}`,
              async () => {
                const got = await r.kernelNextHops(prefix);
                return JSON.stringify(got) === JSON.stringify(hops) ? true : undefined;
              },
              10_000,
              100,
            ).catch(async (err: unknown) => {
              throw new Error(`${(err as Error).message}: ${JSON.stringify(await r.kernelNextHops(prefix))}`, {
                cause: err,
              });
            });
          }
          // The kernel uses it: a lookup for the address goes via one of the two nodes.
          const lookup = await mustExecIn(bed!.router.ns, ['ip', 'route', 'get', V4.split('/')[0]!]);
          assert.match(lookup, /via 198\.51\.100\.1[12] dev eth0/);
        },
      );

      it('restart() stops the daemon and brings every session and path back', async () => {
        const r = router!;
        const started = performance.now();
        await r.restart();
        const ready = Math.round(performance.now() - started);
        const up = await waitEstablished(r, expectedNeighbors(), 'restart');
        await waitRoutes(r, 4, allPaths4, 'IPv4 paths after restart');
        await waitRoutes(r, 6, allPaths6, 'IPv6 paths after restart');
        timings.push(`${kind}: restart answering after ${ready} ms, all sessions Established ${up} ms later`);
      });

      it('keeps the paths of a crashed graceful-restart peer as stale (helper mode)', async () => {
        const r = router!;
        const node1 = standIns.get('node1')!;
        await node1.process.kill(); // SIGKILL: no NOTIFICATION, the kernel closes the TCP connection
        const started = performance.now();
        await waitUntil(
          `${kind}: session with node1 down`,
          async () => ((await r.established()).includes(node1.host.ipv4) ? undefined : true),
          10_000,
          100,
        );
        const routes = await waitRoutes(
          r,
          4,
          (rs) => pathsOf(rs, V4).some((p) => p.neighbor === node1.host.ipv4 && p.stale === true),
          'stale path of node1',
        );
        const v4 = pathsOf(routes, V4);
        assert.deepEqual(
          v4.map((p) => [p.neighbor, p.stale]),
          [
            [node1.host.ipv4, true],
            [bed!.nodes[1]!.ipv4, false],
          ],
        );
        const v6 = pathsOf(await r.routes(6), V6);
        assert.deepEqual(
          v6.map((p) => [p.neighbor, p.stale]),
          [
            [node1.host.ipv4, true],
            [bed!.nodes[1]!.ipv4, false],
          ],
        );
        timings.push(
          `${kind}: stale paths of the crashed peer visible after ${Math.round(performance.now() - started)} ms`,
        );
        if (r.installsKernelRoutes)
          assert.deepEqual(await r.kernelNextHops(V4), [node1.host.ipv4, bed!.nodes[1]!.ipv4]);
      });

      it('stop() leaves no process and no route behind, and is idempotent', async () => {
        const r = router!;
        await r.stop();
        await r.stop();
        const pids = execFileSync('ip', ['netns', 'pids', bed!.router.ns], { encoding: 'utf8' }).trim();
        assert.equal(pids, '', `processes left in the router namespace: ${pids}`);
        const left = await mustExecIn(bed!.router.ns, ['ip', '-j', 'route', 'show', 'exact', V4]);
        assert.deepEqual(JSON.parse(left), []);
        const left6 = await mustExecIn(bed!.router.ns, ['ip', '-j', '-6', 'route', 'show', 'exact', V6]);
        assert.deepEqual(JSON.parse(left6), []);
        assert.equal((await mustExecIn(bed!.router.ns, ['ip', 'nexthop', 'show'])).trim(), '');
        router = undefined;
        // node1 crashed in the previous test: a fresh stand-in for the next router.
        const spec = standInSpecs[0]!;
        await standIns.get('node1')?.process.stop(1000);
        standIns.set('node1', await startStandIn(run!, dir, spec));
      });

      it('without gracefulRestart drops the paths of a crashed peer at once', async () => {
        router = await startBgpRouter({
          kind,
          ns: bed!.router.ns,
          dir,
          run: run!,
          asn: ROUTER_AS,
          routerId: bed!.router.ipv4,
          neighbors,
        });
        const r = router;
        const up = await waitEstablished(r, expectedNeighbors(), 'start without graceful restart');
        await waitRoutes(r, 4, allPaths4, 'all IPv4 paths');
        await waitRoutes(r, 6, allPaths6, 'all IPv6 paths');
        timings.push(`${kind}: without graceful restart, all sessions Established after ${up} ms`);
        const node1 = standIns.get('node1')!;
        const node2 = bed!.nodes[1]!;
        await node1.process.kill();
        const v4 = pathsOf(
          await waitRoutes(r, 4, (rs) => pathsOf(rs, V4).length === 1, "the crashed peer's IPv4 path withdrawn"),
          V4,
        );
        assert.deepEqual(
          v4.map((p) => [p.neighbor, p.stale, p.best]),
          [[node2.ipv4, false, true]],
        );
        const v6 = pathsOf(
          await waitRoutes(r, 6, (rs) => pathsOf(rs, V6).length === 1, "the crashed peer's IPv6 path withdrawn"),
          V6,
        );
        assert.deepEqual(
          v6.map((p) => [p.neighbor, p.stale]),
          [[node2.ipv4, false]],
        );
        if (r.installsKernelRoutes) {
          await waitUntil(
            `${kind}: kernel route via node2 only`,
            async () => ((await r.kernelNextHops(V4)).join() === node2.ipv4 ? true : undefined),
            5000,
            100,
          );
        }
        await r.stop();
        router = undefined;
        await node1.process.stop(1000);
        standIns.set('node1', await startStandIn(run!, dir, standInSpecs[0]!));
      });
    });
  }

  it('leaves nothing in the root namespace and removes the bed', async () => {
    for (const s of standIns.values()) await s.process.stop(2000);
    const ourPrefix = `blb${run!.id}-`;
    bed!.destroy();
    assert.deepEqual(
      listNamespaces().filter((ns) => ns.startsWith(ourPrefix)),
      [],
    );
    const rootRoutes = await mustExecIn(undefined, ['ip', '-j', 'route', 'show', 'exact', V4]);
    assert.deepEqual(JSON.parse(rootRoutes), []);
  });
});
