// Turns our CRD definitions into apiextensions.k8s.io/v1 CustomResourceDefinition objects.
import type { CrdDefinition } from './crd-definition.ts';
import { bgpAdvertisementCrd } from './bgp-advertisement.ts';
import { bgpPeerCrd } from './bgp-peer.ts';
import { ipPoolCrd } from './ip-pool.ts';
import { l2AdvertisementCrd } from './l2-advertisement.ts';
import { serviceAnnouncementCrd } from './service-announcement.ts';

export const API_GROUP = 'beaconlb.io';
export const API_VERSION = 'v1alpha1';

export const crdDefinitions: readonly CrdDefinition[] = [
  ipPoolCrd,
  l2AdvertisementCrd,
  bgpPeerCrd,
  bgpAdvertisementCrd,
  serviceAnnouncementCrd,
];

export function crdManifest(def: CrdDefinition): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: `${def.plural}.${API_GROUP}`,
      labels: { 'app.kubernetes.io/name': 'beaconlb', 'app.kubernetes.io/component': 'crd' },
    },
    spec: {
      group: API_GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: def.shortNames,
        categories: ['beaconlb'],
      },
      scope: def.namespaced === true ? 'Namespaced' : 'Cluster',
      versions: [
        {
          name: API_VERSION,
          served: true,
          storage: true,
          ...(def.statusSubresource === false ? {} : { subresources: { status: {} } }),
          additionalPrinterColumns: def.printerColumns,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description: def.description,
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'The versioned schema of this object: beaconlb.io/v1alpha1.',
                },
                kind: { type: 'string', description: `The kind of this object: ${def.kind}.` },
                metadata: { type: 'object' },
                spec: def.spec,
                status: def.status,
              },
              required: ['spec'],
            },
          },
        },
      ],
    },
  };
}
