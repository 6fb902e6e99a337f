// Writes config/crd/*.yaml, src/core/config/api-types.generated.ts and docs/api-reference.md from the schemas in
// src/k8s/crd. `--check` writes nothing and exits 1 if a file differs from what would be written (run by the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedApiFiles } from '../src/k8s/crd/generated-files.ts';
import { API_GROUP, API_VERSION, crdDefinitions } from '../src/k8s/crd/crd-manifest.ts';
import type { CrdDefinition } from '../src/k8s/crd/crd-definition.ts';
import { namedSchemas, type Schema } from '../src/k8s/crd/schema-builders.ts';
import { ANNOTATIONS, MAX_RENUMBER_WINDOW_MS } from '../src/core/config/service-request.ts';
import { ALLOCATED_CONDITION } from '../src/core/config/allocation-record.ts';
import { RENUMBERING_CONDITION } from '../src/core/config/renumber-record.ts';

const API_REFERENCE = 'docs/api-reference.md';

/** Text for a Markdown table cell: one line, pipes escaped (also inside code spans, as GFM tables require). */
const cell = (text: string): string => text.replaceAll('\n', ' ').replaceAll('|', '\\|');
const code = (text: string): string => `\`${text}\``;
const anchor = (heading: string): string =>
  `#${heading
    .toLowerCase()
    .replaceAll(' ', '-')
    .replace(/[^a-z0-9-]/g, '')}`;

function typeText(schema: Schema): string {
  const name = namedSchemas.get(schema);
  if (name) return `[${name}](${anchor(name)})`;
  switch (schema.type) {
    case 'array':
      return schema.items ? `list of ${typeText(schema.items)}` : 'list';
    case 'object':
    case undefined:
      return schema.additionalProperties ? `map of ${typeText(schema.additionalProperties)}` : 'object';
    default:
      return schema.type;
  }
}

function range(min: number | undefined, max: number | undefined, unit: string): string | undefined {
  const u = unit ? ` ${unit}` : '';
  if (min !== undefined && max !== undefined) return min === max ? `exactly ${min}${u}` : `${min} to ${max}${u}`;
  if (min !== undefined) return `at least ${min}${u}`;
  if (max !== undefined) return `at most ${max}${u}`;
  return undefined;
}

/** The OpenAPI checks of one schema node, in words; CEL rules are listed in a table of their own. */
function validationText(schema: Schema, ruleTable: string): string {
  const parts: string[] = [];
  if (schema.enum) parts.push(`one of ${schema.enum.map(code).join(', ')}`);
  if (schema.pattern) parts.push(`pattern ${code(schema.pattern)}`);
  const value = range(schema.minimum, schema.maximum, '');
  if (value) parts.push(value);
  const length = range(schema.minLength, schema.maxLength, 'characters');
  if (length) parts.push(length);
  const items = range(schema.minItems, schema.maxItems, 'items');
  if (items) parts.push(items);
  if (schema.maxProperties !== undefined) parts.push(`at most ${schema.maxProperties} entries`);
  if (schema.format) parts.push(`format ${schema.format}`);
  if (schema['x-kubernetes-list-type'] === 'set') parts.push('items unique');
  if (schema['x-kubernetes-list-type'] === 'map') {
    parts.push(`one item per ${(schema['x-kubernetes-list-map-keys'] ?? []).map(code).join(', ')}`);
  }
  const values = schema.additionalProperties;
  if (values) {
    const valueLength = range(values.minLength, values.maxLength, 'characters');
    if (valueLength) parts.push(`values ${valueLength}`);
  }
  const rules = schema['x-kubernetes-validations']?.length ?? 0;
  if (rules > 0) parts.push(`${rules} CEL rule${rules > 1 ? 's' : ''} ([below](${anchor(ruleTable)}))`);
  return parts.join('; ');
}

function defaultText(value: unknown): string {
  return value === undefined ? '' : code(typeof value === 'string' ? value : JSON.stringify(value));
}

interface Row {
  path: string;
  schema: Schema;
  required: boolean;
}

