import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BGPAdvertisement, BGPPeer, IPPool } from '../../core/config/api-types.generated.ts';
import type { ServiceObject } from '../../core/config/service-object.ts';
import { formatBgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import { planBgp, type BgpInputs } from './bgp-plan.ts';
import { allocationCondition } from '../../core/config/allocation-record.ts';
import { sessionAttributes } from './route-attributes.ts';
import type { NegotiatedSession } from '../../protocol/bgp/session-negotiation.ts';

const pool = (name: string, addresses: string[], labels: Record<string, string> = {}): IPPool => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'IPPool',
  metadata: { name, labels },
  spec: { addresses },
});
const peer = (name: string, spec: Partial<BGPPeer['spec']> = {}): BGPPeer => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'BGPPeer',
  metadata: { name },
  spec: { myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1', ...spec },
});
const adv = (name: string, spec: BGPAdvertisement['spec'] = {}): BGPAdvertisement => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'BGPAdvertisement',
  metadata: { name },
  spec,
});
const service = (
  name: string,
  ips: string[],
  extra: Partial<NonNullable<ServiceObject['spec']>> = {},
  recorded: string[] = ips,
): ServiceObject => ({
  metadata: { name, namespace: 'web', uid: name },
  spec: { type: 'LoadBalancer', ...extra },
  status: {
    loadBalancer: { ingress: ips.map((ip) => ({ ip })) },
    conditions: [allocationCondition(recorded, '2025-01-01T00:00:00Z')],
  },
});
const node = (name: string, labels: Record<string, string> = {}) => ({ metadata: { name, labels } });

function inputs(partial: Partial<BgpInputs>): BgpInputs {
  return {
    services: [],
    pools: [pool('bgp', ['203.0.113.0/24', '2001:db8:b::/64']), pool('other', ['198.51.100.64/27'])],
    peers: [peer('router')],
    advertisements: [adv('all', { ipPools: ['bgp'] })],
    nodes: [node('node1', { rack: 'a' }), node('node2', { rack: 'b' })],
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
    ...partial,
  };
}

const prefixes = (plan: ReturnType<typeof planBgp>, peerName = 'router'): string[] =>
  (plan.peers.find((p) => p.peer.metadata.name === peerName)?.routes ?? [])
    .map((r) => formatBgpPrefix(r.prefix))
    .sort();

