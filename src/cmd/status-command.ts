import type { Command } from './command.ts';
import { notYet } from './not-yet.ts';

export const statusCommand: Command = {
  name: 'status',
  summary: 'Show pools with usage, Services with address and owner, and BGP sessions.',
  usage: 'status [flags]',
  flags: {
    kubeconfig: { type: 'string', description: 'Kubeconfig file.', env: 'KUBECONFIG' },
    output: { type: 'string', description: 'table or json.', default: 'table' },
  },
  run: () => Promise.resolve(notYet('status', 'the operations issue')),
};
