import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { notYet } from './not-yet.ts';

const actions = ['up', 'down', 'failover', 'status'] as const;

export const labCommand: Command = {
  name: 'lab',
  summary: 'Run a local lab: control plane, node namespaces with speakers, a router and clients.',
  usage: 'lab <up|down|failover|status> [flags]',
  flags: {
    nodes: { type: 'string', description: 'Number of node namespaces.', default: '3' },
    router: { type: 'string', description: 'BGP router implementation in the router namespace: bird or frr.', default: 'bird' },
    'state-dir': { type: 'string', description: 'Where the lab keeps its state and logs.', default: '/var/lib/beaconlb-lab' },
  },
  run(_flags, positionals) {
    const action = positionals[0];
    if (!action || !(actions as readonly string[]).includes(action)) {
      throw new UsageError(`expected one of ${actions.join(', ')}, got ${action ?? 'nothing'}`);
    }
    return Promise.resolve(notYet(`lab ${action}`, 'the lab issue'));
  },
};
