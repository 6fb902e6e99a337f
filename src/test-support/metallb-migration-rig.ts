// The MetalLB migration tests' rig: MetalLB objects as a cluster holds them (pools, peers, any kind in metallb-system),
// migrate() with the tests' options, and the migrated objects and notes of a result picked out by kind.
import assert from 'node:assert/strict';
import { migrateMetalLB } from '../core/config/metallb-migration/migrate-metallb.ts';
import { type MigrationNote, type MigrationNoteKind } from '../core/config/metallb-migration/migration-notes.ts';
import {
  type MigratedObject,
  type MigrationResult,
  type SecretManifest,
} from '../core/config/metallb-migration/migrated-objects.ts';
import type { BGPAdvertisement, BGPPeer, IPPool, L2Advertisement } from '../core/config/api-types.generated.ts';

export const NS = 'metallb-system';
export const options = { secretNamespace: 'beaconlb-system' };

export const metallb = (
  kind: string,
  name: string,
  spec: Record<string, unknown>,
  extra: { apiVersion?: string; labels?: Record<string, string>; namespace?: string } = {},
): Record<string, unknown> => ({
  apiVersion: extra.apiVersion ?? (kind === 'BGPPeer' ? 'metallb.io/v1beta2' : 'metallb.io/v1beta1'),
  kind,
  metadata: { name, namespace: extra.namespace ?? NS, ...(extra.labels ? { labels: extra.labels } : {}) },
  spec,
});
export const pool = (
  name: string,
  spec: Record<string, unknown>,
  labels?: Record<string, string>,
): Record<string, unknown> => metallb('IPAddressPool', name, spec, labels ? { labels } : {});
export const peer = (name: string, spec: Record<string, unknown>, apiVersion?: string): Record<string, unknown> =>
  metallb(
    'BGPPeer',
    name,
    { myASN: 64512, peerASN: 64500, peerAddress: '198.51.100.1', holdTime: '90s', ...spec },
    apiVersion ? { apiVersion } : {},
  );

export const migrate = (...objects: unknown[]): MigrationResult => migrateMetalLB(objects, options);

export function only<K extends MigratedObject['kind']>(
  result: MigrationResult,
  kind: K,
): Array<Extract<MigratedObject, { kind: K }>> {
  return result.objects.filter((o): o is Extract<MigratedObject, { kind: K }> => o.kind === kind);
}
export const pools = (r: MigrationResult): IPPool[] => only(r, 'IPPool');
export const l2s = (r: MigrationResult): L2Advertisement[] => only(r, 'L2Advertisement');
export const peers = (r: MigrationResult): BGPPeer[] => only(r, 'BGPPeer');
export const bgpAdvs = (r: MigrationResult): BGPAdvertisement[] => only(r, 'BGPAdvertisement');
export const secrets = (r: MigrationResult): SecretManifest[] => only(r, 'Secret');
export const kinds = (r: MigrationResult): MigrationNoteKind[] => r.notes.map((n) => n.kind);
export const note = (r: MigrationResult, kind: MigrationNoteKind): MigrationNote => {
  const found = r.notes.find((n) => n.kind === kind);
  assert.ok(found, `no ${kind} note in ${JSON.stringify(r.notes, null, 1)}`);
  return found;
};
