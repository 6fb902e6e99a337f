import type { Command } from './command.ts';
import { notYet } from './not-yet.ts';

export const controllerCommand: Command = {
  name: 'controller',
  summary: 'Run the controller: allocate addresses from IPPools to LoadBalancer Services.',
  usage: 'controller [flags]',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file; in-cluster config when absent.', env: 'KUBECONFIG' },
    namespace: { type: 'string', description: 'Namespace of the leader Lease.', default: 'beaconlb-system', env: 'BEACONLB_NAMESPACE' },
    'load-balancer-class': { type: 'string', description: 'spec.loadBalancerClass served besides unset.', default: 'beaconlb.io/beaconlb' },
    'leader-elect': { type: 'boolean', description: 'Take part in Lease leader election (only the leader writes).', default: true },
    'lease-duration': { type: 'string', description: 'Leader Lease duration.', default: '15s' },
    quarantine: { type: 'string', description: 'How long a released address rests before reuse.', default: '10s' },
    'metrics-address': { type: 'string', description: 'Listen address for /metrics, /healthz and /readyz.', default: ':7472' },
    'log-level': { type: 'string', description: 'trace, debug, info, warn or error.', default: 'info', env: 'BEACONLB_LOG_LEVEL' },
  },
  run: () => Promise.resolve(notYet('controller', 'the controller issue')),
};
