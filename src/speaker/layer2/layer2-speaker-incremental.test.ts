// Passes cost O(changed), not O(all) (ADR 0037): among 5,000 Services, one Service event makes a speaker read that
// Service only, plan it only, evaluate the owner of its address only and tell the announcer about that address
// only; a node failing makes the others evaluate only the addresses whose owner can change.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServiceObject } from '../../core/config/service-object.ts';
import { ip, service, pool, advertisement, node, NODE_NAMES } from '../../test-support/layer2-world.ts';
import { LEASE_MS, SOON_MS } from '../../test-support/layer2-timing.ts';
import { Cluster } from '../../test-support/layer2-cluster.ts';

const SERVICES = 5000;

/** The Service, counting every property read of it or of anything inside it into `reads.count`. */
function counted<T extends object>(target: T, reads: { count: number }): T {
  return new Proxy(target, {
    get(object, property, receiver) {
      reads.count++;
      const value: unknown = Reflect.get(object, property, receiver);
      return typeof value === 'object' && value !== null ? counted(value, reads) : value;
    },
  });
}

function bulkAddress(i: number): string {
  return `2001:db8:a::${(i + 1).toString(16)}`;
}

function bulkWorld(services: ServiceObject[]) {
  return {
    services,
    pools: [pool('bulk', ['2001:db8:a::/112'])],
    advertisements: [advertisement('bulk')],
    nodes: NODE_NAMES.map(node),
    endpointSlices: [],
    namespaces: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  };
}

describe('Layer2Speaker passes are O(changed)', () => {
  it('one Service created among 5,000: the others are not read, one Service planned, one address evaluated and announced', async () => {
    const reads = { count: 0 };
    const services = Array.from({ length: SERVICES }, (_, i) =>
      counted(service(`bulk/b-${i}`, [bulkAddress(i)]), reads),
    );
    const cluster = new Cluster(bulkWorld(services));
    for (const name of NODE_NAMES) cluster.add(name);
    await cluster.run(3 * SOON_MS);
    const owners = NODE_NAMES.map((name) => cluster.rig(name).speaker.owned.size);
    assert.equal(
      owners.reduce((a, b) => a + b, 0),
      SERVICES,
    );
    const rig = cluster.rig('node1');
    const work = rig.speaker.work;
    const updates = rig.recorder.updates.length;

    reads.count = 0;
    const added = service('bulk/new', ['2001:db8:a::ffff']);
    cluster.world = { ...cluster.world, services: [...services, added] };
    cluster.touch();
    await cluster.run(SOON_MS);

    assert.equal(reads.count, 0, 'the 5,000 Services that did not change are not read');
    assert.equal(rig.speaker.work.servicesPlanned - work.servicesPlanned, 1);
    assert.ok(
      rig.speaker.work.ownerEvaluations - work.ownerEvaluations <= 4,
      `${rig.speaker.work.ownerEvaluations - work.ownerEvaluations} owner evaluations`,
    );
    const owner = NODE_NAMES.find((name) => cluster.rig(name).speaker.owned.has(ip('2001:db8:a::ffff')));
    assert.ok(owner !== undefined, 'the new address has an owner');
    const ownerRig = cluster.rig(owner);
    assert.deepEqual([...(ownerRig.recorder.changed.at(-1) ?? ['all'])], [ip('2001:db8:a::ffff')]);
    assert.equal(ownerRig.recorder.current.size, (owners[NODE_NAMES.indexOf(owner)] ?? 0) + 1);
    if (owner !== 'node1') assert.equal(rig.recorder.updates.length, updates, 'a node that gains nothing is not told');
  });

  it('a node failing: the others evaluate the addresses whose owner can change, not all 5,000 again', async () => {
    const services = Array.from({ length: SERVICES }, (_, i) => service(`bulk/b-${i}`, [bulkAddress(i)]));
    const cluster = new Cluster(bulkWorld(services));
    for (const name of NODE_NAMES) cluster.add(name);
    await cluster.run(3 * SOON_MS);
    const lost = cluster.rig('node3').speaker.owned.size;
    const rig = cluster.rig('node1');
    const work = rig.speaker.work;
    const updates = rig.recorder.updates.length;
    cluster.crash('node3');
    await cluster.run(LEASE_MS + 2 * SOON_MS);
    assert.equal(rig.speaker.owned.size + cluster.rig('node2').speaker.owned.size, SERVICES);
    const since = rig.recorder.changed.slice(updates);
    const told = since.filter((set) => set !== undefined);
    assert.ok(since.length > 0 && told.length === since.length, 'the announcer is told what changed');
    const gained = rig.speaker.owned.size - (rig.recorder.updates[updates - 1]?.size ?? 0);
    assert.equal(new Set(told.flatMap((set) => [...set])).size, gained, 'only the addresses gained');
    assert.equal(rig.speaker.work.servicesPlanned, work.servicesPlanned, 'no Service planned again');
    const evaluations = rig.speaker.work.ownerEvaluations - work.ownerEvaluations;
    assert.ok(evaluations <= 2 * lost, `${evaluations} owner evaluations for ${lost} addresses that moved`);
  });
});
