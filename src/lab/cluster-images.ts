// What the cluster lab runs: Beacon LB's image (built from the Dockerfile), the pause, demo and Traefik images, and
// the node components' binaries (kubelet, kube-proxy, kube-scheduler, kube-controller-manager); each built once by
// its script and cached.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { runCachedBuild } from './cached-build.ts';
import { buildImage, type BuiltImage } from './container-image.ts';
import { prepareIngressImage, type IngressImage } from './ingress-demo.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface ClusterImages {
  readonly beaconlb: BuiltImage;
  readonly pause: string;
  readonly demo: string;
  readonly dir: string;
  /** Traefik, for the ingress demo (ingress-demo.ts). */
  readonly ingress: IngressImage;
}

/** kubelet, kube-proxy, kube-scheduler, kube-controller-manager and pause (scripts/node-components.sh, cached). */
export function nodeComponentBinaries(): string {
  const fromEnv = process.env['BEACONLB_NODE_BIN'];
  if (fromEnv) return fromEnv;
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'node-components.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 3_600_000,
  })
    .trim()
    .split('\n')
    .pop();
  if (!out) throw new Error('scripts/node-components.sh printed no directory');
  process.env['BEACONLB_NODE_BIN'] = out;
  return out;
}

/** Builds (or finds) Beacon LB's image, the pause and demo images and Traefik's; progress goes to stderr. */
export function prepareClusterImages(): ClusterImages {
  const beaconlb = buildImage();
  const build = runCachedBuild('cluster-images.sh', 'images.env');
  const field = (name: string): string => build.value(name) ?? '';
  return {
    beaconlb,
    pause: field('PAUSE_IMAGE'),
    demo: field('DEMO_IMAGE'),
    dir: build.dir,
    ingress: prepareIngressImage(),
  };
}
