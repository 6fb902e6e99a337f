// Leadership lost while the initial sync is still running, against the real API server: a controller wins the
// Lease, but its Service cache cannot sync yet (its ServiceAccount may not list Services: the initial list is held
// back for as long as the test wants, deterministically, where a merely slow list would race the steal); meanwhile
// another identity takes the Lease over. When the list finally succeeds (thousands of Services), the controller must
// not start allocating: that leadership term is over. Once the Lease is free again it leads and serves everyone.
// Sizes: BEACONLB_STOLEN_SERVICES (default 1,000; the hold-back, not the size, makes the race certain).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { INSTALL_NAMESPACE, useCluster } from './support/cluster.ts';
import { metricValue, startController } from './support/controller-process.ts';
import { applyPool, kubeClients, serviceManifest, waitFor } from './support/kube.ts';
import { ApiClient } from '../src/k8s/api/api-client.ts';
import { connectionFromKubeconfig } from '../src/k8s/api/kube-config.ts';
import { paths } from '../src/k8s/api/api-paths.ts';
import { microTime } from '../src/k8s/api/micro-time.ts';
import type { Lease } from '../src/k8s/leader-election.ts';
import type { ServiceObject } from '../src/core/config/service-object.ts';

const SERVICES = Number(process.env['BEACONLB_STOLEN_SERVICES'] || 1000);
const LEASE = 'beaconlb-controller';
const ELECTION = ['--lease-duration=2s', '--renew-deadline=1500ms', '--retry-period=250ms'];

describe('controller: leadership lost during the initial sync', () => {
  const cluster = useCluster();

  it(
    `a Lease taken over while the initial list of ${SERVICES} Services is held back starts no allocator`,
    { timeout: 600_000 },
    async () => {
      const client = new ApiClient(connectionFromKubeconfig(cluster.cp.kubeconfig), 'lease-stolen-test');
      cluster.defer(() => {
        client.close();
      });
      const kube = kubeClients(cluster.cp);
      await kube.core.createNamespace({ body: { metadata: { name: 'apps' } } });
      await applyPool(kube, 'main', { addresses: ['2001:db8:5::/112'] });
      const created = performance.now();
      let next = 0;
      await Promise.all(
        Array.from({ length: 32 }, async () => {
          while (next < SERVICES) {
            const name = `svc-${next++}`;
            await client.request(
              'POST',
              '/api/v1/namespaces/apps/services',
              serviceManifest({ name, namespace: 'apps', ipFamilies: ['IPv6'] }),
              { timeoutMs: 30_000 },
            );
          }
        }),
      );
      const createMs = performance.now() - created;

      // The controller's ServiceAccount may read namespaces but not Services, for now.
      const servicesReadable = (readable: boolean): void => {
        cluster.cp.kubectl([
          'patch',
          'clusterrole',
          'beaconlb-controller',
          '--type=json',
          '-p',
          JSON.stringify([
            {
              op: 'replace',
              path: '/rules/0/resources',
              value: readable ? ['services', 'namespaces'] : ['namespaces'],
            },
          ]),
        ]);
      };
      servicesReadable(false);
      const controller = await startController(cluster, ELECTION, { until: 'serving' });
      cluster.defer(() => controller.stop(2000));
      const lease = (): Promise<Lease> =>
        client.request<Lease>('GET', paths.lease(INSTALL_NAMESPACE, LEASE), undefined, { timeoutMs: 5000 });
      await waitFor(
        'the controller to hold the Lease',
        async () =>
          (await lease().catch(() => undefined))?.spec?.holderIdentity === controller.name ? true : undefined,
        20_000,
      );
      const ready = (): Promise<boolean> => controller.ready();
      assert.equal(await ready(), false, 'the Service cache synced although the controller may not list Services');

      // Another identity takes the Lease over (as a replica that judged it expired would).
      const taken = await lease();
      const now = microTime(new Date());
      taken.spec = {
        ...taken.spec,
        holderIdentity: 'thief',
        leaseDurationSeconds: 3600,
        acquireTime: now,
        renewTime: now,
        leaseTransitions: (taken.spec?.leaseTransitions ?? 0) + 1,
      };
      await client.request('PUT', paths.lease(INSTALL_NAMESPACE, LEASE), taken, { timeoutMs: 5000 });
      const log = (): string => readFileSync(controller.logFile, 'utf8');
      await waitFor(
        'the controller to step down',
        () => Promise.resolve(log().includes('"stopped leading"') ? true : undefined),
        20_000,
      );
      assert.equal(await ready(), false, 'the steal came after the initial sync');

      // Now the initial list goes through.
      servicesReadable(true);
      const listed = performance.now();
      await waitFor('the Service cache to sync', async () => ((await ready()) ? true : undefined), 120_000);
      const syncMs = performance.now() - listed;
      // Give a wrongly started allocator time to show itself: it writes within milliseconds of starting.
      await sleep(3000);
      const metrics = await controller.metrics();
      const written = metricValue(metrics, 'beaconlb_controller_status_writes_total{result="written"}');
      const list = await client.request<{ items: ServiceObject[] }>(
        'GET',
        '/api/v1/namespaces/apps/services',
        undefined,
        { timeoutMs: 60_000 },
      );
      const served = list.items.filter((svc) => (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0).length;
      console.log(
        JSON.stringify({
          services: SERVICES,
          create_ms: Math.round(createMs),
          sync_after_list_allowed_ms: Math.round(syncMs),
          written_while_not_leading: written,
          served_while_not_leading: served,
        }),
      );
      assert.equal((await lease()).spec?.holderIdentity, 'thief');
      assert.equal(metricValue(metrics, 'beaconlb_controller_leader'), 0, 'the controller says it leads');
      assert.equal(written, 0, 'the controller wrote Service status without holding the Lease');
      assert.equal(served, 0, 'Services got addresses while the controller did not hold the Lease');
      assert.ok(
        !log().includes('"allocation table rebuilt from Service status"'),
        'an allocator started without the Lease',
      );

      // The thief lets go: the controller leads, and this term starts the allocator.
      const released = await lease();
      released.spec = { ...released.spec, holderIdentity: '', leaseDurationSeconds: 1 };
      await client.request('PUT', paths.lease(INSTALL_NAMESPACE, LEASE), released, { timeoutMs: 5000 });
      await waitFor(
        'the controller to lead',
        async () => (metricValue(await controller.metrics(), 'beaconlb_controller_leader') === 1 ? true : undefined),
        20_000,
      );
      for (const name of ['svc-0', `svc-${SERVICES - 1}`]) {
        await waitFor(
          `${name} to get an address`,
          async () => {
            const svc = await client.request<ServiceObject>('GET', paths.service('apps', name), undefined, {
              timeoutMs: 10_000,
            });
            return (svc.status?.loadBalancer?.ingress?.length ?? 0) > 0 ? true : undefined;
          },
          120_000,
        );
      }
    },
  );
});
