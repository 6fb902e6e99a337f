// Where the API server is and who we are: from a kubeconfig file (current context) or in-cluster
// (the ServiceAccount token, CA and KUBERNETES_SERVICE_HOST/PORT). Bound ServiceAccount tokens rotate,
// so a token file is re-read when it is older than a minute.
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { createRequire } from 'node:module';

export interface Connection {
  server: URL;
  ca: Buffer | undefined;
  cert: Buffer | undefined;
  key: Buffer | undefined;
  /** Returns the bearer token to send, if any. */
  token: () => string | undefined;
  insecureSkipTlsVerify: boolean;
}

interface NamedEntry<T> {
  name: string;
  cluster?: T;
  user?: T;
  context?: T;
}

interface KubeconfigFile {
  'current-context'?: string;
  clusters?: Array<
    NamedEntry<{
      server: string;
      'certificate-authority'?: string;
      'certificate-authority-data'?: string;
      'insecure-skip-tls-verify'?: boolean;
    }>
  >;
  users?: Array<
    NamedEntry<{
      token?: string;
      tokenFile?: string;
      'client-certificate'?: string;
      'client-certificate-data'?: string;
      'client-key'?: string;
      'client-key-data'?: string;
    }>
  >;
  contexts?: Array<NamedEntry<{ cluster: string; user: string }>>;
}

const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

function tokenFromFile(path: string): () => string {
  let cached = '';
  let readAt = -Infinity;
  return () => {
    const now = performance.now();
    if (now - readAt > 60_000) {
      cached = readFileSync(path, 'utf8').trim();
      readAt = now;
    }
    return cached;
  };
}

/** JSON is valid YAML: kubeconfigs written as JSON need no YAML parser (it costs 14 MB of RSS to load). */
function parseKubeconfig(text: string): KubeconfigFile {
  try {
    return JSON.parse(text) as KubeconfigFile;
  } catch {
    const yaml = createRequire(import.meta.url)('yaml') as { parse: (t: string) => unknown };
    return yaml.parse(text) as KubeconfigFile;
  }
}

export function connectionFromKubeconfig(path: string): Connection {
  const file = parseKubeconfig(readFileSync(path, 'utf8'));
  const base = dirname(path);
  const resolve = (p: string): string => (isAbsolute(p) ? p : join(base, p));
  const contextName = file['current-context'];
  const context = file.contexts?.find((c) => c.name === contextName)?.context;
  if (!context) throw new Error(`kubeconfig ${path}: no current context`);
  const cluster = file.clusters?.find((c) => c.name === context.cluster)?.cluster;
  const user = file.users?.find((u) => u.name === context.user)?.user ?? {};
  if (!cluster) throw new Error(`kubeconfig ${path}: no cluster "${context.cluster}"`);
  const pem = (data: string | undefined, file: string | undefined): Buffer | undefined =>
    data ? Buffer.from(data, 'base64') : file ? readFileSync(resolve(file)) : undefined;
  const token = user.token;
  const tokenFile = user.tokenFile;
  return {
    server: new URL(cluster.server),
    ca: pem(cluster['certificate-authority-data'], cluster['certificate-authority']),
    cert: pem(user['client-certificate-data'], user['client-certificate']),
    key: pem(user['client-key-data'], user['client-key']),
    token: token !== undefined ? () => token : tokenFile ? tokenFromFile(resolve(tokenFile)) : () => undefined,
    insecureSkipTlsVerify: cluster['insecure-skip-tls-verify'] === true,
  };
}

export function connectionInCluster(env: NodeJS.ProcessEnv = process.env): Connection {
  const host = env['KUBERNETES_SERVICE_HOST'];
  const port = env['KUBERNETES_SERVICE_PORT'] ?? '443';
  if (!host) throw new Error('not running in a cluster (KUBERNETES_SERVICE_HOST is not set) and no --kubeconfig given');
  return {
    server: new URL(`https://${host.includes(':') ? `[${host}]` : host}:${port}`),
    ca: readFileSync(join(SERVICE_ACCOUNT_DIR, 'ca.crt')),
    cert: undefined,
    key: undefined,
    token: tokenFromFile(join(SERVICE_ACCOUNT_DIR, 'token')),
    insecureSkipTlsVerify: false,
  };
}

/** A kubeconfig file when given, else in-cluster, else $KUBECONFIG or ~/.kube/config. */
export function loadConnection(kubeconfig: string | undefined, env: NodeJS.ProcessEnv = process.env): Connection {
  if (kubeconfig) return connectionFromKubeconfig(kubeconfig);
  if (env['KUBERNETES_SERVICE_HOST']) return connectionInCluster(env);
  const fallback = env['KUBECONFIG'] ?? join(env['HOME'] ?? '/root', '.kube', 'config');
  return connectionFromKubeconfig(fallback);
}
