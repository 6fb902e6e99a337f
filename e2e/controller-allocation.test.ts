// The controller against the real API server, running as its own process under the controller ServiceAccount
// of config/rbac. Each case uses its own namespace and pools restricted to it, so cases cannot interfere.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { useCluster } from './support/cluster.ts';
import { startController, metricValue, type ControllerProcess } from './support/controller-process.ts';
import {
  applyPool,
  createService,
  deletePool,
  eventsFor,
  ingressIps,
  kubeClients,
  readPool,
  readService,
  waitFor,
  waitForEvent,
  waitForIngress,
  type Kube,
} from './support/kube.ts';

let cases = 0;

describe('controller: allocation from IPPools', () => {
  const cluster = useCluster();
  let kube: Kube;
  let controller: ControllerProcess;

  before(async () => {
    kube = kubeClients(cluster.cp);
    controller = await startController(cluster, ['--no-leader-elect', '--quarantine=3s']);
  });
  after(async () => {
    await controller.stop(2000);
  });

  /** A fresh namespace (with labels) for one case. */
  async function namespace(labels: Record<string, string> = {}): Promise<string> {
    const name = `case-${++cases}`;
    await kube.core.createNamespace({ body: { metadata: { name, labels } } });
    return name;
  }
  const only = (ns: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
    namespaces: [ns],
    ...extra,
  });

  it('assigns the lowest address of a CIDR pool with ipMode VIP, and records an Event', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-v4`, { addresses: ['198.51.100.0/29'], allocation: only(ns) });
    await createService(kube, { name: 'web', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'web'), ['198.51.100.0']);
    const svc = await readService(kube, ns, 'web');
    assert.equal(svc.status?.loadBalancer?.ingress?.[0]?.ipMode, 'VIP');
    const event = await waitForEvent(kube, ns, 'web', 'IPAllocated');
    assert.match(event.message, new RegExp(`198\\.51\\.100\\.0 \\(pool ${ns}-v4\\)`));
  });

  it('serves ranges, IPv6 and dual-stack in ipFamilies order', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-mixed`, {
      addresses: ['198.51.100.10-198.51.100.12', '2001:db8:1::/120'],
      allocation: only(ns),
    });
    await createService(kube, { name: 'v6', namespace: ns, ipFamilies: ['IPv6'], ipFamilyPolicy: 'SingleStack' });
    await createService(kube, {
      name: 'dual',
      namespace: ns,
      ipFamilies: ['IPv6', 'IPv4'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    await createService(kube, { name: 'prefer', namespace: ns, ipFamilyPolicy: 'PreferDualStack' });
    assert.deepEqual(await waitForIngress(kube, ns, 'v6'), ['2001:db8:1::']);
    const dual = await waitForIngress(kube, ns, 'dual', 2);
    assert.match(dual[0]!, /^2001:db8:1::[0-9a-f]+$/);
    assert.match(dual[1]!, /^198\.51\.100\.1[0-2]$/);
    const prefer = await waitForIngress(kube, ns, 'prefer', 2);
    assert.match(prefer[0]!, /^198\.51\.100\.1[0-2]$/, 'PreferDualStack follows ipFamilies order (IPv4 first)');
  });

  it('uses an autoAssign: false pool only when asked, by annotation or by address', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-manual`, { addresses: ['198.51.100.20/30'], autoAssign: false, allocation: only(ns) });
    await createService(kube, { name: 'plain', namespace: ns });
    await createService(kube, { name: 'named', namespace: ns, annotations: { 'beaconlb.io/ip-pool': `${ns}-manual` } });
    await createService(kube, {
      name: 'requested',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.23' },
    });
    assert.deepEqual(await waitForIngress(kube, ns, 'named'), ['198.51.100.20']);
    assert.deepEqual(await waitForIngress(kube, ns, 'requested'), ['198.51.100.23']);
    const event = await waitForEvent(kube, ns, 'plain', 'NoMatchingPool');
    assert.match(event.message, /no IPPool with IPv4 addresses serves/);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'plain')), []);
  });

  it('skips .0 and .255 with avoidBuggyIPs', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-buggy`, {
      addresses: ['203.0.113.255/32', '198.51.100.255-198.51.101.1'],
      avoidBuggyIPs: true,
      allocation: only(ns),
    });
    await createService(kube, { name: 'a', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'a'), ['198.51.101.1']);
    const status = await waitFor(
      'pool status',
      async () => (await readPool(kube, `${ns}-buggy`)).status?.['ipv4'] as { total: string } | undefined,
    );
    assert.equal(status.total, '1');
  });

  it('prefers pools by priority, then honours namespace and service selectors', async () => {
    const ns = await namespace({ team: 'blue' });
    await applyPool(kube, `${ns}-low`, { addresses: ['198.51.100.40/30'], allocation: only(ns, { priority: 20 }) });
    await applyPool(kube, `${ns}-high`, { addresses: ['198.51.100.44/30'], allocation: only(ns, { priority: 10 }) });
    await applyPool(kube, `${ns}-red-only`, {
      addresses: ['198.51.100.48/30'],
      allocation: { priority: 1, namespaceSelector: { matchLabels: { team: 'red' } } },
    });
    await applyPool(kube, `${ns}-shop`, {
      addresses: ['198.51.100.52/30'],
      allocation: only(ns, { priority: 5, serviceSelector: { matchLabels: { app: 'shop' } } }),
    });
    await createService(kube, { name: 'generic', namespace: ns });
    await createService(kube, { name: 'shop', namespace: ns, labels: { app: 'shop' } });
    assert.deepEqual(await waitForIngress(kube, ns, 'generic'), ['198.51.100.44']);
    assert.deepEqual(await waitForIngress(kube, ns, 'shop'), ['198.51.100.52']);
  });

  it('honours requests by spec.loadBalancerIP and the MetalLB annotations', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.56/29'], allocation: only(ns) });
    await applyPool(kube, `${ns}-other`, { addresses: ['203.0.113.8/29'], autoAssign: false, allocation: only(ns) });
    await createService(kube, { name: 'spec', namespace: ns, loadBalancerIP: '198.51.100.60' });
    await createService(kube, {
      name: 'metallb-ip',
      namespace: ns,
      annotations: { 'metallb.io/loadBalancerIPs': '198.51.100.61' },
    });
    await createService(kube, {
      name: 'metallb-pool',
      namespace: ns,
      annotations: { 'metallb.universe.tf/address-pool': `${ns}-other` },
    });
    assert.deepEqual(await waitForIngress(kube, ns, 'spec'), ['198.51.100.60']);
    assert.deepEqual(await waitForIngress(kube, ns, 'metallb-ip'), ['198.51.100.61']);
    assert.deepEqual(await waitForIngress(kube, ns, 'metallb-pool'), ['203.0.113.8']);
  });

  it('shares an address by key with disjoint ports; a clash is refused and the first holder keeps it', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.64/30'], allocation: only(ns) });
    const shared = { 'beaconlb.io/allow-shared-ip': 'web' };
    await createService(kube, { name: 'http', namespace: ns, annotations: shared, ports: [{ port: 80 }] });
    const [ip] = await waitForIngress(kube, ns, 'http');
    await createService(kube, {
      name: 'dns',
      namespace: ns,
      annotations: { ...shared, 'beaconlb.io/load-balancer-ips': ip! },
      ports: [{ port: 53, protocol: 'UDP' }],
    });
    await createService(kube, { name: 'https', namespace: ns, annotations: shared, ports: [{ port: 443 }] });
    assert.deepEqual(await waitForIngress(kube, ns, 'dns'), [ip]);
    assert.deepEqual(await waitForIngress(kube, ns, 'https'), [ip]);
    await createService(kube, {
      name: 'clash',
      namespace: ns,
      annotations: { ...shared, 'beaconlb.io/load-balancer-ips': ip! },
      ports: [{ port: 80 }],
    });
    const event = await waitForEvent(kube, ns, 'clash', 'SharingConflict');
    assert.match(event.message, /also uses TCP\/80/);
    await createService(kube, {
      name: 'policy',
      namespace: ns,
      annotations: { ...shared, 'beaconlb.io/load-balancer-ips': ip! },
      ports: [{ port: 8080 }],
      externalTrafficPolicy: 'Local',
    });
    assert.match((await waitForEvent(kube, ns, 'policy', 'SharingConflict')).message, /externalTrafficPolicy/);
    await createService(kube, {
      name: 'unshared',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': ip! },
      ports: [{ port: 9000 }],
    });
    assert.match((await waitForEvent(kube, ns, 'unshared', 'IPInUse')).message, /holds it/);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'http')), [ip]);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'clash')), []);
  });

  it('never touches a Service of another loadBalancerClass', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.68/30'], allocation: only(ns) });
    await createService(kube, { name: 'theirs', namespace: ns, loadBalancerClass: 'example.com/other' });
    await createService(kube, { name: 'ours', namespace: ns, loadBalancerClass: 'beaconlb.io/beaconlb' });
    assert.deepEqual(await waitForIngress(kube, ns, 'ours'), ['198.51.100.68']);
    await sleep(300);
    assert.deepEqual(ingressIps(await readService(kube, ns, 'theirs')), []);
    assert.deepEqual(await eventsFor(kube, ns, 'theirs'), []);
  });

  it('follows type changes, deletions and request changes; released addresses rest in quarantine', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.72/30'], allocation: only(ns) });
    await createService(kube, { name: 'a', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'a'), ['198.51.100.72']);
    await kube.core.patchNamespacedService(
      { name: 'a', namespace: ns, body: { spec: { type: 'ClusterIP', allocateLoadBalancerNodePorts: null } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitForIngress(kube, ns, 'a', 0);
    // .72 is quarantined: the next Service gets .73 although .72 is lower.
    await createService(kube, { name: 'b', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'b'), ['198.51.100.73']);
    await kube.core.patchNamespacedService(
      {
        name: 'b',
        namespace: ns,
        body: { metadata: { annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.75' } } },
      },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitFor('b to move to .75', async () =>
      ingressIps(await readService(kube, ns, 'b'))[0] === '198.51.100.75' ? true : undefined,
    );
    await kube.core.deleteNamespacedService({ name: 'b', namespace: ns });
    await createService(kube, { name: 'c', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'c'), ['198.51.100.74'], 'the lowest address not in quarantine');
    // After the quarantine (3 s) the released addresses are free again: .72 is the lowest.
    await sleep(3200);
    await createService(kube, { name: 'd', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'd'), ['198.51.100.72']);
  });

  it('moves a Service to another pool when its pool annotation changes', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-a`, { addresses: ['198.51.100.108/31'], autoAssign: false, allocation: only(ns) });
    await applyPool(kube, `${ns}-b`, { addresses: ['203.0.113.108/31'], autoAssign: false, allocation: only(ns) });
    await createService(kube, { name: 'mover', namespace: ns, annotations: { 'beaconlb.io/ip-pool': `${ns}-a` } });
    assert.deepEqual(await waitForIngress(kube, ns, 'mover'), ['198.51.100.108']);
    await kube.core.patchNamespacedService(
      { name: 'mover', namespace: ns, body: { metadata: { annotations: { 'beaconlb.io/ip-pool': `${ns}-b` } } } },
      (await import('@kubernetes/client-node')).setHeaderOptions('Content-Type', 'application/merge-patch+json'),
    );
    await waitFor('mover to move to pool b', async () =>
      ingressIps(await readService(kube, ns, 'mover'))[0] === '203.0.113.108' ? true : undefined,
    );
    assert.match((await waitForEvent(kube, ns, 'mover', 'AddressChanged')).message, /released 198\.51\.100\.108/);
    // The pool it left reports the address free again.
    await waitFor('pool a to show 0 allocated', async () =>
      (await readPool(kube, `${ns}-a`)).status?.['allocated'] === 0 ? true : undefined,
    );
  });

  it('moves a Service whose address leaves its pool, with an Event; a deleted pool releases its addresses', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.80/30'], allocation: only(ns, { priority: 1 }) });
    await applyPool(kube, `${ns}-spare`, { addresses: ['203.0.113.80/30'], allocation: only(ns, { priority: 2 }) });
    await createService(kube, { name: 'a', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'a'), ['198.51.100.80']);
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.82/31'], allocation: only(ns, { priority: 1 }) });
    await waitFor('a to move to .82', async () =>
      ingressIps(await readService(kube, ns, 'a'))[0] === '198.51.100.82' ? true : undefined,
    );
    assert.match(
      (await waitForEvent(kube, ns, 'a', 'AddressChanged')).message,
      /released 198\.51\.100\.80: no pool that serves this Service holds it any more/,
    );
    await deletePool(kube, `${ns}-p`);
    await waitFor('a to move to the spare pool', async () =>
      ingressIps(await readService(kube, ns, 'a'))[0] === '203.0.113.80' ? true : undefined,
    );
  });

  it('marks the later of two overlapping pools and never hands out an address twice', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-old`, { addresses: ['198.51.100.88/31'], allocation: only(ns, { priority: 1 }) });
    await sleep(1100); // creation timestamps have one-second resolution
    await applyPool(kube, `${ns}-new`, { addresses: ['198.51.100.88/30'], allocation: only(ns, { priority: 2 }) });
    const overlap = await waitFor('the Overlap condition', async () =>
      (await readPool(kube, `${ns}-new`)).status?.conditions?.find((c) => c.type === 'Overlap' && c.status === 'True'),
    );
    assert.match(overlap.message, new RegExp(`overlap with older pool ${ns}-old`));
    // Events about cluster-scoped objects live in `default` (the API server refuses them elsewhere).
    const poolEvent = await waitForEvent(kube, 'default', `${ns}-new`, 'Overlap');
    assert.match(poolEvent.message, new RegExp(`${ns}-old`));
    const oldPool = await readPool(kube, `${ns}-old`);
    assert.equal(oldPool.status?.conditions?.find((c) => c.type === 'Overlap')?.status, 'False');
    for (const name of ['a', 'b', 'c', 'd']) await createService(kube, { name, namespace: ns });
    const ips = await Promise.all(['a', 'b', 'c', 'd'].map(async (n) => (await waitForIngress(kube, ns, n))[0]));
    assert.deepEqual([...ips].sort(), ['198.51.100.88', '198.51.100.89', '198.51.100.90', '198.51.100.91']);
    await createService(kube, { name: 'e', namespace: ns });
    await waitForEvent(kube, ns, 'e', 'PoolExhausted');
  });

  it('reports exhaustion, then serves the waiting Service as soon as an address frees', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-tiny`, { addresses: ['198.51.100.96/32'], allocation: only(ns) });
    await createService(kube, { name: 'first', namespace: ns });
    assert.deepEqual(await waitForIngress(kube, ns, 'first'), ['198.51.100.96']);
    await createService(kube, { name: 'second', namespace: ns });
    const event = await waitForEvent(kube, ns, 'second', 'PoolExhausted');
    assert.match(event.message, new RegExp(`no free IPv4 address in ${ns}-tiny`));
    const started = performance.now();
    await kube.core.deleteNamespacedService({ name: 'first', namespace: ns });
    // Nothing else is free, so the quarantined address is reused at once.
    assert.deepEqual(await waitForIngress(kube, ns, 'second'), ['198.51.100.96']);
    assert.ok(performance.now() - started < 3000, 'served before the quarantine ended');
  });

  it('keeps pool status per family current', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.100/30', '2001:db8:2::/126'], allocation: only(ns) });
    await createService(kube, {
      name: 'a',
      namespace: ns,
      ipFamilies: ['IPv4', 'IPv6'],
      ipFamilyPolicy: 'RequireDualStack',
    });
    await createService(kube, { name: 'b', namespace: ns });
    await waitForIngress(kube, ns, 'a', 2);
    await waitForIngress(kube, ns, 'b');
    const status = await waitFor('pool usage', async () => {
      const s = (await readPool(kube, `${ns}-p`)).status;
      return s?.['allocated'] === 3 ? s : undefined;
    });
    assert.deepEqual(status['ipv4'], { total: '4', allocated: 2, available: '2' });
    assert.deepEqual(status['ipv6'], { total: '4', allocated: 1, available: '3' });
    assert.equal(status['available'], '5');
    assert.equal(status.conditions?.find((c) => c.type === 'Ready')?.status, 'True');
    const table = cluster.cp.kubectl(['get', 'ippool', `${ns}-p`]);
    assert.match(table, new RegExp(`${ns}-p\\s+\\S+\\s+true\\s+3\\s+5\\s+True`));
  });

  it('reports malformed requests as Events and leaves other Services alone', async () => {
    const ns = await namespace();
    await applyPool(kube, `${ns}-p`, { addresses: ['198.51.100.104/30'], allocation: only(ns) });
    await createService(kube, { name: 'good', namespace: ns });
    const [before] = await waitForIngress(kube, ns, 'good');
    await createService(kube, {
      name: 'bad-ip',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.300' },
    });
    await createService(kube, {
      name: 'two-v4',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '198.51.100.105,198.51.100.106' },
    });
    await createService(kube, {
      name: 'no-pool',
      namespace: ns,
      annotations: { 'beaconlb.io/ip-pool': 'does-not-exist' },
    });
    await createService(kube, {
      name: 'outside',
      namespace: ns,
      annotations: { 'beaconlb.io/load-balancer-ips': '203.0.113.200' },
    });
    assert.match(
      (await waitForEvent(kube, ns, 'bad-ip', 'InvalidRequest')).message,
      /annotation beaconlb\.io\/load-balancer-ips: .*198\.51\.100\.300/,
    );
    assert.match((await waitForEvent(kube, ns, 'two-v4', 'InvalidRequest')).message, /more than one IPv4 address/);
    assert.match((await waitForEvent(kube, ns, 'no-pool', 'UnknownPool')).message, /no IPPool named does-not-exist/);
    assert.match(
      (await waitForEvent(kube, ns, 'outside', 'RequestedIPNotInPool')).message,
      /203\.0\.113\.200 is in no eligible IPPool/,
    );
    assert.deepEqual(ingressIps(await readService(kube, ns, 'good')), [before]);
  });

  it('exports metrics for addresses in use and available, latency and failures', async () => {
    const text = await controller.metrics();
    assert.ok(metricValue(text, 'beaconlb_controller_status_writes_total{result="written"}') > 0, text.slice(0, 500));
    assert.match(text, /beaconlb_allocator_addresses_in_use\{pool="case-1-v4",family="ipv4"\} 1/);
    assert.match(text, /beaconlb_allocator_addresses_available\{pool="case-1-v4",family="ipv4"\} 7/);
    assert.match(text, /beaconlb_allocator_allocation_duration_seconds_count \d+/);
    assert.ok(metricValue(text, 'beaconlb_allocator_failures_total{reason="PoolExhausted"}') > 0);
  });
});
