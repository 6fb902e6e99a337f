import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { traefikArgs, traefikSample } from './lab-ingress.ts';

describe('the process lab ingress', () => {
  it('takes everything but the Deployment from config/samples/ingress/traefik.yaml, and its arguments', () => {
    const sample = traefikSample();
    const kinds = sample.objects.map((o) => o.kind);
    assert.ok(!kinds.includes('Deployment'), kinds.join());
    for (const kind of ['Namespace', 'ServiceAccount', 'ClusterRole', 'ClusterRoleBinding', 'Service', 'Gateway'])
      assert.ok(kinds.includes(kind), `${kind} in ${kinds.join()}`);
    assert.equal(sample.webPort, 8000);
    assert.ok(sample.args.includes('--providers.kubernetesIngress=true'));
    assert.ok(sample.args.includes('--providers.kubernetesGateway=true'));
  });

  it('runs Traefik outside the cluster: endpoint, CA and token per provider, /ping off the lab backend port', () => {
    const args = traefikArgs(traefikSample().args, {
      url: 'https://127.0.0.1:6443',
      caFile: '/x/ca.crt',
      tokenFile: '/x/traefik.token',
    });
    for (const provider of ['kubernetesIngress', 'kubernetesGateway']) {
      assert.ok(args.includes(`--providers.${provider}.endpoint=https://127.0.0.1:6443`), args.join(' '));
      assert.ok(args.includes(`--providers.${provider}.certAuthFilePath=/x/ca.crt`));
      assert.ok(args.includes(`--providers.${provider}.token=/x/traefik.token`));
    }
    assert.ok(args.includes('--entryPoints.traefik.address=:9000/tcp'), args.join(' '));
    assert.ok(!args.some((a) => a.includes(':8080')), args.join(' '));
    assert.ok(args.includes('--entryPoints.web.address=:8000/tcp'));
  });
});