/** Every field under `schema`, depth first; a named shared type (LabelSelector, Condition) below it is one row. */
function rows(schema: Schema, path: string, out: Row[], root = true): Row[] {
  if (!root && namedSchemas.has(schema)) return out;
  if (schema.type === 'array' && schema.items) {
    if (!namedSchemas.has(schema.items)) {
      out.push({ path: `${path}[]`, schema: schema.items, required: false });
      rows(schema.items, `${path}[]`, out, false);
    }
    return out;
  }
  const required = new Set(schema.required ?? []);
  for (const [key, child] of Object.entries(schema.properties ?? {})) {
    const here = path ? `${path}.${key}` : key;
    out.push({ path: here, schema: child, required: required.has(key) });
    rows(child, here, out, false);
  }
  return out;
}

function fieldTable(schema: Schema, path: string, ruleTable: string): string {
  const lines = [
    '| field | type | required | default | validation | description |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const row of rows(schema, path, [])) {
    lines.push(
      `| ${code(row.path)} | ${typeText(row.schema)} | ${row.required ? 'yes' : ''} | ${cell(defaultText(row.schema.default))} | ` +
        `${cell(validationText(row.schema, ruleTable))} | ${cell(row.schema.description ?? '')} |`,
    );
  }
  return lines.join('\n');
}

interface RuleRow {
  path: string;
  message: string;
  fieldPath: string | undefined;
}

/** The CEL rules under `schema`, not descending into named shared types (their rules are listed with them). */
function celRules(schema: Schema, path: string, out: RuleRow[], root = true): RuleRow[] {
  if (!root && namedSchemas.has(schema)) return out;
  for (const rule of schema['x-kubernetes-validations'] ?? []) {
    out.push({ path, message: rule.message ?? rule.messageExpression ?? rule.rule, fieldPath: rule.fieldPath });
  }
  if (schema.items) celRules(schema.items, `${path}[]`, out, false);
  for (const [key, child] of Object.entries(schema.properties ?? {}))
    celRules(child, path ? `${path}.${key}` : key, out, false);
  return out;
}

function ruleTable(schema: Schema, path: string): string {
  const rules = celRules(schema, path, []);
  if (rules.length === 0) return 'None.';
  const lines = ['| field | message |', '| --- | --- |'];
  for (const rule of rules)
    lines.push(`| ${code(rule.fieldPath ? `${rule.path}${rule.fieldPath}` : rule.path)} | ${cell(rule.message)} |`);
  return lines.join('\n');
}

function kindSection(def: CrdDefinition): string {
  const plural = def.plural;
  const columns = def.printerColumns.map((c) => c.name).join(', ');
  const rulesHeading = `${def.kind} validation rules`;
  return [
    `## ${def.kind}`,
    '',
    def.description,
    '',
    `${def.namespaced === true ? 'Namespaced' : 'Cluster-scoped'}. \`kubectl get ${plural}\` (short name${def.shortNames.length > 1 ? 's' : ''} ` +
      `${def.shortNames.map(code).join(', ')}) shows ${columns}; \`kubectl explain ${plural}.spec\` shows the descriptions below.`,
    '',
    `### ${def.kind} spec`,
    '',
    def.spec.description ?? '',
    '',
    fieldTable(def.spec, 'spec', rulesHeading),
    '',
    `### ${def.kind} status`,
    '',
    def.status.description ?? '',
    '',
    fieldTable(def.status, 'status', rulesHeading),
    '',
    `### ${rulesHeading}`,
    '',
    'CEL rules the API server checks on create and update; an object that breaks one is refused with the message,',
    'which names the field.',
    '',
    [ruleTable(def.spec, 'spec'), ruleTable(def.status, 'status')].filter((t) => t !== 'None.').join('\n') || 'None.',
    '',
  ].join('\n');
}

/** The shared types, each from the first place it is used (every use has the same fields). */
function sharedSections(defs: readonly CrdDefinition[]): string {
  const found = new Map<string, Schema>();
  const visit = (schema: Schema): void => {
    const name = namedSchemas.get(schema);
    if (name && !found.has(name)) found.set(name, schema);
    for (const child of Object.values(schema.properties ?? {})) visit(child);
    if (schema.items) visit(schema.items);
  };
  for (const def of defs) {
    visit(def.spec);
    visit(def.status);
  }
  const parts: string[] = [];
  for (const [name, schema] of [...found].sort(([a], [b]) => a.localeCompare(b))) {
    const rulesHeading = `${name} validation rules`;
    const rules = celRules(schema, '', []);
    parts.push(
      `### ${name}`,
      '',
      `As \`metav1.${name}\` in the Kubernetes API. The description of each field that uses it says what it selects or reports.`,
      '',
      fieldTable(schema, '', rulesHeading),
      '',
    );
    if (rules.length > 0) parts.push(`#### ${rulesHeading}`, '', ruleTable(schema, ''), '');
  }
  return parts.join('\n');
}

