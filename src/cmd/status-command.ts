// `beaconlb status`: pools with usage, Services with address, pool, mode and owning node (layer 2) or advertising
// nodes (BGP), what each node says it announces (its ServiceAnnouncement records, with the state of each BGP
// session), BGP sessions as the speakers report them on BGPPeer status, speakers.
// The layer-2 owner is computed as the speakers compute it, from the same objects: by preference order over the
// membership record when the controller has published one (probes, ADR 0019), else over the live Leases (ADR 0007).
// Liveness here is judged from the Leases' renew times (a status view has no history, and cannot see the probes
// between speakers): with probes a node killed less than its Lease duration (40 s) ago still shows as owner, while
// its peers have moved its addresses in about 0.5 s; the Announcements section shows what each node says it announces.
import type { Command } from './command.ts';
import { optionalStringFlag, stringFlag } from './flag-values.ts';
import { UsageError } from './command.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { loadConnection } from '../k8s/api/kube-config.ts';
import { readClusterSnapshot, type ClusterSnapshot } from '../k8s/cluster-snapshot.ts';
import { planLayer2 } from '../core/config/layer2-plan.ts';
import { isOurService } from '../core/config/service-request.ts';
import { serviceKey } from '../core/config/service-object.ts';
import { stickyOwnersByPreference, stickyOwnersOf } from '../core/election/sticky-owner.ts';
import { familyOf, parseIp } from '../core/ip/ip-address.ts';
import { compilePools, poolHolding } from '../core/config/pool-config.ts';
import { recordedRenumbering, rfc3339 } from '../core/config/renumber-record.ts';
import { planBgp } from '../speaker/bgp/bgp-plan.ts';
import { formatBgpPrefix, prefixRange } from '../protocol/bgp/nlri-prefix.ts';
import type { IpRange } from '../core/ip/ip-range.ts';
import { DEFAULT_LOAD_BALANCER_CLASS } from '../core/config/service-request.ts';

export interface StatusReport {
  /** drain: '' when the pool hands out addresses, else its Draining condition's reason (Draining, Drained). */
  pools: Array<{
    name: string;
    addresses: string[];
    allocated: number;
    available: string;
    ready: string;
    overlap: string;
    drain: string;
  }>;
  /** retiring: for an old address kept beside its successor, the end of its renumbering window ('' otherwise). */
  services: Array<{ service: string; address: string; pool: string; mode: string; owner: string; retiring: string }>;
  bgpSessions: Array<{
    peer: string;
    peerAddress: string;
    node: string;
    state: string;
    prefixes: number | undefined;
    since: string | undefined;
  }>;
  speakers: Array<{
    node: string;
    live: boolean;
    leaving: boolean;
    renewedSecondsAgo: number | undefined;
    layer2NotReady: string;
    /** In its quiet period after (re)joining: owns only what no settled speaker can serve (ADR 0036). */
    rejoining: boolean;
  }>;
  /**
   * What each node says it announces (its ServiceAnnouncement records): layer-2 addresses with interfaces, BGP prefixes
   * with each peer and the state of that node's session with it. `speaker` is stale when the node's Lease is not live
   * (the record is left from before; the controller removes it).
   */
  announcements: Array<{
    service: string;
    node: string;
    layer2: string[];
    interfaces: string[];
    bgp: string[];
    peers: string[];
    speaker: string;
  }>;
}

interface AdvertisedPrefix {
  range: IpRange;
  nodes: Set<string>;
}

