// Reads MetalLB's configuration objects from a cluster as MetalLB itself reads them: the metallb.io kinds in the one
// namespace it runs in. BGPPeer is read at v1beta2 (MetalLB's storage version), else v1beta1. A kind whose CRD is
// not installed (an older MetalLB has no Community) is reported as missing, not as an error.
import type { ApiClient } from './api/api-client.ts';
import { errorCode } from './api/api-error.ts';

interface MetalLbKind {
  kind: string;
  plural: string;
  /** Tried in order; the first one served is used. */
  versions: readonly string[];
}

export const METALLB_KINDS: readonly MetalLbKind[] = [
  { kind: 'IPAddressPool', plural: 'ipaddresspools', versions: ['v1beta1'] },
  { kind: 'L2Advertisement', plural: 'l2advertisements', versions: ['v1beta1'] },
  { kind: 'BGPAdvertisement', plural: 'bgpadvertisements', versions: ['v1beta1'] },
  { kind: 'BGPPeer', plural: 'bgppeers', versions: ['v1beta2', 'v1beta1'] },
  { kind: 'Community', plural: 'communities', versions: ['v1beta1'] },
  { kind: 'BFDProfile', plural: 'bfdprofiles', versions: ['v1beta1'] },
];

export interface MetalLbObjects {
  /** The objects, each with apiVersion and kind set. */
  objects: Array<Record<string, unknown>>;
  /** Kinds the API server does not serve. */
  missing: string[];
}

interface List {
  items?: Array<Record<string, unknown>>;
  metadata?: { continue?: string };
}

const PAGE = 500;

export async function readMetalLbObjects(client: ApiClient, namespace: string): Promise<MetalLbObjects> {
  const objects: Array<Record<string, unknown>> = [];
  const missing: string[] = [];
  for (const { kind, plural, versions } of METALLB_KINDS) {
    let served = false;
    for (const version of versions) {
      const path = `/apis/metallb.io/${version}/namespaces/${encodeURIComponent(namespace)}/${plural}`;
      try {
        let next: string | undefined;
        do {
          const list = await client.get<List>(path, { limit: PAGE, continue: next });
          for (const item of list.items ?? []) objects.push({ ...item, apiVersion: `metallb.io/${version}`, kind });
          next = list.metadata?.continue || undefined;
        } while (next !== undefined);
        served = true;
        break;
      } catch (error) {
        if (errorCode(error) !== 404) throw error;
      }
    }
    if (!served) missing.push(kind);
  }
  return { objects, missing };
}
