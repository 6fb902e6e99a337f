// The Helm chart charts/beaconlb beside config/: the helm binary (built by scripts/helm.sh), rendering, and the
// comparison with config/install.yaml that scripts/helm-chart.test.ts runs with the unit tests and
// e2e/helm-chart.test.ts uses against a real API server.
// `node scripts/helm-chart.ts --sync-crds` copies config/crd/*.yaml into charts/beaconlb/crds/ (after `npm run gen`).
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, globSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { parseAllDocuments } from 'yaml';

const root = join(import.meta.dirname, '..');

export const CHART_DIR = 'charts/beaconlb';
/** The namespace of config/install.yaml: the chart renders into the release namespace, so it is rendered there. */
export const CHART_NAMESPACE = 'beaconlb-system';
export const RELEASE_NAME = 'beaconlb';
/** Labels Helm charts add by convention; config/ has none of them. */
export const HELM_LABELS = [
  'app.kubernetes.io/instance',
  'app.kubernetes.io/version',
  'app.kubernetes.io/managed-by',
  'helm.sh/chart',
];
/** What to do when the chart and config/ disagree; printed with every difference. */
export const SYNC_HINT =
  `charts/beaconlb must install what config/install.yaml installs: make the same change in ${CHART_DIR}/templates ` +
  `(and ${CHART_DIR}/values.yaml for a default), run node scripts/helm-chart.ts --sync-crds after npm run gen, ` +
  'then node --test scripts/helm-chart.test.ts (docs/install.md, "Helm")';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  [field: string]: unknown;
}

