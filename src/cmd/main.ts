#!/usr/bin/env node
// beaconlb: one binary for the controller, the speaker, the local lab and operator commands.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { helpText, parseFlags, UsageError, type Command } from './command.ts';
import { controllerCommand } from './controller-command.ts';
import { migrateMetallbCommand } from './migrate-metallb-command.ts';
import { speakerCommand } from './speaker-command.ts';
import { statusCommand } from './status-command.ts';

/**
 * `beaconlb lab` (src/lab: control plane, namespaces, stand-ins) is development tooling: the container image leaves
 * it out (see the Dockerfile), so it is loaded only where it is present.
 */
async function labCommands(): Promise<Command[]> {
  try {
    const { labCommand } = await import('./lab-command.ts');
    return [labCommand];
  } catch (err) {
    const missing = (err as NodeJS.ErrnoException).code === 'ERR_MODULE_NOT_FOUND' && /lab-command/.test(String(err));
    if (missing) return [];
    throw err;
  }
}

const commands: Command[] = [
  controllerCommand,
  speakerCommand,
  ...(await labCommands()),
  statusCommand,
  migrateMetallbCommand,
];

function version(): string {
  const pkg = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'package.json'), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

function usage(): string {
  return [
    'Usage: beaconlb <command> [flags]',
    '',
    'Beacon LB gives Services of type LoadBalancer external addresses on bare-metal clusters,',
    'announced by ARP/NDP (layer 2) or BGP.',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(16)}${c.summary}`),
    '',
    'Flags:',
    '  --help      Show help (also: beaconlb <command> --help)',
    '  --version   Print the version',
  ].join('\n');
}

export async function main(argv: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '--help' || first === '-h' || first === 'help') {
    console.log(usage());
    return first === undefined ? 2 : 0;
  }
  if (first === '--version' || first === 'version') {
    console.log(`beaconlb ${version()}`);
    return 0;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    console.error(`beaconlb: unknown command "${first}"\n\n${usage()}`);
    return 2;
  }
  try {
    const { flags, lists, positionals, help } = parseFlags(command, rest, env);
    if (help) {
      console.log(helpText(command));
      return 0;
    }
    return await command.run(flags, positionals, lists);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`beaconlb ${command.name}: ${err.message}\n\n${helpText(command)}`);
      return 2;
    }
    throw err;
  }
}

if (import.meta.main) {
  process.exitCode = await main(process.argv.slice(2), process.env);
}
