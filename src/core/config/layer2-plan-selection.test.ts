import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { planLayer2, planLayer2WithProblems, type Layer2Address } from './layer2-plan.ts';
import { DEFAULT_LOAD_BALANCER_CLASS } from './service-request.ts';
import { ip, service, pool, advertisement, inputs, entry } from '../../test-support/layer2-plan-inputs.ts';

/** The planned addresses as text, sorted. */
function plannedAddresses(plan: ReadonlyMap<bigint, Layer2Address>): bigint[] {
  return [...plan.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

describe('planLayer2', () => {
  describe('which Services', () => {
    it('plans every ingress address of a LoadBalancer Service of ours, with its pool, nodes and advertisements', () => {
      const plan = planLayer2(inputs({ services: [service('shop/web', ['198.51.100.10', '2001:db8:a::110'])] }));
      assert.deepEqual(plannedAddresses(plan), [ip('198.51.100.10'), ip('2001:db8:a::110')]);
      assert.deepEqual(entry(plan, '198.51.100.10'), {
        address: ip('198.51.100.10'),
        services: ['shop/web'],
        pool: 'segment-a',
        eligible: ['node1', 'node2', 'node3'],
        interfaces: undefined,
        advertisements: ['everything'],
      });
      assert.equal(entry(plan, '2001:db8:a::110').pool, 'segment-a');
    });

    it('ignores Services that are not of type LoadBalancer', () => {
      for (const type of ['ClusterIP', 'NodePort', 'ExternalName']) {
        assert.equal(
          planLayer2(inputs({ services: [service('shop/web', ['198.51.100.10'], { type })] })).size,
          0,
          type,
        );
      }
    });

    it('serves no class and our class, not another class', () => {
      const services = [
        service('shop/unset', ['198.51.100.10']),
        service('shop/ours', ['198.51.100.11'], { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS }),
        service('shop/theirs', ['198.51.100.12'], { loadBalancerClass: 'example.com/other' }),
      ];
      assert.deepEqual(plannedAddresses(planLayer2(inputs({ services }))), [ip('198.51.100.10'), ip('198.51.100.11')]);
    });

    it('honours a configured class: Services of the default class are then not ours', () => {
      const services = [
        service('shop/unset', ['198.51.100.10']),
        service('shop/default', ['198.51.100.11'], { loadBalancerClass: DEFAULT_LOAD_BALANCER_CLASS }),
        service('shop/custom', ['198.51.100.12'], { loadBalancerClass: 'example.com/lb' }),
      ];
      const plan = planLayer2(inputs({ services, loadBalancerClass: 'example.com/lb' }));
      assert.deepEqual(plannedAddresses(plan), [ip('198.51.100.10'), ip('198.51.100.12')]);
    });

    it('stops announcing a Service that is being deleted', () => {
      assert.equal(
        planLayer2(inputs({ services: [service('shop/web', ['198.51.100.10'], { deleting: true })] })).size,
        0,
      );
    });

    it('skips ingress entries without an IP, with an unparsable IP, or outside every pool', () => {
      const svc = service('shop/web', [], {
        ingress: [
          { hostname: 'lb.example.com' },
          { ip: 'not-an-ip' },
          { ip: '198.51.100.200' },
          { ip: '2001:db8:ff::1' },
          { ip: '203.0.113.5' },
        ],
        recorded: ['198.51.100.200', '2001:db8:ff::1', '203.0.113.5'],
      });
      assert.deepEqual(plannedAddresses(planLayer2(inputs({ services: [svc] }))), [ip('203.0.113.5')]);
    });

    it('plans only addresses the controller recorded for the Service (a status written by hand is not announced)', () => {
      const forged = service('shop/forged', ['198.51.100.10'], { recorded: [] });
      const partly = service('shop/partly', ['198.51.100.11', '198.51.100.12'], { recorded: ['198.51.100.12'] });
      assert.deepEqual(plannedAddresses(planLayer2(inputs({ services: [forged, partly] }))), [ip('198.51.100.12')]);
    });

    it('plans nothing without Services, pools or advertisements', () => {
      const services = [service('shop/web', ['198.51.100.10'])];
      assert.equal(planLayer2(inputs({})).size, 0);
      assert.equal(planLayer2(inputs({ services, pools: [] })).size, 0);
      assert.equal(planLayer2(inputs({ services, advertisements: [] })).size, 0);
    });
  });

  describe('pools', () => {
    it('finds the pool by address, per family', () => {
      const services = [service('shop/web', ['203.0.113.9', '2001:db8:b::9', '198.51.100.9'])];
      const plan = planLayer2(inputs({ services }));
      assert.equal(entry(plan, '203.0.113.9').pool, 'segment-b');
      assert.equal(entry(plan, '2001:db8:b::9').pool, 'segment-b');
      assert.equal(entry(plan, '198.51.100.9').pool, 'segment-a');
    });

    it('gives an address in two overlapping pools to the older pool', () => {
      const pools = [
        pool('newer', ['198.51.100.0/24'], { created: '2025-02-01T00:00:00Z' }),
        pool('older', ['198.51.100.0/26'], { created: '2025-01-01T00:00:00Z' }),
      ];
      const services = [service('shop/web', ['198.51.100.10', '198.51.100.100'])];
      const plan = planLayer2(inputs({ services, pools }));
      assert.equal(entry(plan, '198.51.100.10').pool, 'older');
      assert.equal(entry(plan, '198.51.100.100').pool, 'newer');
      // An advertisement of the newer pool alone does not announce an address the older pool holds.
      const onlyNewer = planLayer2(
        inputs({ services, pools, advertisements: [advertisement('newer-only', { ipPools: ['newer'] })] }),
      );
      assert.deepEqual(plannedAddresses(onlyNewer), [ip('198.51.100.100')]);
    });

    it('does not announce an address the pool does not hand out (avoidBuggyIPs)', () => {
      const pools = [pool('buggy', ['203.0.113.0/24'], { avoidBuggyIPs: true })];
      const services = [service('shop/web', ['203.0.113.0', '203.0.113.1', '203.0.113.255'])];
      assert.deepEqual(plannedAddresses(planLayer2(inputs({ services, pools }))), [ip('203.0.113.1')]);
    });
  });

  describe('advertisements', () => {
    const services = [service('shop/a', ['198.51.100.10']), service('shop/b', ['203.0.113.10'])];

    it('select pools by name', () => {
      const plan = planLayer2(inputs({ services, advertisements: [advertisement('b', { ipPools: ['segment-b'] })] }));
      assert.deepEqual(plannedAddresses(plan), [ip('203.0.113.10')]);
      assert.deepEqual(entry(plan, '203.0.113.10').advertisements, ['b']);
      const none = planLayer2(
        inputs({ services, advertisements: [advertisement('nothing', { ipPools: ['no-such-pool'] })] }),
      );
      assert.equal(none.size, 0);
    });

    it('select pools by label selector; an empty selector selects every pool', () => {
      const bySegment = planLayer2(
        inputs({
          services,
          advertisements: [advertisement('a', { ipPoolSelector: { matchLabels: { segment: 'a' } } })],
        }),
      );
      assert.deepEqual(plannedAddresses(bySegment), [ip('198.51.100.10')]);
      const byExpression = planLayer2(
        inputs({
          services,
          advertisements: [
            advertisement('not-a', {
              ipPoolSelector: { matchExpressions: [{ key: 'segment', operator: 'NotIn', values: ['a'] }] },
            }),
          ],
        }),
      );
      assert.deepEqual(plannedAddresses(byExpression), [ip('203.0.113.10')]);
      const empty = planLayer2(inputs({ services, advertisements: [advertisement('all', { ipPoolSelector: {} })] }));
      assert.equal(empty.size, 2);
    });

    it('select every pool when they name none and select none', () => {
      const plan = planLayer2(
        inputs({ services, advertisements: [advertisement('all', { nodeSelector: { matchLabels: { zone: 'a' } } })] }),
      );
      assert.equal(plan.size, 2);
    });

    it('select only Services matching their serviceSelector', () => {
      const labelled = [
        service('shop/a', ['198.51.100.10'], { labels: { expose: 'l2' } }),
        service('shop/b', ['198.51.100.11']),
      ];
      const plan = planLayer2(
        inputs({
          services: labelled,
          advertisements: [advertisement('l2', { serviceSelector: { matchLabels: { expose: 'l2' } } })],
        }),
      );
      assert.deepEqual(plannedAddresses(plan), [ip('198.51.100.10')]);
    });

    it('report a serviceSelector or an interface pattern the schema would refuse; that selector matches nothing, the rest is planned', () => {
      const labelled = [service('shop/a', ['198.51.100.10'], { labels: { expose: 'l2' } })];
      const broken = advertisement('broken', {
        serviceSelector: { matchExpressions: [{ key: 'expose', operator: 'NotIn' }] },
        interfaces: ['eth[', 'eth*'],
      });
      const { plan, problems } = planLayer2WithProblems(
        inputs({ services: labelled, advertisements: [broken, advertisement('fine', { interfaces: ['ens[0-9]'] })] }),
      );
      assert.deepEqual(entry(plan, '198.51.100.10').advertisements, ['fine']);
      assert.deepEqual(entry(plan, '198.51.100.10').interfaces, ['ens[0-9]']);
      assert.deepEqual(problems, [
        {
          kind: 'L2Advertisement',
          name: 'broken',
          reason: 'InvalidConfiguration',
          message:
            'serviceSelector: matchExpressions[0] (expose): NotIn needs at least one value; it matches no Service, so this advertisement announces none',
        },
        {
          kind: 'L2Advertisement',
          name: 'broken',
          reason: 'InvalidConfiguration',
          message:
            'interfaces[0]: "eth[" is not an interface pattern (use *, ?, [abc], [a-z] or [!a-z]; sets cannot be empty); it selects only an interface of exactly that name',
        },
      ]);
    });

    it('list every advertisement that selects the address, sorted', () => {
      const advertisements = [
        advertisement('zeta', { ipPools: ['segment-a'] }),
        advertisement('alpha'),
        advertisement('other', { ipPools: ['segment-b'] }),
      ];
      const plan = planLayer2(inputs({ services, advertisements }));
      assert.deepEqual(entry(plan, '198.51.100.10').advertisements, ['alpha', 'zeta']);
      assert.deepEqual(entry(plan, '203.0.113.10').advertisements, ['alpha', 'other']);
    });
  });
});
