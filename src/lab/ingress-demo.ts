// The cluster lab's ingress demo: what the guides to exposing Services recommend, one LoadBalancer address in front
// of an ingress controller. Traefik (config/samples/ingress/traefik.yaml, applied as users apply it) gets its address
// from Beacon LB, pinned by annotation, with externalTrafficPolicy Local; two host names reach two backends through it,
// one routed by an Ingress and one by a Gateway API HTTPRoute (config/samples/ingress/routes.yaml). See docs/ingress.md
// and docs/adr/0030-ingress-controller-traefik.md.
import { join } from 'node:path';
import { runCachedBuild } from './cached-build.ts';
import type { ClusterLab } from './cluster-lab.ts';
import { execIn } from './netns.ts';
import { waitUntil } from './wait-until.ts';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
export const INGRESS_SAMPLE_DIR = join(REPO_ROOT, 'config', 'samples', 'ingress');

/** Where config/samples/ingress/traefik.yaml runs Traefik. */
export const INGRESS_CONTROLLER = {
  namespace: 'traefik',
  service: 'traefik',
  selector: 'app.kubernetes.io/name=traefik',
} as const;
/** The namespace of config/samples/ingress/routes.yaml and of the backends the lab puts behind it. */
export const INGRESS_ROUTES_NAMESPACE = 'default';
/** The address config/samples/ingress/traefik.yaml asks for (in the lab's pool, 198.51.100.64/28). */
export const INGRESS_IP = '198.51.100.72';

export interface IngressHost {
  readonly host: string;
  /** The Service (and Deployment, and Pod name prefix) that answers for the host. */
  readonly backend: string;
  /** What routes the host: an Ingress or a Gateway API HTTPRoute. */
  readonly route: 'Ingress' | 'HTTPRoute';
}

export const INGRESS_HOSTS: readonly IngressHost[] = [
  { host: 'blue.example.test', backend: 'blue', route: 'Ingress' },
  { host: 'green.example.test', backend: 'green', route: 'HTTPRoute' },
];

export interface IngressImage {
  /** Traefik's image, tagged with the official image's name (docker.io/library/traefik:<version>). */
  readonly image: string;
  /** docker-archive of it, for `ctr images import`. */
  readonly archive: string;
  /** The Gateway API CRDs (standard channel) of the version Traefik is built with. */
  readonly gatewayApiCrds: string;
  readonly gatewayApiVersion: string;
}

/** Builds (or finds) Traefik and its image (scripts/ingress-image.sh); progress goes to stderr. */
export function prepareIngressImage(): IngressImage {
  const { dir, value: valueOf } = runCachedBuild('ingress-image.sh', 'ingress.env');
  const field = (name: string): string => {
    const value = valueOf(name);
    if (!value) throw new Error(`${dir}/ingress.env has no ${name}`);
    return value;
  };
  return {
    image: field('TRAEFIK_IMAGE'),
    archive: join(dir, 'traefik.tar'),
    gatewayApiCrds: join(dir, 'gateway-api-crds.yaml'),
    gatewayApiVersion: field('GATEWAY_API_VERSION'),
  };
}

/** One Deployment and Service per host: the demo server answering with its Pod's name on port 8080. */
function backendObjects(demoImage: string): object[] {
  return INGRESS_HOSTS.flatMap(({ backend }) => [
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: backend, namespace: INGRESS_ROUTES_NAMESPACE },
      spec: {
        replicas: 1,
        selector: { matchLabels: { app: backend } },
        template: {
          metadata: { labels: { app: backend } },
          spec: {
            containers: [
              {
                name: 'hello',
                image: demoImage,
                imagePullPolicy: 'Never',
                ports: [{ containerPort: 8080 }],
                readinessProbe: { httpGet: { path: '/', port: 8080 }, periodSeconds: 1 },
              },
            ],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: backend, namespace: INGRESS_ROUTES_NAMESPACE },
      spec: { selector: { app: backend }, ports: [{ name: 'http', port: 80, targetPort: 8080 }] },
    },
  ]);
}

