// How a subcommand describes itself: flags with types, defaults and help text, parsed by node:util parseArgs.
import { parseArgs } from 'node:util';

export interface FlagSpec {
  type: 'string' | 'boolean';
  description: string;
  default?: string | boolean;
  /** Environment variable read when the flag is not given. */
  env?: string;
  /** A string flag that may be given several times: run() gets every value in `lists` (and the last in `flags`). */
  multiple?: boolean;
}

export interface Command {
  name: string;
  summary: string;
  usage: string;
  flags: Record<string, FlagSpec>;
  /** Returns the process exit code. `lists` holds every value of each `multiple` flag, in the order given. */
  run(
    flags: Record<string, string | boolean | undefined>,
    positionals: string[],
    lists: Record<string, string[]>,
  ): Promise<number>;
}

export class UsageError extends Error {}

export function helpText(command: Command): string {
  const lines = [`Usage: beaconlb ${command.usage}`, '', command.summary, '', 'Flags:'];
  for (const [name, flag] of Object.entries(command.flags)) {
    const value = flag.type === 'string' ? ' <value>' : '';
    const defaults = [
      flag.default !== undefined && flag.default !== '' ? `default ${String(flag.default)}` : '',
      flag.env ? `env ${flag.env}` : '',
      flag.multiple ? 'repeatable' : '',
    ].filter(Boolean);
    lines.push(
      `  --${name}${value}`.padEnd(34) + flag.description + (defaults.length ? ` (${defaults.join(', ')})` : ''),
    );
  }
  lines.push('  --help'.padEnd(34) + 'Show this help.');
  return lines.join('\n');
}

export function parseFlags(
  command: Command,
  args: string[],
  env: NodeJS.ProcessEnv,
): {
  flags: Record<string, string | boolean | undefined>;
  lists: Record<string, string[]>;
  positionals: string[];
  help: boolean;
} {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        help: { type: 'boolean' },
        ...Object.fromEntries(
          Object.entries(command.flags).map(([name, f]) => [name, { type: f.type, multiple: f.multiple === true }]),
        ),
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const flags: Record<string, string | boolean | undefined> = {};
  const lists: Record<string, string[]> = {};
  for (const [name, spec] of Object.entries(command.flags)) {
    let given = (parsed.values as Record<string, string | boolean | Array<string | boolean> | undefined>)[name];
    if (spec.multiple) {
      lists[name] = Array.isArray(given) ? given.filter((v) => typeof v === 'string') : [];
      given = lists[name].at(-1);
    }
    const fromEnv = spec.env ? env[spec.env] : undefined;
    flags[name] = typeof given === 'string' || typeof given === 'boolean' ? given : (fromEnv ?? spec.default);
  }
  return { flags, lists, positionals: parsed.positionals, help: parsed.values.help === true };
}