describe('planBgp', () => {
  it('reads no Service when the node has no peer or no advertisement (a layer-2-only cluster plans nothing per Service)', () => {
    let reads = 0;
    const counted = (svc: ServiceObject): ServiceObject =>
      new Proxy(svc, {
        get(target, property, receiver) {
          reads++;
          return Reflect.get(target, property, receiver) as unknown;
        },
      });
    const services = Array.from({ length: 100 }, (_, i) => counted(service(`s-${i}`, [`203.0.113.${i}`])));
    for (const partial of [
      { peers: [] },
      { advertisements: [] },
      { peers: [peer('rack-b', { nodeSelector: { matchLabels: { rack: 'b' } } })] },
    ]) {
      reads = 0;
      const plan = planBgp(inputs({ services, ...partial }), 'node1');
      assert.equal(reads, 0, JSON.stringify(Object.keys(partial)));
      assert.deepEqual(
        plan.peers.flatMap((p) => p.routes),
        [],
      );
    }
    reads = 0;
    assert.equal(prefixes(planBgp(inputs({ services }), 'node1')).length, 100);
    assert.ok(reads >= 100, 'with a peer and an advertisement every Service is read');
  });

  it('advertises only addresses the controller recorded for the Service, in a pool that admits it (ADR 0015)', () => {
    const handWritten = service('forged', ['203.0.113.20'], {}, []);
    const partly = service('partly', ['203.0.113.21', '203.0.113.22'], {}, ['203.0.113.21']);
    const restricted = [
      pool('bgp', ['203.0.113.0/25']),
      {
        ...pool('team', ['203.0.113.128/25']),
        spec: { addresses: ['203.0.113.128/25'], allocation: { namespaces: ['team'] } },
      },
    ];
    const wrongNamespace = service('elsewhere', ['203.0.113.130']);
    const plan = planBgp(
      inputs({ services: [handWritten, partly, wrongNamespace], pools: restricted, advertisements: [adv('all')] }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['203.0.113.21/32']);
  });

  it('advertises each address of a selected pool as a host route to every peer of the node', () => {
    const plan = planBgp(
      inputs({ services: [service('a', ['203.0.113.10', '2001:db8:b::10']), service('b', ['198.51.100.70'])] }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['2001:db8:b::10/128', '203.0.113.10/32']);
  });

  it('aggregates to the advertisement length and merges the Services into one route', () => {
    const plan = planBgp(
      inputs({
        advertisements: [adv('agg', { ipPools: ['bgp'], aggregationLength: 24, aggregationLengthV6: 64 })],
        services: [service('a', ['203.0.113.10', '2001:db8:b::10']), service('b', ['203.0.113.11'])],
      }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['2001:db8:b::/64', '203.0.113.0/24']);
    const v4 = plan.peers[0]?.routes.find((r) => r.prefix.family === 4);
    assert.deepEqual(v4?.services, ['web/a', 'web/b']);
  });

  it('honours node selectors of peers and advertisements, and the peers list', () => {
    const i = inputs({
      peers: [peer('rack-a', { nodeSelector: { matchLabels: { rack: 'a' } } }), peer('everywhere')],
      advertisements: [
        adv('only-everywhere', { ipPools: ['bgp'], peers: ['everywhere'] }),
        adv('rack-b-only', {
          ipPools: ['bgp'],
          nodeSelector: { matchLabels: { rack: 'b' } },
          communities: ['65000:2'],
        }),
      ],
      services: [service('a', ['203.0.113.10'])],
    });
    const node1 = planBgp(i, 'node1');
    assert.deepEqual(
      node1.peers.map((p) => p.peer.metadata.name),
      ['rack-a', 'everywhere'],
    );
    assert.deepEqual(prefixes(node1, 'rack-a'), []);
    assert.deepEqual(prefixes(node1, 'everywhere'), ['203.0.113.10/32']);
    const node2 = planBgp(i, 'node2');
    assert.deepEqual(
      node2.peers.map((p) => p.peer.metadata.name),
      ['everywhere'],
    );
    assert.deepEqual(node2.peers[0]?.routes[0]?.attributes.communities, [65000 * 65536 + 2]);
  });

  it('serviceSelector: an advertisement applies only to Services with matching labels, others of the pool keep theirs', () => {
    const labelled = (name: string, ips: string[], labels: Record<string, string>): ServiceObject => {
      const s = service(name, ips);
      return { ...s, metadata: { ...s.metadata, labels } };
    };
    const services = [
      labelled('public', ['203.0.113.10'], { exposure: 'public' }),
      labelled('internal', ['203.0.113.11'], { exposure: 'internal' }),
      service('bare', ['203.0.113.12']),
    ];
    const selective = adv('public-only', {
      ipPools: ['bgp'],
      serviceSelector: { matchLabels: { exposure: 'public' } },
      communities: ['65000:1'],
    });
    const alone = planBgp(inputs({ services, advertisements: [selective] }), 'node1');
    assert.deepEqual(prefixes(alone), ['203.0.113.10/32']);
    assert.deepEqual(alone.problems, []);
    // A second advertisement of the pool for the rest: the selected Service gets the attributes of both.
    const rest = adv('not-public', {
      ipPools: ['bgp'],
      serviceSelector: { matchExpressions: [{ key: 'exposure', operator: 'NotIn', values: ['public'] }] },
    });
    const both = planBgp(inputs({ services, advertisements: [selective, rest] }), 'node1');
    assert.deepEqual(prefixes(both), ['203.0.113.10/32', '203.0.113.11/32', '203.0.113.12/32']);
    const communities = (prefix: string): readonly number[] | undefined =>
      both.peers[0]?.routes.find((r) => formatBgpPrefix(r.prefix) === prefix)?.attributes.communities;
    assert.deepEqual(communities('203.0.113.10/32'), [65000 * 65536 + 1]);
    assert.deepEqual(communities('203.0.113.11/32'), []);
    // Aggregated: the aggregate stands while a matching Service has an address in it, and carries only those Services.
    const aggregated = adv('agg', {
      ipPools: ['bgp'],
      aggregationLength: 24,
      serviceSelector: { matchLabels: { exposure: 'internal' } },
    });
    const agg = planBgp(inputs({ services, advertisements: [aggregated] }), 'node1');
    assert.deepEqual(prefixes(agg), ['203.0.113.0/24']);
    assert.deepEqual(agg.peers[0]?.routes[0]?.services, ['web/internal']);
  });

  it('a serviceSelector the schema would refuse matches no Service and is reported; other advertisements are planned', () => {
    const broken = adv('broken', {
      ipPools: ['bgp'],
      serviceSelector: { matchExpressions: [{ key: 'exposure', operator: 'In' }] },
    });
    const plan = planBgp(
      inputs({
        services: [service('a', ['203.0.113.10'])],
        advertisements: [
          broken,
          adv('all', {
            ipPools: ['bgp'],
            nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'Exists', values: ['a'] }] },
          }),
          adv('fine', { ipPools: ['bgp'], peers: ['router'] }),
        ],
      }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['203.0.113.10/32']);
    assert.deepEqual(plan.peers[0]?.routes[0]?.attributes.communities, []);
    assert.deepEqual(
      plan.problems.map((p) => [p.name, p.reason, p.message]),
      [
        [
          'broken',
          'InvalidConfiguration',
          'serviceSelector: matchExpressions[0] (exposure): In needs at least one value; it matches no Service, so this advertisement announces none',
        ],
        [
          'all',
          'InvalidConfiguration',
          'nodeSelector: matchExpressions[0] (rack): Exists takes no values; it matches no node, so no node announces through this advertisement',
        ],
      ],
    );
  });

  it('externalTrafficPolicy Local: only nodes with a ready endpoint advertise', () => {
    const slice = {
      metadata: { name: 'a-1', namespace: 'web', labels: { 'kubernetes.io/service-name': 'a' } },
      endpoints: [{ nodeName: 'node2', conditions: { ready: true } }],
    };
    const i = inputs({
      services: [service('a', ['203.0.113.10'], { externalTrafficPolicy: 'Local' })],
      endpointSlices: [slice],
    });
    assert.deepEqual(prefixes(planBgp(i, 'node1')), []);
    assert.deepEqual(prefixes(planBgp(i, 'node2')), ['203.0.113.10/32']);
  });

  it('merges attributes of several advertisements and reports bad communities without dropping the route', () => {
    const plan = planBgp(
      inputs({
        advertisements: [
          adv('a', {
            ipPools: ['bgp'],
            localPref: 50,
            med: 10,
            communities: ['65000:1', 'bogus'],
            asPathPrepend: { count: 1 },
          }),
          adv('b', {
            ipPools: ['bgp'],
            localPref: 200,
            med: 5,
            communities: ['no-export'],
            largeCommunities: ['65000:1:2'],
            asPathPrepend: { count: 3, asn: 64999 },
          }),
        ],
        services: [service('a', ['203.0.113.10'])],
      }),
      'node1',
    );
    const attributes = plan.peers[0]?.routes[0]?.attributes;
    assert.deepEqual(attributes, {
      communities: [65000 * 65536 + 1, 0xffffff01],
      largeCommunities: [{ globalAdmin: 65000, localData1: 1, localData2: 2 }],
      localPref: 200,
      med: 5,
      prepend: { count: 3, asn: 64999 },
    });
    assert.equal(plan.problems.length, 1);
    assert.match(plan.problems[0]?.message ?? '', /bogus/);
  });

  it('ignores Services of another class, being deleted, and nodes excluded from load balancers', () => {
    const i = inputs({
      services: [
        service('other', ['203.0.113.10'], { loadBalancerClass: 'example.com/other' }),
        {
          ...service('gone', ['203.0.113.11']),
          metadata: { name: 'gone', namespace: 'web', deletionTimestamp: 'now' },
        },
      ],
      nodes: [node('node1', { 'node.kubernetes.io/exclude-from-external-load-balancers': '' }), node('node2')],
    });
    assert.deepEqual(planBgp(i, 'node1').peers, []);
    assert.deepEqual(prefixes(planBgp(i, 'node2')), []);
  });
});

describe('sessionAttributes', () => {
  const session = (external: boolean, fourOctetAs = true): NegotiatedSession =>
    ({ external, fourOctetAs, codec: { fourOctetAs, external } }) as unknown as NegotiatedSession;
  const attributes = { communities: [1], largeCommunities: [], localPref: 300, med: 7, prepend: { count: 2 } };

  it('eBGP: our AS first, then the prepends; no LOCAL_PREF', () => {
    const result = sessionAttributes(attributes, 65001, session(true));
    assert.deepEqual(
      result.find((a) => a.type === 'as-path'),
      { type: 'as-path', segments: [{ type: 'sequence', asns: [65001, 65001, 65001] }] },
    );
    assert.equal(
      result.some((a) => a.type === 'local-pref'),
      false,
    );
    assert.deepEqual(
      result.find((a) => a.type === 'multi-exit-disc'),
      { type: 'multi-exit-disc', med: 7 },
    );
  });

  it('iBGP: LOCAL_PREF always (100 by default), empty AS_PATH without prepends', () => {
    const result = sessionAttributes({ communities: [], largeCommunities: [] }, 65000, session(false));
    assert.deepEqual(
      result.find((a) => a.type === 'as-path'),
      { type: 'as-path', segments: [] },
    );
    assert.deepEqual(
      result.find((a) => a.type === 'local-pref'),
      { type: 'local-pref', localPref: 100 },
    );
  });

  it('a 4-octet AS towards a 2-octet peer becomes AS_TRANS with AS4_PATH', () => {
    const result = sessionAttributes({ communities: [], largeCommunities: [] }, 4200000001, session(true, false));
    assert.deepEqual(
      result.find((a) => a.type === 'as-path'),
      { type: 'as-path', segments: [{ type: 'sequence', asns: [23456] }] },
    );
    assert.deepEqual(
      result.find((a) => a.type === 'as4-path'),
      { type: 'as4-path', segments: [{ type: 'sequence', asns: [4200000001] }] },
    );
  });
});

describe('planBgp: one bad object never stops the others', () => {
  const communities = (tag: number): string[] => Array.from({ length: 64 }, (_, i) => `${65000 + tag}:${i}`);
  const large = (tag: number): string[] => Array.from({ length: 64 }, (_, i) => `65000:${tag}:${i}`);
  const big = (name: string, tag: number, withCommunities: boolean): BGPAdvertisement =>
    adv(name, {
      ipPools: ['bgp'],
      largeCommunities: large(tag),
      ...(withCommunities ? { communities: communities(tag) } : {}),
    });

  it('sends 4 advertisements x 64 large communities merged on one route: 3,089 bytes of attributes fit an UPDATE', () => {
    const plan = planBgp(
      inputs({
        advertisements: [1, 2, 3, 4].map((t) => big(`big${t}`, t, false)),
        services: [service('a', ['203.0.113.10'])],
      }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['203.0.113.10/32']);
    assert.equal(plan.peers[0]?.routes[0]?.attributes.largeCommunities.length, 256);
    assert.deepEqual(plan.problems, []);
  });

  it('leaves out a route whose merged communities and large communities exceed an UPDATE, names the size on each advertisement, keeps the rest', () => {
    const plan = planBgp(
      inputs({
        advertisements: [
          ...[1, 2, 3, 4].map((t) => big(`big${t}`, t, true)),
          adv('small', { ipPools: ['other'], communities: ['65000:1'] }),
        ],
        services: [service('a', ['203.0.113.10', '2001:db8:b::10']), service('b', ['198.51.100.70'])],
      }),
      'node1',
    );
    assert.deepEqual(prefixes(plan), ['198.51.100.70/32']);
    const problems = plan.problems.filter((p) => p.reason === 'UpdateTooLarge');
    assert.deepEqual(problems.map((p) => p.name).sort(), ['big1', 'big2', 'big3', 'big4']);
    for (const problem of problems) {
      assert.match(
        problem.message,
        /merged from BGPAdvertisements big1, big2, big3, big4 take 4118 bytes, more than the 4015 bytes/,
      );
      assert.match(problem.message, /256 communities, 256 large communities/);
      assert.match(problem.example ?? '', /^203\.0\.113\.10\/32 to BGPPeer router$/); // IPv4 and IPv6 share one budget (ADR 0034)
    }
  });

  it('leaves out malformed peers and advertisements with a MalformedObject problem each; valid ones are planned', () => {
    const plan = planBgp(
      inputs({
        peers: [
          peer('router'),
          // (A peer without peerAddress is unnumbered when it has interface; without both the speaker says so.)
          {
            metadata: { name: 'no-my-asn' },
            spec: { peerASN: 65000, peerAddress: '198.51.100.3' },
          } as unknown as BGPPeer,
          {
            metadata: { name: 'asn-text' },
            spec: { myASN: '65001', peerASN: 65000, peerAddress: '198.51.100.2' },
          } as unknown as BGPPeer,
        ],
        advertisements: [
          adv('all', { ipPools: ['bgp'] }),
          {
            metadata: { name: 'bad-selector' },
            spec: { nodeSelector: { matchExpressions: [{ key: 'rack', operator: 'Has' }] } },
          } as unknown as BGPAdvertisement,
        ],
        services: [service('a', ['203.0.113.10'])],
      }),
      'node1',
    );
    assert.deepEqual(
      plan.peers.map((p) => p.peer.metadata.name),
      ['router'],
    );
    assert.deepEqual(prefixes(plan), ['203.0.113.10/32']);
    assert.deepEqual(
      plan.problems.map((p) => [p.kind, p.name, p.reason]),
      [
        ['BGPPeer', 'no-my-asn', 'MalformedObject'],
        ['BGPPeer', 'asn-text', 'MalformedObject'],
        ['BGPAdvertisement', 'bad-selector', 'MalformedObject'],
      ],
    );
  });
});
