// `beaconlb migrate-metallb`: reads MetalLB configuration from YAML/JSON files (or stdin) or from a cluster, writes
// the equivalent Beacon LB objects as multi-document YAML, and prints one line on stderr per thing left out or
// changed in meaning. Exit code 0: everything translated; 2: something was left out (the rest is still written);
// 1: unreadable input. The translation itself is core/config/metallb-migration/.
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from './command.ts';
import { UsageError } from './command.ts';
import { optionalStringFlag, stringFlag } from './flag-values.ts';
import { ApiClient } from '../k8s/api/api-client.ts';
import { describeError } from '../k8s/api/api-error.ts';
import { loadConnection } from '../k8s/api/kube-config.ts';
import { METALLB_KINDS, readMetalLbObjects } from '../k8s/metallb-objects.ts';
import { migrateMetalLB } from '../core/config/metallb-migration/migrate-metallb.ts';
import { formatNote, somethingLeftOut } from '../core/config/metallb-migration/migration-notes.ts';
import type { MigratedObject, MigrationResult } from '../core/config/metallb-migration/migrated-objects.ts';
import { err, ok, type Result } from '../core/result.ts';
import type * as YamlModule from 'yaml';

const EXIT_LEFT_OUT = 2;
const EXIT_UNREADABLE = 1;
const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'];

/** The YAML library costs megabytes of memory: loaded (import()) only by this command, not by the controller or speaker. */
type Yaml = typeof YamlModule;

interface Input {
  /** A file path, or `(stdin)`. */
  name: string;
  text: string;
}

/** The files behind one --from-file value: the file, the manifests of a directory (not recursive, by name), or stdin. */
async function readInputs(path: string): Promise<Result<Input[]>> {
  try {
    if (path === '-') {
      const chunks: Buffer[] = [];
      for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
      return ok([{ name: '(stdin)', text: Buffer.concat(chunks).toString('utf8') }]);
    }
    if (statSync(path).isDirectory()) {
      const files = readdirSync(path)
        .filter((f) => MANIFEST_EXTENSIONS.some((e) => f.endsWith(e)))
        .sort()
        .map((f) => join(path, f));
      if (files.length === 0) return err(`${path}: the directory holds no ${MANIFEST_EXTENSIONS.join(', ')} file`);
      return ok(files.map((f) => ({ name: f, text: readFileSync(f, 'utf8') })));
    }
    return ok([{ name: path, text: readFileSync(path, 'utf8') }]);
  } catch (error) {
    return err(`${path}: ${(error as Error).message}`);
  }
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The Kubernetes objects of one multi-document YAML text; `List` documents (kubectl get -o yaml) are opened. */
export function objectsOfDocuments(yaml: Yaml, input: Input): Result<unknown[]> {
  const objects: unknown[] = [];
  for (const [index, doc] of yaml.parseAllDocuments(input.text).entries()) {
    const where = `${input.name}: document ${index + 1}`;
    const [problem] = doc.errors;
    if (problem) return err(`${where}: ${problem.message.split('\n')[0] ?? problem.message}`);
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) continue;
    if (!isRecord(value) || typeof value['kind'] !== 'string' || typeof value['apiVersion'] !== 'string') {
      return err(`${where}: not a Kubernetes object (a mapping with apiVersion and kind)`);
    }
    if (value['kind'].endsWith('List') && Array.isArray(value['items'])) {
      for (const [i, item] of value['items'].entries()) {
        if (!isRecord(item)) return err(`${where}: items[${i}] is not an object`);
        objects.push(item);
      }
    } else objects.push(value);
  }
  return ok(objects);
}

const HEADER = [
  '# Beacon LB objects translated from MetalLB by `beaconlb migrate-metallb`.',
  '# Read the notes it printed before applying: they list what was left out or behaves differently.',
];

function manifestText(yaml: Yaml, result: MigrationResult): string {
  const documents = result.objects.map((object: MigratedObject) => {
    const comment =
      object.kind === 'Secret'
        ? '# Placeholder: put the BGP password here (stringData.password) before applying; it was not copied from MetalLB.\n'
        : '';
    // YAML 1.1 quoting: kubectl and many tools read 1.1, where an unquoted yes, on or 64512:10 is no string.
    return comment + yaml.stringify(object, { version: '1.1', lineWidth: 0 });
  });
  return `${HEADER.join('\n')}\n${documents.map((d) => `---\n${d}`).join('')}`;
}

