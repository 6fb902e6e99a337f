// Loading a kubeconfig (file, in-cluster, or default) and reading API errors.
import { ApiException, KubeConfig } from '@kubernetes/client-node';

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kc = new KubeConfig();
  if (path) kc.loadFromFile(path);
  else if (process.env['KUBERNETES_SERVICE_HOST']) kc.loadFromCluster();
  else kc.loadFromDefault();
  return kc;
}

/** The HTTP status of an API error, or undefined for other errors (network, timeouts). */
export function apiErrorCode(error: unknown): number | undefined {
  return error instanceof ApiException ? (error as ApiException<unknown>).code : undefined;
}

/** A short description of an API error for logs and Events (never includes request bodies). */
export function describeApiError(error: unknown): string {
  if (error instanceof ApiException) {
    const body = (error as ApiException<unknown>).body;
    let message = '';
    try {
      message = (JSON.parse(String(body)) as { message?: string }).message ?? '';
    } catch {
      message = '';
    }
    return `HTTP ${(error as ApiException<unknown>).code}${message ? `: ${message}` : ''}`;
  }
  return error instanceof Error ? error.message : String(error);
}
