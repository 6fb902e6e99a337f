// What a migration returns: the Beacon LB objects (and placeholder Secrets) and the notes.
import type { BGPAdvertisement, BGPPeer, IPPool, L2Advertisement } from '../api-types.generated.ts';
import type { MigrationNote } from './migration-notes.ts';

/** A Secret manifest written for a BGPPeer whose MetalLB object held a plain password. */
export interface SecretManifest {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  type: 'Opaque';
  stringData: Record<string, string>;
}

export type MigratedObject = IPPool | L2Advertisement | BGPPeer | BGPAdvertisement | SecretManifest;

export interface MigrationOptions {
  /** The BGP password namespace (beaconlb-bgp-passwords by default): where BGP password Secrets must live. */
  secretNamespace: string;
}

export interface MigrationResult {
  /** In apply order: Secrets, IPPools, L2Advertisements, BGPPeers, BGPAdvertisements; each kind sorted by name. */
  objects: MigratedObject[];
  notes: MigrationNote[];
}

/** What a placeholder Secret holds instead of the password, which is never copied. */
export const PASSWORD_PLACEHOLDER = 'REPLACE-WITH-THE-BGP-PASSWORD';
/** Annotation on every translated object: the MetalLB object it came from. */
export const MIGRATED_FROM_ANNOTATION = 'beaconlb.io/migrated-from';
/** The label the API server sets on every Namespace to its name (Kubernetes 1.22 and later). */
