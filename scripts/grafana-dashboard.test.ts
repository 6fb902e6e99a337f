// docs/grafana/beaconlb-dashboard.json against the metrics the binaries register: every beaconlb_* name a panel or
// variable queries is registered by controllerPrometheus() or speakerPrometheus() (histograms only through their
// _bucket, _sum and _count series), every registered metric has a panel and a line in docs/operations.md, and the
// dashboard is a well-formed Grafana 10+ dashboard on a Prometheus datasource variable.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { controllerPrometheus } from '../src/controller/controller-prometheus.ts';
import { speakerPrometheus } from '../src/speaker/speaker-prometheus.ts';

const root = join(import.meta.dirname, '..');
const DASHBOARD = 'docs/grafana/beaconlb-dashboard.json';
const OPERATIONS = 'docs/operations.md';
const FIX = `change ${DASHBOARD} (and the metric table in ${OPERATIONS}) to match src/controller/controller-prometheus.ts and src/speaker/speaker-prometheus.ts`;

interface Target {
  expr?: string;
  refId?: string;
  datasource?: { type?: string; uid?: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type?: string; uid?: string };
  targets?: Target[];
  panels?: Panel[];
}
interface Variable {
  type: string;
  name: string;
  query?: string | { query?: string };
  definition?: string;
  datasource?: { type?: string; uid?: string };
}
interface Dashboard {
  title: string;
  uid: string;
  schemaVersion: number;
  templating: { list: Variable[] };
  panels: Panel[];
}

const dashboard = JSON.parse(readFileSync(join(root, DASHBOARD), 'utf8')) as Dashboard;

/** Every panel, rows' nested panels included. */
const panels: Panel[] = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
const queryPanels = panels.filter((p) => p.type !== 'row');

/** Every PromQL expression: panel targets, then query variables. */
const expressions: Array<{ where: string; expr: string }> = [
  ...queryPanels.flatMap((p) =>
    (p.targets ?? []).map((t) => ({ where: `panel "${p.title}" ${t.refId ?? ''}`, expr: t.expr ?? '' })),
  ),
  ...dashboard.templating.list
    .filter((v) => v.type === 'query')
    .map((v) => ({
      where: `variable $${v.name}`,
      expr: typeof v.query === 'string' ? v.query : (v.query?.query ?? v.definition ?? ''),
    })),
];

