// Draining a pool against the real API server, with the controller as its own process under its ServiceAccount:
// the addresses in use stay (automatic and pinned), a new Service that only the draining pool could serve gets the
// Warning PoolDraining, the pool's Draining condition counts and names the Services that remain, and says Drained
// (with the Event DrainCompleted) once the last one is gone. ADR 0028.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { tryKubectl, useCluster } from './support/cluster.ts';
import { startController, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createService,
  ingressIps,
  kubeClients,
  readPool,
  readService,
  waitFor,
  waitForEvent,
  waitForIngress,
  type Kube,
} from './support/kube.ts';

describe('controller: draining an IPPool', () => {
  const cluster = useCluster();
  let kube: Kube;
  let controller: ControllerProcess;

  before(async () => {
    kube = kubeClients(cluster.cp);
    controller = await startController(cluster, ['--no-leader-elect', '--quarantine=1s']);
  });
  after(async () => {
    await controller.stop(2000);
  });

  const draining = async (pool: string): Promise<{ status: string; reason: string; message: string } | undefined> =>
    (await readPool(kube, pool)).status?.conditions?.find((c) => c.type === 'Draining');

  it('keeps the addresses in use, hands out none, and reports what remains until nothing does', async () => {
    const ns = 'drain-a';
    await kube.core.createNamespace({ body: { metadata: { name: ns } } });
    await applyPool(kube, 'drain-a', { addresses: ['198.51.100.0/29'], allocation: { namespaces: [ns] } });
    await createService(kube, { name: 'auto', namespace: ns });
    await createService(kube, {
      name: 'pinned',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.5' },
    });
    assert.deepEqual(await waitForIngress(kube, ns, 'auto'), ['198.51.100.0']);
    assert.deepEqual(await waitForIngress(kube, ns, 'pinned'), ['198.51.100.5']);
    const before = await waitFor('Draining=False', async () => {
      const c = await draining('drain-a');
      return c?.status === 'False' ? c : undefined;
    });
    assert.equal(before.reason, 'NotDraining');

    cluster.cp.kubectl(['patch', 'ippool', 'drain-a', '--type=merge', '-p', '{"spec":{"drain":true}}']);
    const condition = await waitFor('Draining=True', async () => {
      const c = await draining('drain-a');
      return c?.reason === 'Draining' ? c : undefined;
    });
    assert.equal(
      condition.message,
      `hands out no new addresses; 2 addresses still in use by 2 Services: ${ns}/auto, ${ns}/pinned`,
    );
    await waitForEvent(kube, 'default', 'drain-a', 'DrainStarted');
    const status = (await readPool(kube, 'drain-a')).status as { allocated?: number; available?: string };
    assert.deepEqual([status.allocated, status.available], [2, '0']);

    // New Services: neither automatically, nor by name, nor by address.
    await createService(kube, { name: 'late', namespace: ns });
    await createService(kube, { name: 'late-named', namespace: ns, annotations: { 'beaconlb.io/ip-pool': 'drain-a' } });
    await createService(kube, {
      name: 'late-pinned',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.6' },
    });
    const late = await waitForEvent(kube, ns, 'late', 'PoolDraining');
    assert.match(late.message, /is draining \(drain-a\): a draining pool hands out no new addresses/);
    await waitForEvent(kube, ns, 'late-named', 'PoolDraining');
    assert.match(
      (await waitForEvent(kube, ns, 'late-pinned', 'PoolDraining')).message,
      /requested 198\.51\.100\.6 is in pool drain-a, which is draining/,
    );
    for (const name of ['late', 'late-named', 'late-pinned'])
      assert.deepEqual(ingressIps(await readService(kube, ns, name)), [], name);

    // The holders keep their addresses, also across a controller restart (the rebuild keeps what a drain keeps).
    await controller.stop(2000);
    controller = await startController(cluster, ['--no-leader-elect', '--quarantine=1s']);
    await sleep(1500);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'auto')), ['198.51.100.0']);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'pinned')), ['198.51.100.5']);

    await kube.core.deleteNamespacedService({ namespace: ns, name: 'auto' });
    await waitFor('one address left', async () =>
      (await draining('drain-a'))?.message.includes('1 address still in use by 1 Service: drain-a/pinned')
        ? true
        : undefined,
    );
    await kube.core.deleteNamespacedService({ namespace: ns, name: 'pinned' });
    const drained = await waitFor('Drained', async () => {
      const c = await draining('drain-a');
      return c?.reason === 'Drained' ? c : undefined;
    });
    assert.equal(drained.message, 'no address of the pool is in use: it can be deleted');
    await waitForEvent(kube, 'default', 'drain-a', 'DrainCompleted');
    // Nothing was handed out meanwhile, although addresses freed.
    for (const name of ['late', 'late-named', 'late-pinned'])
      assert.deepEqual(ingressIps(await readService(kube, ns, name)), [], name);

    // Lifting the drain serves the waiting Services.
    cluster.cp.kubectl(['patch', 'ippool', 'drain-a', '--type=merge', '-p', '{"spec":{"drain":false}}']);
    assert.deepEqual(await waitForIngress(kube, ns, 'late-pinned'), ['198.51.100.6']);
    assert.equal((await waitForIngress(kube, ns, 'late')).length, 1);
  });

  it('the CRD refuses a drain that is not a boolean', () => {
    const res = tryKubectl(cluster.cp, [
      'patch',
      'ippool',
      'drain-a',
      '--type=merge',
      '-p',
      '{"spec":{"drain":"yes"}}',
    ]);
    assert.equal(res.ok, false);
    assert.match(res.out, /spec\.drain: Invalid value: "string": spec\.drain in body must be of type boolean/);
  });
});
