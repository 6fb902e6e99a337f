import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isOurService, readServiceRequest } from './service-request.ts';
import type { ServiceObject } from './service-object.ts';
import { ipv4 } from '../ip/ip-address.ts';

const svc = (annotations: Record<string, string> = {}, spec: ServiceObject['spec'] = {}): ServiceObject => ({
  metadata: { name: 'web', namespace: 'shop', annotations },
  spec: { type: 'LoadBalancer', ipFamilies: ['IPv4'], ports: [{ port: 80, protocol: 'TCP' }], ...spec },
});

describe('readServiceRequest', () => {
  it('reads ours and MetalLB annotations, ours first', () => {
    const both = readServiceRequest(svc({ 'beaconlb.io/ip-pool': 'ours', 'metallb.io/address-pool': 'theirs' }));
    assert.ok(both.ok);
    assert.deepEqual(both.value.poolNames, ['ours']);
    const legacy = readServiceRequest(svc({ 'metallb.universe.tf/loadBalancerIPs': '198.51.100.7' }));
    assert.ok(legacy.ok);
    assert.deepEqual(legacy.value.requested, [ipv4(198, 51, 100, 7)]);
  });

  it('takes spec.loadBalancerIP when no annotation requests addresses', () => {
    const r = readServiceRequest(svc({}, { loadBalancerIP: '198.51.100.9' }));
    assert.ok(r.ok);
    assert.deepEqual(r.value.requested, [ipv4(198, 51, 100, 9)]);
  });

  it('refuses malformed requests with a message naming the source', () => {
    const cases: Array<[ServiceObject, RegExp]> = [
      [svc({ 'beaconlb.io/load-balancer-ips': 'nope' }), /annotation beaconlb\.io\/load-balancer-ips: .*nope/],
      [svc({ 'beaconlb.io/load-balancer-ips': '198.51.100.1,198.51.100.2' }), /more than one IPv4/],
      [
        svc({ 'beaconlb.io/load-balancer-ips': '2001:db8::1' }),
        /requests an IPv6 address but the Service's ipFamilies is \[IPv4\]/,
      ],
      [svc({ 'beaconlb.io/load-balancer-ips': ' , ' }), /is empty/],
      [svc({ 'beaconlb.io/ip-pool': ',' }), /names no pool/],
      [svc({}, { loadBalancerIP: '198.51.100.300' }), /spec\.loadBalancerIP/],
      [
        svc({ 'beaconlb.io/renumber-window': 'ten minutes' }),
        /annotation beaconlb\.io\/renumber-window: .*not a duration/,
      ],
      [svc({ 'beaconlb.io/renumber-window': '169h' }), /longer than the longest window, 168h/],
    ];
    for (const [input, message] of cases) {
      const r = readServiceRequest(input);
      assert.ok(!r.ok, `accepted: ${JSON.stringify(input.metadata.annotations)}`);
      assert.match(r.error.message, message);
    }
  });

  it('reads sharing, ports, traffic policy and families', () => {
    const r = readServiceRequest(
      svc(
        { 'beaconlb.io/allow-shared-ip': ' key ' },
        {
          ipFamilies: ['IPv6', 'IPv4'],
          ipFamilyPolicy: 'RequireDualStack',
          externalTrafficPolicy: 'Local',
          ports: [{ port: 53, protocol: 'UDP' }],
          selector: { b: '2', a: '1' },
        },
      ),
    );
    assert.ok(r.ok);
    assert.equal(r.value.sharingKey, 'key');
    assert.deepEqual(r.value.families, [6, 4]);
    assert.equal(r.value.policy, 'RequireDualStack');
    assert.deepEqual(r.value.ports, ['UDP/53']);
    assert.equal(r.value.selector, '[["a","1"],["b","2"]]');
  });
});

describe('readServiceRequest: beaconlb.io/renumber-window', () => {
  it('reads the window in milliseconds, and leaves it out when the annotation is absent', () => {
    const r = readServiceRequest(svc({ 'beaconlb.io/renumber-window': ' 1m30s ' }));
    assert.ok(r.ok);
    assert.equal(r.value.renumberWindowMs, 90_000);
    const none = readServiceRequest(svc());
    assert.ok(none.ok);
    assert.equal('renumberWindowMs' in none.value, false);
  });
});

describe('isOurService', () => {
  it('serves LoadBalancer Services without a class or with ours', () => {
    assert.equal(isOurService(svc()), true);
    assert.equal(isOurService(svc({}, { loadBalancerClass: 'beaconlb.io/beaconlb' })), true);
    assert.equal(isOurService(svc({}, { loadBalancerClass: 'example.com/other' })), false);
    assert.equal(isOurService(svc({}, { type: 'ClusterIP' })), false);
  });
});