/** The Service's side of the API: the annotations Beacon LB reads and the conditions it writes. */
function serviceSection(): string {
  const names = (list: readonly string[]): string => list.map((n) => `\`${n}\``).join(', ');
  const rows: Array<[string, string]> = [
    [
      names(ANNOTATIONS.ipPool),
      'Pool names, comma-separated: the Service gets addresses only from these pools (`autoAssign` does not matter then).',
    ],
    [
      names(ANNOTATIONS.loadBalancerIPs),
      'Requested addresses, comma-separated, at most one per family (else `spec.loadBalancerIP`); each must lie in a pool that serves the Service.',
    ],
    [
      names(ANNOTATIONS.allowSharedIP),
      'Sharing key: Services with the same key may share an address (disjoint ports, same `externalTrafficPolicy`).',
    ],
    [
      names(ANNOTATIONS.renumberWindow),
      `A duration (\`90s\`, \`10m\`, \`24h\`; at most ${MAX_RENUMBER_WINDOW_MS / 3_600_000}h): the Service may be renumbered, and when it moves (its request changes, or its address is in a draining pool and not requested) the old address stays in its status and announced beside the new one for this long, then is released. ADR 0028.`,
    ],
  ];
  return [
    '## Service',
    '',
    'Beacon LB reads these annotations of a Service of `type: LoadBalancer` (the first one present of each row wins;',
    'the MetalLB names are honoured so Services move over unchanged). What they do together: [controller.md](controller.md).',
    '',
    '| annotation | meaning |',
    '| --- | --- |',
    ...rows.map(([name, meaning]) => `| ${name} | ${meaning} |`),
    '',
    'It writes `status.loadBalancer.ingress` and these conditions, in the same status write:',
    '',
    '| condition | message |',
    '| --- | --- |',
    `| \`${ALLOCATED_CONDITION}\` | the addresses the controller allocated, comma-separated: the speakers announce only these (ADR 0015; only the controller may write it) |`,
    `| \`${RENUMBERING_CONDITION}\` | during a renumbering window, each old address and when it is released: \`198.51.100.64 until 2026-12-07T22:00:00Z\`, comma-separated (ADR 0028) |`,
    '',
  ].join('\n');
}

function renderApiReference(defs: readonly CrdDefinition[]): string {
  return [
    '<!-- Generated by `npm run gen` (scripts/gen-api.ts) from the schemas in src/k8s/crd; do not edit by hand. -->',
    '# API reference',
    '',
    `Every kind of \`${API_GROUP}/${API_VERSION}\`, generated from the CRD schemas in \`src/k8s/crd\` (the same text as`,
    '`kubectl explain`). What the fields do together: [concepts.md](concepts.md); the controller and speakers:',
    '[controller.md](controller.md), [layer2.md](layer2.md), [bgp.md](bgp.md).',
    '',
    `Kinds: ${defs.map((d) => `[${d.kind}](${anchor(d.kind)})`).join(', ')}. Shared types: [LabelSelector](#labelselector), [Condition](#condition). Annotations and conditions of a [Service](#service).`,
    '',
    '- **required**: the field must be set whenever the object that holds it is set.',
    '- **default**: the API server fills it in when the field is absent and the object that holds it is present, and',
    '  stores it (so `kubectl get -o yaml` shows it).',
    '- **validation**: checked by the API server on create and update, before Beacon LB sees the object; a list `[]`',
    '  path is one item of the list. Rules that span objects (overlapping pools, unknown names) are not here: they',
    '  are reported as conditions and Events ([troubleshooting.md](troubleshooting.md#every-event-reason)).',
    '- **status** fields are written by Beacon LB, not by users.',
    '',
    ...defs.map(kindSection),
    serviceSection(),
    '## Shared types',
    '',
    sharedSections(defs),
  ].join('\n');
}

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of [
  ...generatedApiFiles(),
  [API_REFERENCE, renderApiReference(crdDefinitions)] as [string, string],
]) {
  const file = join(root, path);
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: written below, or stale in --check
  }
  if (current === text) continue;
  if (check) {
    console.error(`${path} is out of date: run npm run gen`);
    stale++;
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
