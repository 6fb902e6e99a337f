// The network test bed: node namespaces, a client and a router on one layer-2 segment (a bridge), and a second
// segment behind the router with another client. Everything lives in namespaces named `blb<run>-<role>`;
// the bridges live in a switch namespace, so the root namespace is never touched.
//
//   node1..N  client ── br-a (segment A: 198.51.100.0/25, 2001:db8:a::/64) ── router ── br-b (segment B:
//   203.0.113.0/24, 2001:db8:b::/64) ── client2
import { deleteNamespace, type Run } from './run-registry.ts';
import { ipBatch, mustExecIn } from './netns.ts';

export interface Host {
  /** The namespace name. */
  readonly ns: string;
  /** Role in the topology: node1, client, router, client2. */
  readonly role: string;
  /** The interface on its segment (routers: eth0 on A, eth1 on B). */
  readonly dev: string;
  readonly ipv4: string;
  readonly ipv6: string;
}

export interface Router extends Host {
  readonly devB: string;
  readonly ipv4B: string;
  readonly ipv6B: string;
}

export interface TestBed {
  readonly nodes: readonly Host[];
  readonly client: Host;
  readonly router: Router;
  readonly client2: Host;
  readonly switchNs: string;
  /** Every namespace of the bed. */
  readonly namespaces: readonly string[];
  /** Deletes every namespace (and with it every process inside). */
  destroy(): void;
}

export const SEGMENT_A = { ipv4: '198.51.100', ipv4Prefix: 25, ipv6: '2001:db8:a::', ipv6Prefix: 64 } as const;
export const SEGMENT_B = { ipv4: '203.0.113', ipv4Prefix: 24, ipv6: '2001:db8:b::', ipv6Prefix: 64 } as const;

const hostSysctls = [
  'net.ipv6.conf.all.accept_dad=0',
  'net.ipv6.conf.default.accept_dad=0',
  'net.ipv6.conf.all.forwarding=0',
  'net.ipv4.conf.all.arp_ignore=1',
];

async function newNamespace(ns: string, sysctls: readonly string[]): Promise<void> {
  await mustExecIn(undefined, ['ip', 'netns', 'add', ns]);
  ipBatch(ns, ['link set lo up']);
  await mustExecIn(ns, ['sysctl', '-q', '-w', ...sysctls]);
}

export interface TestBedOptions {
  run: Run;
  nodes?: number;
  /**
   * The name of each node's segment interface, node1 first (default eth0 for every node; a missing entry too): for
   * tests of configuration that must work on nodes whose NICs are named differently.
   */
  nodeDevs?: readonly string[];
}

/**
 * Builds the topology. On failure it removes what it made and rethrows.
 * Long (~105 lines): one sequence of namespaces, bridges, links and addresses, undone on failure; it reads as the topology.
 */
export async function createTestBed({ run, nodes: nodeCount = 3, nodeDevs = [] }: TestBedOptions): Promise<TestBed> {
  const made: string[] = [];
  const destroy = (): void => {
    for (const ns of made.reverse()) deleteNamespace(ns);
    made.length = 0;
  };
  try {
    const sw = run.namespace('sw');
    await newNamespace(sw, hostSysctls);
    made.push(sw);
    ipBatch(sw, [
      'link add br-a type bridge stp_state 0 forward_delay 0 mcast_snooping 0',
      'link add br-b type bridge stp_state 0 forward_delay 0 mcast_snooping 0',
      'link set br-a up',
      'link set br-b up',
    ]);

    const attach = async (
      role: string,
      bridge: 'br-a' | 'br-b',
      dev: string,
      port: string,
      sysctls = hostSysctls,
    ): Promise<string> => {
      const ns = run.namespace(role);
      if (!made.includes(ns)) {
        await newNamespace(ns, sysctls);
        made.push(ns);
      }
      ipBatch(sw, [`link add ${port} type veth peer name ${dev} netns ${ns}`, `link set ${port} master ${bridge} up`]);
      return ns;
    };
    const address = (
      ns: string,
      dev: string,
      ipv4: string,
      v4len: number,
      ipv6: string,
      v6len: number,
      gateway?: Host,
    ): void => {
      ipBatch(ns, [
        `link set ${dev} up`,
        `address add ${ipv4}/${v4len} dev ${dev}`,
        `address add ${ipv6}/${v6len} dev ${dev} nodad`,
        ...(gateway ? [`route add default via ${gateway.ipv4}`, `route add default via ${gateway.ipv6}`] : []),
      ]);
    };

    const routerNs = await attach('router', 'br-a', 'eth0', 'a-router', [
      ...hostSysctls.filter((s) => !s.includes('forwarding')),
      'net.ipv4.ip_forward=1',
      'net.ipv6.conf.all.forwarding=1',
    ]);
    await attach('router', 'br-b', 'eth1', 'b-router');
    const router: Router = {
      ns: routerNs,
      role: 'router',
      dev: 'eth0',
      ipv4: `${SEGMENT_A.ipv4}.1`,
      ipv6: `${SEGMENT_A.ipv6}1`,
      devB: 'eth1',
      ipv4B: `${SEGMENT_B.ipv4}.1`,
      ipv6B: `${SEGMENT_B.ipv6}1`,
    };
    address(routerNs, 'eth0', router.ipv4, SEGMENT_A.ipv4Prefix, router.ipv6, SEGMENT_A.ipv6Prefix);
    address(routerNs, 'eth1', router.ipv4B, SEGMENT_B.ipv4Prefix, router.ipv6B, SEGMENT_B.ipv6Prefix);

    const hostOnA = async (role: string, index: number, dev = 'eth0'): Promise<Host> => {
      const ns = await attach(role, 'br-a', dev, `a-${role}`);
      const host: Host = {
        ns,
        role,
        dev,
        ipv4: `${SEGMENT_A.ipv4}.${index}`,
        ipv6: `${SEGMENT_A.ipv6}${index.toString(16)}`,
      };
      address(ns, dev, host.ipv4, SEGMENT_A.ipv4Prefix, host.ipv6, SEGMENT_A.ipv6Prefix, router);
      return host;
    };
    const nodes: Host[] = [];
    for (let i = 1; i <= nodeCount; i++) nodes.push(await hostOnA(`node${i}`, 10 + i, nodeDevs[i - 1]));
    const client = await hostOnA('client', 100);

    const client2Ns = await attach('client2', 'br-b', 'eth0', 'b-client2');
    const client2: Host = {
      ns: client2Ns,
      role: 'client2',
      dev: 'eth0',
      ipv4: `${SEGMENT_B.ipv4}.100`,
      ipv6: `${SEGMENT_B.ipv6}64`,
    };
    address(client2Ns, 'eth0', client2.ipv4, SEGMENT_B.ipv4Prefix, client2.ipv6, SEGMENT_B.ipv6Prefix, {
      ...router,
      ipv4: router.ipv4B,
      ipv6: router.ipv6B,
    });

    return { nodes, client, router, client2, switchNs: sw, namespaces: [...made], destroy };
  } catch (err) {
    destroy();
    throw err;
  }
}