// Long (~140 lines): the report's sections built one after another from one snapshot.
export function statusReport(
  snapshot: ClusterSnapshot,
  now: Date,
  loadBalancerClass = DEFAULT_LOAD_BALANCER_CLASS,
): StatusReport {
  const speakers = snapshot.speakers.map((s) => {
    const age = s.renewTime ? (now.getTime() - Date.parse(s.renewTime)) / 1000 : undefined;
    return {
      node: s.node,
      live: age !== undefined && age < s.leaseDurationSeconds && !s.leaving && !s.layer2NotReady,
      leaving: s.leaving,
      renewedSecondsAgo: age === undefined ? undefined : Math.round(age * 10) / 10,
      layer2NotReady: s.layer2NotReady,
      rejoining: s.rejoining === true,
    };
  });
  const plan = planLayer2({ ...snapshot, loadBalancerClass });
  const compiled = compilePools(snapshot.pools);
  const poolNameOf = (address: bigint | undefined): string =>
    address === undefined ? '' : (poolHolding(compiled.pools, address, familyOf(address))?.name ?? '');
  const ownerInput = {
    addresses: [...plan.values()].map((a) => ({ address: a.address, eligible: a.eligible })),
    live: new Set(speakers.filter((s) => s.live).map((s) => s.node)),
    rejoining: new Set(speakers.filter((s) => s.rejoining).map((s) => s.node)),
  };
  const owners = snapshot.membership
    ? stickyOwnersByPreference({ ...ownerInput, members: new Set(snapshot.membership) })
    : stickyOwnersOf(ownerInput);
  // Per Service, the prefixes advertised for it and the nodes advertising each (a node's plan, as its speaker has it).
  const advertisedBy = new Map<string, Map<string, AdvertisedPrefix>>();
  const bgpInputs = {
    ...snapshot,
    peers: snapshot.bgpPeers,
    advertisements: snapshot.bgpAdvertisements,
    loadBalancerClass,
  };
  for (const node of snapshot.nodes) {
    const name = node.metadata.name ?? '';
    for (const { routes } of planBgp(bgpInputs, name).peers) {
      for (const route of routes) {
        const prefix = formatBgpPrefix(route.prefix);
        for (const service of route.services) {
          let prefixes = advertisedBy.get(service);
          if (!prefixes) advertisedBy.set(service, (prefixes = new Map<string, AdvertisedPrefix>()));
          let entry = prefixes.get(prefix);
          if (!entry) prefixes.set(prefix, (entry = { range: prefixRange(route.prefix), nodes: new Set() }));
          entry.nodes.add(name);
        }
      }
    }
  }
  const bgpNodesOf = (service: string, address: bigint): string[] => {
    const nodes = new Set<string>();
    for (const { range, nodes: advertising } of advertisedBy.get(service)?.values() ?? []) {
      if (address >= range.first && address <= range.last) for (const n of advertising) nodes.add(n);
    }
    return [...nodes].sort();
  };
  const services: StatusReport['services'] = [];
  for (const svc of snapshot.services) {
    if (!isOurService(svc, loadBalancerClass)) continue;
    const ips = (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '');
    if (ips.length === 0)
      services.push({ service: serviceKey(svc), address: '<pending>', pool: '', mode: '', owner: '', retiring: '' });
    const retiring = new Map(recordedRenumbering(svc).map((r) => [r.address, rfc3339(r.until)]));
    for (const ip of ips) {
      const parsed = parseIp(ip);
      const entry = parsed.ok ? plan.get(parsed.value) : undefined;
      const bgpNodes = parsed.ok ? bgpNodesOf(serviceKey(svc), parsed.value) : [];
      const modes = [...(entry ? ['layer2'] : []), ...(bgpNodes.length > 0 ? ['bgp'] : [])];
      const owner = [
        ...(entry ? [owners.get(entry.address) ?? 'nobody (no live eligible node)'] : []),
        ...(bgpNodes.length > 0 ? [`bgp: ${bgpNodes.join(',')}`] : []),
      ];
      services.push({
        service: serviceKey(svc),
        address: ip,
        pool: entry?.pool ?? poolNameOf(parsed.ok ? parsed.value : undefined),
        mode: modes.length > 0 ? modes.join('+') : 'none',
        owner: owner.join('; '),
        retiring: parsed.ok ? (retiring.get(parsed.value) ?? '') : '',
      });
    }
  }
  return {
    pools: snapshot.pools.map((p) => ({
      name: p.metadata.name,
      addresses: p.spec.addresses,
      allocated: p.status?.allocated ?? 0,
      available: p.status?.available ?? '?',
      ready: p.status?.conditions?.find((c) => c.type === 'Ready')?.status ?? 'Unknown',
      overlap: p.status?.conditions?.find((c) => c.type === 'Overlap')?.status ?? 'Unknown',
      drain:
        p.spec.drain === true ? (p.status?.conditions?.find((c) => c.type === 'Draining')?.reason ?? 'Draining') : '',
    })),
    services,
    bgpSessions: snapshot.bgpPeers.flatMap((peer) =>
      (peer.status?.sessions ?? [])
        .toSorted((a, b) => a.node.localeCompare(b.node))
        .map((session) => ({
          peer: peer.metadata.name,
          peerAddress: peer.spec.peerAddress ?? `unnumbered on ${peer.spec.interface ?? '?'}`,
          node: session.node,
          state: session.state,
          prefixes: session.prefixesAdvertised,
          bfd: session.bfdState,
          since: session.lastTransitionTime,
        })),
    ),
    speakers,
    announcements: snapshot.announcements
      .map((record) => {
        const node = record.spec?.node ?? '';
        const sessions = new Map(
          snapshot.bgpPeers.map(
            (peer) =>
              [
                peer.metadata.name,
                (peer.status?.sessions ?? []).find((s) => s.node === node)?.state ?? 'no session',
              ] as const,
          ),
        );
        const lease = snapshot.speakers.find((s) => s.node === node);
        const renewed =
          lease?.renewTime === undefined ? undefined : (now.getTime() - Date.parse(lease.renewTime)) / 1000;
        return {
          service: `${record.metadata?.namespace ?? ''}/${record.spec?.service ?? ''}`,
          node,
          layer2: record.status?.layer2?.addresses ?? [],
          interfaces: record.status?.layer2?.interfaces ?? [],
          bgp: record.status?.bgp?.prefixes ?? [],
          peers: (record.status?.bgp?.peers ?? []).map((peer) => `${peer}(${sessions.get(peer) ?? 'no such peer'})`),
          speaker:
            lease === undefined
              ? 'no Lease'
              : renewed !== undefined && renewed < lease.leaseDurationSeconds
                ? 'live'
                : 'stale',
        };
      })
      .sort((a, b) => a.service.localeCompare(b.service) || a.node.localeCompare(b.node)),
  };
}

