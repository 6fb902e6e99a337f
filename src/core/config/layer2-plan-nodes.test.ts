import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { EXCLUDE_LABEL } from './cluster-objects.ts';
import { planLayer2 } from './layer2-plan.ts';
import { service, advertisement, node, endpointSlice, inputs, entry } from '../../test-support/layer2-plan-inputs.ts';

describe('planLayer2', () => {
  describe('eligible nodes', () => {
    const services = [service('shop/web', ['198.51.100.10'])];

    it('are the nodes matching the nodeSelector, united over the selecting advertisements', () => {
      const zoneA = planLayer2(
        inputs({ services, advertisements: [advertisement('a', { nodeSelector: { matchLabels: { zone: 'a' } } })] }),
      );
      assert.deepEqual(entry(zoneA, '198.51.100.10').eligible, ['node1', 'node2']);
      const both = planLayer2(
        inputs({
          services,
          advertisements: [
            advertisement('b', { nodeSelector: { matchLabels: { zone: 'b' } } }),
            advertisement('n1', {
              nodeSelector: { matchExpressions: [{ key: 'zone', operator: 'In', values: ['a'] }] },
              ipPools: ['segment-a'],
            }),
          ],
        }),
      );
      assert.deepEqual(entry(both, '198.51.100.10').eligible, ['node1', 'node2', 'node3']);
    });

    it('leave out nodes labelled for exclusion from external load balancers', () => {
      const nodes = [node('node1'), node('node2', { [EXCLUDE_LABEL]: '' }), node('node3', { [EXCLUDE_LABEL]: 'true' })];
      assert.deepEqual(entry(planLayer2(inputs({ services, nodes })), '198.51.100.10').eligible, ['node1']);
    });

    it('leave out nodes whose network is unavailable (NetworkUnavailable=True)', () => {
      const nodes = [
        node('node1', undefined, [{ type: 'NetworkUnavailable', status: 'True' }]),
        node('node2', undefined, [{ type: 'NetworkUnavailable', status: 'False' }]),
        node('node3', undefined, [{ type: 'Ready', status: 'False' }]),
      ];
      assert.deepEqual(entry(planLayer2(inputs({ services, nodes })), '198.51.100.10').eligible, ['node2', 'node3']);
    });

    it('with externalTrafficPolicy Local are only the nodes with a ready endpoint of that Service', () => {
      const local = [service('shop/web', ['198.51.100.10'], { externalTrafficPolicy: 'Local' })];
      const endpointSlices = [
        endpointSlice('shop/web', ['node3'], ['node1']),
        endpointSlice('other/web', ['node2']),
        endpointSlice('shop/api', ['node2']),
      ];
      const plan = planLayer2(inputs({ services: local, endpointSlices }));
      assert.deepEqual(entry(plan, '198.51.100.10').eligible, ['node3']);
      // Cluster policy ignores endpoints.
      assert.deepEqual(entry(planLayer2(inputs({ services, endpointSlices })), '198.51.100.10').eligible, [
        'node1',
        'node2',
        'node3',
      ]);
    });

    it('with externalTrafficPolicy Local and no ready endpoint are none, and the address stays planned', () => {
      const local = [service('shop/web', ['198.51.100.10'], { externalTrafficPolicy: 'Local' })];
      const plan = planLayer2(inputs({ services: local, endpointSlices: [endpointSlice('shop/web', [], ['node1'])] }));
      assert.deepEqual(entry(plan, '198.51.100.10').eligible, []);
    });

    it('with externalTrafficPolicy Local still respect nodeSelector and exclusion', () => {
      const local = [service('shop/web', ['198.51.100.10'], { externalTrafficPolicy: 'Local' })];
      const nodes = [
        node('node1', { zone: 'a' }),
        node('node2', { zone: 'a', [EXCLUDE_LABEL]: '' }),
        node('node3', { zone: 'b' }),
      ];
      const plan = planLayer2(
        inputs({
          services: local,
          nodes,
          endpointSlices: [endpointSlice('shop/web', ['node1', 'node2', 'node3'])],
          advertisements: [advertisement('a', { nodeSelector: { matchLabels: { zone: 'a' } } })],
        }),
      );
      assert.deepEqual(entry(plan, '198.51.100.10').eligible, ['node1']);
    });

    it('ignore endpoints on nodes that are not in the node list', () => {
      const local = [service('shop/web', ['198.51.100.10'], { externalTrafficPolicy: 'Local' })];
      const plan = planLayer2(
        inputs({ services: local, endpointSlices: [endpointSlice('shop/web', ['node9', 'node2'])] }),
      );
      assert.deepEqual(entry(plan, '198.51.100.10').eligible, ['node2']);
    });
  });

  describe('interfaces', () => {
    const services = [service('shop/web', ['198.51.100.10'])];

    it('are the sorted union of the interfaces the selecting advertisements name', () => {
      const advertisements = [
        advertisement('one', { interfaces: ['eth1', 'eth0'] }),
        advertisement('two', { interfaces: ['eth0', 'bond0'] }),
      ];
      assert.deepEqual(entry(planLayer2(inputs({ services, advertisements })), '198.51.100.10').interfaces, [
        'bond0',
        'eth0',
        'eth1',
      ]);
    });

    it('are undefined (choose by subnet) when any selecting advertisement names none, in either order', () => {
      const named = advertisement('named', { interfaces: ['eth1'] });
      const unnamed = advertisement('unnamed');
      assert.equal(
        entry(planLayer2(inputs({ services, advertisements: [named, unnamed] })), '198.51.100.10').interfaces,
        undefined,
      );
      assert.equal(
        entry(planLayer2(inputs({ services, advertisements: [unnamed, named] })), '198.51.100.10').interfaces,
        undefined,
      );
    });

    it('ignore advertisements that do not select the address', () => {
      const advertisements = [
        advertisement('named', { interfaces: ['eth1'], ipPools: ['segment-a'] }),
        advertisement('unnamed', { ipPools: ['segment-b'] }),
      ];
      assert.deepEqual(entry(planLayer2(inputs({ services, advertisements })), '198.51.100.10').interfaces, ['eth1']);
    });
  });

  describe('shared addresses', () => {
    it('are one entry with every Service, sorted, and the union of their eligible nodes', () => {
      const services = [
        service('shop/web-udp', ['198.51.100.10'], { externalTrafficPolicy: 'Local' }),
        service('shop/web-tcp', ['198.51.100.10'], { externalTrafficPolicy: 'Local' }),
      ];
      const endpointSlices = [endpointSlice('shop/web-udp', ['node1']), endpointSlice('shop/web-tcp', ['node3'])];
      const plan = planLayer2(inputs({ services, endpointSlices }));
      assert.equal(plan.size, 1);
      const shared = entry(plan, '198.51.100.10');
      assert.deepEqual(shared.services, ['shop/web-tcp', 'shop/web-udp']);
      assert.deepEqual(shared.eligible, ['node1', 'node3']);
    });

    it('lists a Service once even when its status repeats the address', () => {
      const plan = planLayer2(inputs({ services: [service('shop/web', ['198.51.100.10', '198.51.100.10'])] }));
      assert.deepEqual(entry(plan, '198.51.100.10').services, ['shop/web']);
    });

    it('merge only the Services an advertisement selects', () => {
      const services = [
        service('shop/a', ['198.51.100.10'], { labels: { expose: 'l2' } }),
        service('shop/b', ['198.51.100.10']),
      ];
      const plan = planLayer2(
        inputs({
          services,
          advertisements: [advertisement('l2', { serviceSelector: { matchLabels: { expose: 'l2' } } })],
        }),
      );
      assert.deepEqual(entry(plan, '198.51.100.10').services, ['shop/a']);
    });

    // Service a (app=a) is selected only by advertisement "adv-a" (interfaces [eth1]); Service b, sharing the
    // address, only by "adv-b" (interfaces [eth2]). planLayer2 merges services and eligible for the second Service
    // but keeps the first Service's interfaces and advertisements: the address is announced on eth1 only (or eth2
    // only, with the Services in the other order), and the status command shows one advertisement.
    it('unite the interfaces and advertisements of every Service sharing the address, whatever the Service order', () => {
      const services = [
        service('shop/a', ['198.51.100.10'], { labels: { app: 'a' } }),
        service('shop/b', ['198.51.100.10'], { labels: { app: 'b' } }),
      ];
      const advertisements = [
        advertisement('adv-a', { serviceSelector: { matchLabels: { app: 'a' } }, interfaces: ['eth1'] }),
        advertisement('adv-b', { serviceSelector: { matchLabels: { app: 'b' } }, interfaces: ['eth2'] }),
      ];
      for (const order of [services, [...services].reverse()]) {
        const shared = entry(planLayer2(inputs({ services: order, advertisements })), '198.51.100.10');
        assert.deepEqual(shared.interfaces, ['eth1', 'eth2']);
        assert.deepEqual(shared.advertisements, ['adv-a', 'adv-b']);
      }
    });

    it('choose by subnet when an advertisement of any sharing Service names no interface', () => {
      const services = [
        service('shop/a', ['198.51.100.10'], { labels: { app: 'a' } }),
        service('shop/b', ['198.51.100.10'], { labels: { app: 'b' } }),
      ];
      const advertisements = [
        advertisement('adv-a', { serviceSelector: { matchLabels: { app: 'a' } }, interfaces: ['eth1'] }),
        advertisement('adv-b', { serviceSelector: { matchLabels: { app: 'b' } } }),
      ];
      assert.equal(entry(planLayer2(inputs({ services, advertisements })), '198.51.100.10').interfaces, undefined);
    });
  });
});
