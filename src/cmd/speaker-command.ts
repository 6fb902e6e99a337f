import type { Command } from './command.ts';
import { notYet } from './not-yet.ts';

export const speakerCommand: Command = {
  name: 'speaker',
  summary: 'Run the speaker on a node: announce addresses by ARP/NDP or BGP.',
  usage: 'speaker [flags]',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file; in-cluster config when absent.', env: 'KUBECONFIG' },
    'node-name': { type: 'string', description: 'The Node this speaker runs on.', env: 'NODE_NAME' },
    namespace: { type: 'string', description: 'Namespace of the heartbeat Leases and BGP Secrets.', default: 'beaconlb-system', env: 'BEACONLB_NAMESPACE' },
    'load-balancer-class': { type: 'string', description: 'spec.loadBalancerClass served besides unset.', default: 'beaconlb.io/beaconlb' },
    'renew-interval': { type: 'string', description: 'How often the heartbeat Lease is renewed.', default: '1s' },
    'lease-duration': { type: 'string', description: 'A peer whose Lease has not changed for this long is dead.', default: '3s' },
    'announce-interval': { type: 'string', description: 'Periodic gratuitous ARP / unsolicited NA for owned addresses.', default: '10s' },
    'metrics-address': { type: 'string', description: 'Listen address for /metrics, /healthz and /readyz.', default: ':7473' },
    'log-level': { type: 'string', description: 'trace, debug, info, warn or error.', default: 'info', env: 'BEACONLB_LOG_LEVEL' },
  },
  run: () => Promise.resolve(notYet('speaker', 'the speaker issues')),
};
