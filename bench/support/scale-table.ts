// The scale table of issue #14's acceptance: per N, the old (lease) and the new (probes) failure detection side by
// side: Lease writes/s, Lease watch events/s, kube-apiserver CPU, kill -> new owners p50/p99. Markdown, so the same
// text goes into docs/performance.md. Printed by bench/scale-liveness.ts and by `npm run bench`.

/** One size of one detection, as bench/scale-liveness.ts records it (the fields the table reads). */
export interface ScaleRun {
  nodes: number;
  detection?: string;
  [key: string]: unknown;
}

interface Failover {
  trials?: number;
  new_owners_ms?: { p50: number; p99: number };
  errors?: string[];
}

const num = (v: unknown): string =>
  typeof v === 'number' && Number.isFinite(v) ? String(Math.round(v * 1000) / 1000) : '-';

function failover(r: ScaleRun | undefined): string {
  if (!r) return 'not run';
  const error = r['error'];
  if (error !== undefined) return `error: ${typeof error === 'string' ? error.slice(0, 40) : 'see JSON'}...`;
  const f = r['failover'] as Failover | undefined;
  const p = f?.new_owners_ms;
  if (!f?.trials || !p || !Number.isFinite(p.p50)) return `no kill measured${f?.errors?.length ? ' (see errors)' : ''}`;
  return `${(p.p50 / 1000).toFixed(2)} / ${(p.p99 / 1000).toFixed(2)} s (${f.trials})`;
}

function pair(lease: ScaleRun | undefined, probes: ScaleRun | undefined, key: string): string {
  return `${lease ? num(lease[key]) : '-'} / ${probes ? num(probes[key]) : '-'}`;
}

/** bench/scale-liveness.ts's `extrapolation` (the parts the table reads). */
export interface ScaleExtrapolation {
  /** By size (n300): lease_writes_per_s, lease_watch_events_per_s, apiserver_cpu_cores_at_least. */
  today?: Record<string, Record<string, number>>;
  /** renew10s by size: lease_writes_per_s, lease_watch_events_per_s, apiserver_cpu_cores_for_liveness. */
  adr0019_on_paper?: Record<string, Record<string, Record<string, number>>>;
}

/**
 * The table, one row per N; a cell reads "lease / probes"; failover cells show p50 / p99 (kills). With an
 * extrapolation, rows for the sizes past the measured ones (marked "on paper"; the probes' CPU is the marginal cost of
 * its Lease writes above an idle API server, the lease design's a lower bound).
 */
export function scaleTable(runs: readonly ScaleRun[], extrapolation?: ScaleExtrapolation): string {
  const sizes = [...new Set(runs.map((r) => r.nodes))].sort((a, b) => a - b);
  const find = (n: number, detection: string): ScaleRun | undefined =>
    runs.find((r) => r.nodes === n && (r.detection ?? 'lease') === detection);
  const rows = [
    '| N | Lease writes/s (lease / probes) | Lease watch events/s (lease / probes) | kube-apiserver CPU cores (lease / probes) | false deaths (lease / probes) | kill -> new owners p50 / p99, lease | kill -> new owners p50 / p99, probes |',
    '| --- | --- | --- | --- | --- | --- | --- |',
  ];
  for (const n of sizes) {
    const lease = find(n, 'lease');
    const probes = find(n, 'probes');
    rows.push(
      `| ${n} | ${pair(lease, probes, 'lease_writes_per_s')} | ${pair(lease, probes, 'lease_watch_events_sent_per_s')} | ${pair(lease, probes, 'apiserver_cpu_cores')} | ${pair(lease, probes, 'false_deaths_in_window')} | ${failover(lease)} | ${failover(probes)} |`,
    );
  }
  for (const [key, lease] of Object.entries(extrapolation?.today ?? {})) {
    const n = Number(key.replace(/^n/, ''));
    if (sizes.includes(n)) continue;
    const probes = extrapolation?.adr0019_on_paper?.['renew10s']?.[key];
    rows.push(
      `| ${n} (on paper) | ${num(lease['lease_writes_per_s'])} / ${num(probes?.['lease_writes_per_s'])} | ${num(lease['lease_watch_events_per_s'])} / ${num(probes?.['lease_watch_events_per_s'])} | >= ${num(lease['apiserver_cpu_cores_at_least'])} / +${num(probes?.['apiserver_cpu_cores_for_liveness'])} | - | - | - |`,
    );
  }
  return rows.join('\n');
}
