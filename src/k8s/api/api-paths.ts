// Collection and object paths of the resources Beacon LB uses.
import { API_GROUP, API_VERSION } from '../../core/config/api-types.generated.ts';

const ours = `/apis/${API_GROUP}/${API_VERSION}`;

export const paths = {
  services: () => '/api/v1/services',
  service: (namespace: string, name: string) => `/api/v1/namespaces/${namespace}/services/${name}`,
  namespaces: () => '/api/v1/namespaces',
  nodes: () => '/api/v1/nodes',
  events: (namespace: string) => `/api/v1/namespaces/${namespace}/events`,
  secrets: (namespace: string) => `/api/v1/namespaces/${namespace}/secrets`,
  endpointSlices: () => '/apis/discovery.k8s.io/v1/endpointslices',
  leases: (namespace: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases`,
  lease: (namespace: string, name: string) => `/apis/coordination.k8s.io/v1/namespaces/${namespace}/leases/${name}`,
  ours: (plural: string) => `${ours}/${plural}`,
  our: (plural: string, name: string) => `${ours}/${plural}/${name}`,
};
