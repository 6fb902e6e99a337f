import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  EXCLUDE_LABEL,
  SERVICE_NAME_LABEL,
  nodeMayAnnounce,
  nodesWithReadyEndpoints,
  type EndpointSliceObject,
  type NodeObject,
} from './cluster-objects.ts';

type Endpoint = NonNullable<EndpointSliceObject['endpoints']>[number];

function node(
  name: string,
  labels?: Record<string, string>,
  conditions?: Array<{ type: string; status: string }>,
): NodeObject {
  return {
    metadata: { name, ...(labels ? { labels } : {}) },
    ...(conditions ? { status: { conditions } } : {}),
  };
}

function slice(
  namespace: string,
  service: string | undefined,
  endpoints: Endpoint[],
  name = `${service ?? 'x'}-abcde`,
): EndpointSliceObject {
  return {
    metadata: { name, namespace, labels: service === undefined ? {} : { [SERVICE_NAME_LABEL]: service } },
    addressType: 'IPv4',
    endpoints,
  };
}

const ready = (nodeName: string): Endpoint => ({
  nodeName,
  conditions: { ready: true, serving: true, terminating: false },
});

describe('label names', () => {
  it('are the Kubernetes well-known labels', () => {
    assert.equal(EXCLUDE_LABEL, 'node.kubernetes.io/exclude-from-external-load-balancers');
    assert.equal(SERVICE_NAME_LABEL, 'kubernetes.io/service-name');
  });
});

describe('nodeMayAnnounce', () => {
  it('lets a plain node announce, with or without status', () => {
    assert.equal(nodeMayAnnounce(node('node1')), true);
    assert.equal(
      nodeMayAnnounce(node('node1', { 'kubernetes.io/os': 'linux' }, [{ type: 'Ready', status: 'True' }])),
      true,
    );
  });

  it('excludes a node carrying the exclusion label, whatever its value (presence is what counts)', () => {
    for (const value of ['', 'true', 'false']) {
      assert.equal(nodeMayAnnounce(node('node1', { [EXCLUDE_LABEL]: value })), false, `value ${JSON.stringify(value)}`);
    }
  });

  it('excludes a node whose NetworkUnavailable condition is True, and only then', () => {
    assert.equal(nodeMayAnnounce(node('node1', undefined, [{ type: 'NetworkUnavailable', status: 'True' }])), false);
    assert.equal(
      nodeMayAnnounce(
        node('node1', undefined, [
          { type: 'Ready', status: 'True' },
          { type: 'NetworkUnavailable', status: 'True' },
        ]),
      ),
      false,
    );
    assert.equal(nodeMayAnnounce(node('node1', undefined, [{ type: 'NetworkUnavailable', status: 'False' }])), true);
    assert.equal(nodeMayAnnounce(node('node1', undefined, [{ type: 'NetworkUnavailable', status: 'Unknown' }])), true);
  });

  it('does not judge readiness: a NotReady node may still announce (its speaker lease decides liveness)', () => {
    assert.equal(nodeMayAnnounce(node('node1', undefined, [{ type: 'Ready', status: 'False' }])), true);
  });
});

describe('nodesWithReadyEndpoints', () => {
  it('collects the nodes of ready endpoints of the slices labelled with the Service name in its namespace', () => {
    const slices = [
      slice('shop', 'web', [ready('node1'), ready('node2')]),
      slice('shop', 'web', [ready('node3')], 'web-fghij'),
      slice('shop', 'api', [ready('node4')]),
      slice('other', 'web', [ready('node5')]),
      slice('shop', undefined, [ready('node6')]),
    ];
    assert.deepEqual([...nodesWithReadyEndpoints(slices, 'shop', 'web')].sort(), ['node1', 'node2', 'node3']);
    assert.deepEqual([...nodesWithReadyEndpoints(slices, 'shop', 'api')], ['node4']);
    assert.deepEqual([...nodesWithReadyEndpoints(slices, 'other', 'api')], []);
  });

  it('leaves out endpoints that are not ready (terminating ones included) and endpoints without a node', () => {
    const slices = [
      slice('shop', 'web', [
        { nodeName: 'node1', conditions: { ready: false, serving: true, terminating: true } },
        { nodeName: 'node2', conditions: { ready: false } },
        { conditions: { ready: true } },
        { nodeName: '', conditions: { ready: true } },
        ready('node3'),
      ]),
    ];
    assert.deepEqual([...nodesWithReadyEndpoints(slices, 'shop', 'web')], ['node3']);
  });

  it('counts an endpoint with unknown readiness (no conditions, or ready unset) as ready, as the API says to', () => {
    const slices = [slice('shop', 'web', [{ nodeName: 'node1' }, { nodeName: 'node2', conditions: {} }])];
    assert.deepEqual([...nodesWithReadyEndpoints(slices, 'shop', 'web')].sort(), ['node1', 'node2']);
  });

  it('is empty without slices, or with slices without endpoints', () => {
    assert.equal(nodesWithReadyEndpoints([], 'shop', 'web').size, 0);
    assert.equal(
      nodesWithReadyEndpoints(
        [{ metadata: { namespace: 'shop', labels: { [SERVICE_NAME_LABEL]: 'web' } } }],
        'shop',
        'web',
      ).size,
      0,
    );
  });

  it('property: the result is the set of nodeNames of not-unready endpoints in matching slices, in any slice order', () => {
    const endpoint = fc.record(
      {
        nodeName: fc.constantFrom('node1', 'node2', 'node3', 'node4', ''),
        conditions: fc.record({ ready: fc.boolean(), terminating: fc.boolean() }, { requiredKeys: [] }),
      },
      { requiredKeys: [] },
    );
    const sliceArb = fc
      .tuple(
        fc.constantFrom('shop', 'other'),
        fc.option(fc.constantFrom('web', 'api'), { nil: undefined }),
        fc.array(endpoint, { maxLength: 5 }),
      )
      .map(([namespace, service, endpoints]) => slice(namespace, service, endpoints));
    fc.assert(
      fc.property(fc.array(sliceArb, { maxLength: 6 }), (slices) => {
        const expected = new Set<string>();
        for (const s of slices) {
          if (s.metadata.namespace !== 'shop' || s.metadata.labels?.[SERVICE_NAME_LABEL] !== 'web') continue;
          for (const e of s.endpoints ?? []) if (e.nodeName && e.conditions?.ready !== false) expected.add(e.nodeName);
        }
        assert.deepEqual([...nodesWithReadyEndpoints(slices, 'shop', 'web')].sort(), [...expected].sort());
        assert.deepEqual(
          [...nodesWithReadyEndpoints([...slices].reverse(), 'shop', 'web')].sort(),
          [...expected].sort(),
        );
      }),
      { numRuns: 200 },
    );
  });
});