/** The helm binary: $BEACONLB_HELM, else the path scripts/helm.sh prints on its last line (it builds helm once). */
export function helmPath(): string {
  const fromEnv = process.env['BEACONLB_HELM'];
  if (fromEnv) return fromEnv;
  const out = execFileSync('bash', [join(root, 'scripts', 'helm.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const path = out.trim().split('\n').pop();
  if (!path) throw new Error('scripts/helm.sh printed no path');
  process.env['BEACONLB_HELM'] = path;
  return path;
}

/** Runs helm; never throws for a non-zero exit. */
export function runHelm(
  args: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
): { status: number; stdout: string; stderr: string } {
  const result = spawnSync(helmPath(), args, {
    cwd: root,
    encoding: 'utf8',
    env,
    timeout: 120_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * `helm template` of the chart with the CRDs, as release `beaconlb` in `namespace`, plus extra arguments
 * (`--set ...`). Throws with helm's message on failure.
 */
export function renderChart(extra: readonly string[] = [], namespace = CHART_NAMESPACE): string {
  const result = runHelm([
    'template',
    RELEASE_NAME,
    join(root, CHART_DIR),
    '--namespace',
    namespace,
    '--include-crds',
    ...extra,
  ]);
  if (result.status !== 0) throw new Error(`helm template ${extra.join(' ')} failed: ${result.stderr}`);
  return result.stdout;
}

export function parseObjects(text: string): KubeObject[] {
  return parseAllDocuments(text)
    .map((doc) => doc.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

export function objectKey(o: KubeObject): string {
  return `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;
}

export function installObjects(): KubeObject[] {
  return parseObjects(readFileSync(join(root, 'config', 'install.yaml'), 'utf8'));
}

type Json = unknown;

/** Where two JSON values differ, as `path: a != b` lines (at most `limit`). */
function jsonDifferences(a: Json, b: Json, path: string, out: string[], limit: number): void {
  if (out.length >= limit || isDeepStrictEqual(a, b)) return;
  const show = (v: Json): string => (v === undefined ? '(absent)' : JSON.stringify(v));
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) {
      out.push(`${path}: ${a.length} items in config/, ${b.length} in the chart: ${show(a)} != ${show(b)}`);
      return;
    }
    a.forEach((item, i) => {
      jsonDifferences(item, b[i], `${path}[${i}]`, out, limit);
    });
    return;
  }
  if (
    a !== null &&
    b !== null &&
    typeof a === 'object' &&
    typeof b === 'object' &&
    !Array.isArray(a) &&
    !Array.isArray(b)
  ) {
    const ra = a as Record<string, Json>;
    const rb = b as Record<string, Json>;
    for (const key of [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort())
      jsonDifferences(ra[key], rb[key], `${path}.${key}`, out, limit);
    return;
  }
  out.push(`${path}: config/ has ${show(a)}, the chart ${show(b)}`);
}

/** The object with container images replaced by a placeholder and Helm's own labels removed. */
function comparable(o: KubeObject): KubeObject {
  const copy = structuredClone(o);
  const labels = copy.metadata.labels;
  if (labels) for (const label of HELM_LABELS) Reflect.deleteProperty(labels, label);
  const spec = copy['spec'] as
    | { template?: { spec?: { containers?: Array<{ image?: string }>; initContainers?: Array<{ image?: string }> } } }
    | undefined;
  for (const c of [...(spec?.template?.spec?.containers ?? []), ...(spec?.template?.spec?.initContainers ?? [])])
    c.image = '<image>';
  return copy;
}

/**
 * How the chart's objects differ from config/install.yaml's, images and Helm's labels aside: objects only one side
 * has (by kind, namespace and name), then field differences per object. Empty when they agree.
 */
export function chartDifferences(install: readonly KubeObject[], chart: readonly KubeObject[]): string[] {
  const out: string[] = [];
  const byKey = (objects: readonly KubeObject[]): Map<string, KubeObject> =>
    new Map(objects.map((o) => [objectKey(o), o]));
  const fromInstall = byKey(install);
  const fromChart = byKey(chart);
  for (const key of fromInstall.keys())
    if (!fromChart.has(key)) out.push(`${key}: in config/install.yaml, not rendered by the chart`);
  for (const key of fromChart.keys())
    if (!fromInstall.has(key)) out.push(`${key}: rendered by the chart, not in config/install.yaml`);
  for (const [key, o] of fromInstall) {
    const other = fromChart.get(key);
    if (!other) continue;
    const found: string[] = [];
    jsonDifferences(comparable(o), comparable(other), '', found, 10);
    out.push(...found.map((d) => `${key} ${d}`));
  }
  return out;
}

/** CRD files of config/crd (the kustomization aside) and of the chart, by file name. */
function crdFiles(dir: string): Map<string, string> {
  return new Map(
    globSync('*.yaml', { cwd: join(root, dir) })
      .filter((f) => f !== 'kustomization.yaml')
      .sort()
      .map((f) => [f, readFileSync(join(root, dir, f), 'utf8')]),
  );
}

/** How charts/beaconlb/crds differs from config/crd, byte for byte. Empty when identical. */
export function crdDifferences(): string[] {
  const source = crdFiles('config/crd');
  const chart = crdFiles(`${CHART_DIR}/crds`);
  const out: string[] = [];
  for (const [file, text] of source) {
    const copy = chart.get(file);
    if (copy === undefined) out.push(`${CHART_DIR}/crds/${file} is missing`);
    else if (copy !== text) out.push(`${CHART_DIR}/crds/${file} differs from config/crd/${file}`);
  }
  for (const file of chart.keys())
    if (!source.has(file)) out.push(`${CHART_DIR}/crds/${file} has no config/crd/${file}`);
  return out;
}

/** Makes charts/beaconlb/crds a copy of config/crd's CRD files. */
function syncCrds(): void {
  const source = crdFiles('config/crd');
  for (const file of crdFiles(`${CHART_DIR}/crds`).keys())
    if (!source.has(file)) rmSync(join(root, CHART_DIR, 'crds', file));
  for (const file of source.keys())
    copyFileSync(join(root, 'config', 'crd', file), join(root, CHART_DIR, 'crds', basename(file)));
  console.log(`${CHART_DIR}/crds: ${source.size} CRDs copied from config/crd`);
}

if (import.meta.main) {
  if (process.argv.includes('--sync-crds')) syncCrds();
  else {
    const problems = [...crdDifferences(), ...chartDifferences(installObjects(), parseObjects(renderChart()))];
    for (const p of problems) console.error(p);
    if (problems.length > 0) console.error(SYNC_HINT);
    else console.log(`${CHART_DIR} renders the objects of config/install.yaml`);
    process.exitCode = problems.length > 0 ? 1 : 0;
  }
}