export interface IngressDemo {
  /** The one address Beacon LB gave Traefik's Service. */
  readonly ip: string;
  readonly hosts: readonly IngressHost[];
}

/**
 * Installs the Gateway API CRDs, Traefik from config/samples/ingress/traefik.yaml, two backends and
 * config/samples/ingress/routes.yaml; waits until Traefik and the backends are ready, the Service has its address and
 * every host name reaches its backend from the lab's client.
 */
export async function installIngressDemo(
  lab: ClusterLab,
  image: IngressImage,
  demoImage: string,
  timeoutSeconds = 180,
): Promise<IngressDemo> {
  const waitMs = (timeoutSeconds + 10) * 1000;
  // Server-side: the CRDs are larger than the client-side last-applied annotation allows.
  lab.kubectl(['apply', '--server-side', '-f', image.gatewayApiCrds]);
  const crds = ['gatewayclasses', 'gateways', 'httproutes', 'referencegrants'].map(
    (kind) => `crd/${kind}.gateway.networking.k8s.io`,
  );
  lab.kubectl(['wait', '--for=condition=Established', '--timeout=60s', ...crds], undefined, 70_000);
  lab.kubectl(['apply', '-f', join(INGRESS_SAMPLE_DIR, 'traefik.yaml')]);
  lab.kubectl(
    ['apply', '-f', '-'],
    JSON.stringify({ apiVersion: 'v1', kind: 'List', items: backendObjects(demoImage) }),
  );
  lab.kubectl(['apply', '-f', join(INGRESS_SAMPLE_DIR, 'routes.yaml')]);
  lab.kubectl(
    ['-n', INGRESS_CONTROLLER.namespace, 'rollout', 'status', 'deployment/traefik', `--timeout=${timeoutSeconds}s`],
    undefined,
    waitMs,
  );
  for (const { backend } of INGRESS_HOSTS) {
    lab.kubectl(
      ['-n', INGRESS_ROUTES_NAMESPACE, 'rollout', 'status', `deployment/${backend}`, `--timeout=${timeoutSeconds}s`],
      undefined,
      waitMs,
    );
  }
  const ip = await waitUntil(
    `an address for Service ${INGRESS_CONTROLLER.namespace}/${INGRESS_CONTROLLER.service}`,
    () => {
      const svc = JSON.parse(
        lab.kubectl(['-n', INGRESS_CONTROLLER.namespace, 'get', 'service', INGRESS_CONTROLLER.service, '-o', 'json']),
      ) as {
        status: { loadBalancer?: { ingress?: Array<{ ip?: string }> } };
      };
      return svc.status.loadBalancer?.ingress?.[0]?.ip;
    },
    60_000,
    250,
  );
  // Traefik serves a route once it has seen the route and the ready endpoints of its backend: wait until every host
  // name reaches a Pod of its own backend from the client (each answers with its Pod's name).
  await waitUntil(
    `every host name served through ${ip}`,
    async () => {
      const res = await execIn(lab.client.ns, ingressCurlArgs(ip), 8000);
      const lines = res.stdout.trim().split('\n');
      return res.code === 0 && INGRESS_HOSTS.every(({ backend }, i) => lines[i]?.startsWith(`${backend}-`))
        ? true
        : undefined;
    },
    waitMs,
    500,
  );
  return { ip, hosts: INGRESS_HOSTS };
}

/** curl's arguments for every host through `ip`, one URL per host (its answers come one per line). */
export function ingressCurlArgs(ip: string, hosts: readonly Pick<IngressHost, 'host'>[] = INGRESS_HOSTS): string[] {
  return [
    'curl',
    '-s',
    '--max-time',
    '3',
    ...hosts.flatMap(({ host }) => ['--resolve', `${host}:80:${ip}`]),
    ...hosts.map(({ host }) => `http://${host}/`),
  ];
}