function summary(result: MigrationResult): string {
  const counts = new Map<string, number>();
  for (const o of result.objects) counts.set(o.kind, (counts.get(o.kind) ?? 0) + 1);
  const written = [...counts].map(([kind, n]) => `${n} ${kind}`).join(', ') || 'nothing';
  const by = (severity: string): number => result.notes.filter((n) => n.severity === severity).length;
  return `migrate-metallb: wrote ${written}; ${by('omitted')} left out, ${by('changed')} changed, ${by('skipped')} skipped`;
}

export const migrateMetallbCommand: Command = {
  name: 'migrate-metallb',
  summary: 'Translate MetalLB configuration (files or a cluster) into Beacon LB objects and report what differs.',
  usage: 'migrate-metallb (--from-file PATH... | --kubeconfig FILE) [flags]',
  flags: {
    'from-file': {
      type: 'string',
      multiple: true,
      description: 'MetalLB objects: a YAML/JSON file (multi-document), a directory of them, or - for stdin.',
    },
    kubeconfig: {
      type: 'string',
      description: 'Read the MetalLB objects from this cluster (when no --from-file is given).',
      env: 'KUBECONFIG',
    },
    'metallb-namespace': {
      type: 'string',
      description: 'The namespace MetalLB runs in (cluster reads).',
      default: 'metallb-system',
    },
    'password-namespace': {
      type: 'string',
      description: 'The namespace of the BGP password Secrets (the speaker reads no others).',
      default: 'beaconlb-bgp-passwords',
      env: 'BEACONLB_PASSWORD_NAMESPACE',
    },
    output: { type: 'string', description: 'Write the objects to this file instead of stdout.' },
  },
  async run(flags, positionals, lists) {
    if (positionals.length > 0)
      throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}; give files with --from-file`);
    const files = lists['from-file'] ?? [];
    const kubeconfig = optionalStringFlag(flags, 'kubeconfig');
    if (files.length === 0 && kubeconfig === undefined)
      throw new UsageError('give --from-file PATH (repeatable) or --kubeconfig FILE');
    const yaml = await import('yaml');
    const fail = (message: string): number => {
      console.error(`beaconlb migrate-metallb: ${message}`);
      return EXIT_UNREADABLE;
    };

    const objects: unknown[] = [];
    if (files.length > 0) {
      for (const path of files) {
        const inputs = await readInputs(path);
        if (!inputs.ok) return fail(`cannot read ${inputs.error}`);
        for (const input of inputs.value) {
          const parsed = objectsOfDocuments(yaml, input);
          if (!parsed.ok) return fail(`cannot read ${parsed.error}`);
          objects.push(...parsed.value);
        }
      }
    } else {
      const namespace = stringFlag(flags, 'metallb-namespace');
      let client: ApiClient | undefined;
      try {
        client = new ApiClient(loadConnection(kubeconfig), 'beaconlb-migrate-metallb');
        const read = await readMetalLbObjects(client, namespace);
        if (read.missing.length === METALLB_KINDS.length)
          return fail('the cluster serves no MetalLB kinds (metallb.io); is MetalLB installed?');
        for (const kind of read.missing)
          console.error(`note: the cluster does not serve metallb.io ${kind}; none read`);
        if (read.objects.length === 0)
          console.error(`note: no MetalLB objects in namespace ${namespace} (--metallb-namespace)`);
        objects.push(...read.objects);
      } catch (error) {
        return fail(`cannot read the MetalLB objects in namespace ${namespace}: ${describeError(error)}`);
      } finally {
        client?.close();
      }
    }

    const result = migrateMetalLB(objects, { secretNamespace: stringFlag(flags, 'password-namespace') });
    const text = manifestText(yaml, result);
    const output = optionalStringFlag(flags, 'output');
    if (output === undefined) process.stdout.write(text);
    else {
      try {
        writeFileSync(output, text);
      } catch (error) {
        return fail(`cannot write ${output}: ${(error as Error).message}`);
      }
    }
    for (const note of result.notes) console.error(formatNote(note));
    console.error(summary(result));
    return somethingLeftOut(result.notes) ? EXIT_LEFT_OUT : 0;
  },
};