type Cell = string | number | boolean | string[] | undefined;

function table(rows: ReadonlyArray<Record<string, Cell>>): string {
  if (rows.length === 0) return '  (none)';
  const headers = Object.keys(rows[0] ?? {});
  const cell = (v: Cell): string => (Array.isArray(v) ? v.join(',') : v === undefined ? '' : String(v));
  const widths = headers.map((h) => Math.max(h.length, ...rows.map((r) => cell(r[h]).length)));
  const line = (values: string[]): string => `  ${values.map((v, i) => v.padEnd(widths[i] ?? 0)).join('  ')}`.trimEnd();
  return [line(headers.map((h) => h.toUpperCase())), ...rows.map((r) => line(headers.map((h) => cell(r[h]))))].join(
    '\n',
  );
}

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show pools with usage, Services with address, pool, mode and owning node(s), BGP sessions, and speakers.',
  usage: 'status [flags]',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file.', env: 'KUBECONFIG' },
    namespace: {
      type: 'string',
      description: 'The Beacon LB namespace (speaker Leases).',
      default: 'beaconlb-system',
      env: 'BEACONLB_NAMESPACE',
    },
    output: { type: 'string', description: 'table or json.', default: 'table' },
  },
  async run(flags) {
    const output = stringFlag(flags, 'output');
    if (output !== 'table' && output !== 'json') throw new UsageError(`--output must be table or json, not ${output}`);
    const client = new ApiClient(loadConnection(optionalStringFlag(flags, 'kubeconfig')), 'beaconlb-status');
    try {
      const report = statusReport(await readClusterSnapshot(client, stringFlag(flags, 'namespace')), new Date());
      if (output === 'json') console.log(JSON.stringify(report, null, 2));
      else {
        console.log(
          `Pools\n${table(report.pools)}\n\nServices\n${table(report.services)}\n\nAnnouncements (what each node says it announces)\n` +
            `${table(report.announcements)}\n\nBGP sessions\n${table(report.bgpSessions)}\n\nSpeakers\n${table(report.speakers)}`,
        );
      }
      return 0;
    } finally {
      client.close();
    }
  },
};