/** Metric name -> type, read from the registries' exposition text (`# TYPE <name> <type>`). */
function registered(): Map<string, string> {
  const types = new Map<string, string>();
  for (const { registry } of [controllerPrometheus(), speakerPrometheus()]) {
    for (const match of registry.render().matchAll(/^# TYPE (beaconlb_\w+) (\w+)$/gm)) {
      const [, name, type] = match;
      if (name && type) types.set(name, type);
    }
  }
  return types;
}

const metrics = registered();
const HISTOGRAM_SERIES = ['_bucket', '_sum', '_count'];

/** The registered metric a series name belongs to, or undefined. Histograms answer only to their three series. */
function metricOf(series: string): string | undefined {
  const type = metrics.get(series);
  if (type !== undefined) return type === 'histogram' ? undefined : series;
  const suffix = HISTOGRAM_SERIES.find((s) => series.endsWith(s));
  if (!suffix) return undefined;
  const base = series.slice(0, -suffix.length);
  return metrics.get(base) === 'histogram' ? base : undefined;
}

function seriesNames(expr: string): string[] {
  return [...expr.matchAll(/\bbeaconlb_\w+/g)].map((m) => m[0]);
}

describe(`${DASHBOARD} against the registered metrics`, () => {
  it('the registries are read: controller and speaker metrics, a histogram among them', () => {
    assert.ok(metrics.size >= 18, [...metrics.keys()].join(', '));
    assert.equal(metrics.get('beaconlb_allocator_allocation_duration_seconds'), 'histogram');
    assert.equal(metrics.get('beaconlb_bgp_session_up'), 'gauge');
    assert.equal(metrics.get('beaconlb_l2_answers_total'), 'counter');
  });

  it('every beaconlb_* series a panel or variable queries belongs to a registered metric', () => {
    const unknown = expressions.flatMap(({ where, expr }) =>
      seriesNames(expr)
        .filter((s) => metricOf(s) === undefined)
        .map((s) => `${where}: ${s}`),
    );
    assert.deepEqual(unknown, [], `not registered (histograms only as _bucket/_sum/_count): ${FIX}`);
  });

  it('every registered metric is on a panel', () => {
    const shown = new Set(
      expressions.filter((e) => !e.where.startsWith('variable')).flatMap(({ expr }) => seriesNames(expr).map(metricOf)),
    );
    const missing = [...metrics.keys()].filter((m) => !shown.has(m));
    assert.deepEqual(missing, [], `registered but on no panel: ${FIX}`);
  });

  it(`every registered metric is described in ${OPERATIONS}`, () => {
    const text = readFileSync(join(root, OPERATIONS), 'utf8');
    const missing = [...metrics.keys()].filter((m) => !new RegExp(`\`${m}[\`{]`).test(text));
    assert.deepEqual(missing, [], `not in the Metrics section of ${OPERATIONS}: ${FIX}`);
    const documented = [...text.matchAll(/`(beaconlb_\w+)[`{]/g)].map((m) => m[1] ?? '').filter((m) => !metrics.has(m));
    assert.deepEqual(documented, [], `${OPERATIONS} names metrics that are not registered`);
  });

  it('a Grafana 10+ dashboard: schema version, uid, unique panel ids, a 24-column grid without overlaps', () => {
    assert.ok(dashboard.schemaVersion >= 38, `schemaVersion ${dashboard.schemaVersion} (Grafana 10.0 writes 38)`);
    assert.equal(dashboard.uid, 'beaconlb');
    assert.ok(dashboard.title);
    const ids = panels.map((p) => p.id);
    assert.equal(new Set(ids).size, ids.length, 'panel ids are unique');
    const taken = new Map<string, string>();
    for (const p of panels) {
      const { x, y, w, h } = p.gridPos;
      assert.ok(x >= 0 && w > 0 && x + w <= 24 && h > 0, `${p.title}: ${JSON.stringify(p.gridPos)}`);
      for (let row = y; row < y + h; row++) {
        for (let col = x; col < x + w; col++) {
          const other = taken.get(`${row},${col}`);
          assert.equal(other, undefined, `"${p.title}" overlaps "${other ?? ''}"`);
          taken.set(`${row},${col}`, p.title);
        }
      }
    }
  });

  it('every query goes to the Prometheus datasource variable; every variable used is defined', () => {
    const datasource = dashboard.templating.list.find((v) => v.type === 'datasource');
    assert.ok(datasource, 'a datasource variable');
    assert.equal(datasource.query, 'prometheus');
    const ref = { type: 'prometheus', uid: `\${${datasource.name}}` };
    for (const p of queryPanels) {
      assert.deepEqual(p.datasource, ref, p.title);
      assert.ok((p.targets ?? []).length > 0, `${p.title} has a query`);
      for (const t of p.targets ?? []) {
        assert.deepEqual(t.datasource, ref, `${p.title} ${t.refId ?? ''}`);
        assert.ok(t.expr?.trim(), `${p.title} ${t.refId ?? ''} has an expression`);
      }
    }
    for (const v of dashboard.templating.list.filter((x) => x.type === 'query'))
      assert.deepEqual(v.datasource, ref, `$${v.name}`);
    const defined = new Set(dashboard.templating.list.map((v) => v.name));
    for (const { where, expr } of expressions) {
      for (const [, name] of expr.matchAll(/\$(\w+)/g))
        if (name && !name.startsWith('__')) assert.ok(defined.has(name), `${where}: $${name} is not a variable`);
    }
  });

  it('expressions are balanced and never query a histogram by its bare name', () => {
    for (const { where, expr } of expressions) {
      const stack: string[] = [];
      const pairs: Record<string, string> = { ')': '(', ']': '[', '}': '{' };
      for (const ch of expr.replace(/"(?:[^"\\]|\\.)*"/g, '""')) {
        if ('([{'.includes(ch)) stack.push(ch);
        else if (ch in pairs) assert.equal(stack.pop(), pairs[ch], `${where}: unbalanced ${ch} in ${expr}`);
      }
      assert.equal(stack.length, 0, `${where}: unclosed ${stack.join('')} in ${expr}`);
      for (const name of seriesNames(expr))
        assert.notEqual(
          metrics.get(name),
          'histogram',
          `${where}: ${name} has no series of that name; use ${name}_bucket`,
        );
    }
  });
});
