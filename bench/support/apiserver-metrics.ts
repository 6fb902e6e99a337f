// The API server's own counters, read from its /metrics (Prometheus text) with the admin certificate: requests
// by verb and resource (apiserver_request_total) and watch events sent (apiserver_watch_events_total), so a
// benchmark can report what its clients cost the server between two scrapes.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import type { ControlPlane } from '../../src/lab/control-plane.ts';

/** One counter sample: its labels and value. */
export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

export function parsePrometheusText(text: string, names: ReadonlySet<string>): Sample[] {
  const samples: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const brace = line.indexOf('{');
    const space = line.lastIndexOf(' ');
    const name = brace >= 0 ? line.slice(0, brace) : line.slice(0, line.indexOf(' '));
    if (!names.has(name)) continue;
    const labels: Record<string, string> = {};
    if (brace >= 0) {
      const body = line.slice(brace + 1, line.lastIndexOf('}'));
      for (const m of body.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[m[1]!] = m[2]!;
    }
    samples.push({ name, labels, value: Number(line.slice(space + 1)) });
  }
  return samples;
}

const COUNTERS = new Set([
  'apiserver_request_total',
  'apiserver_watch_events_total',
  'apiserver_longrunning_requests',
  'etcd_requests_total',
  'apiserver_response_sizes_sum',
]);

export function scrapeApiServer(cp: ControlPlane): Promise<Sample[]> {
  const certs = cp.certificates;
  return new Promise((resolve, reject) => {
    const req = request(
      `${cp.url}/metrics`,
      {
        ca: readFileSync(certs.caCert),
        cert: readFileSync(certs.adminCert),
        key: readFileSync(certs.adminKey),
        timeout: 10_000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => {
          if (res.statusCode !== 200) reject(new Error(`/metrics answered ${res.statusCode}: ${body.slice(0, 200)}`));
          else resolve(parsePrometheusText(body, COUNTERS));
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error('/metrics timed out')));
    req.on('error', reject);
    req.end();
  });
}

function sum(
  samples: readonly Sample[],
  name: string,
  match: (labels: Record<string, string>) => boolean,
): Map<string, number> {
  const out = new Map<string, number>();
  for (const s of samples) {
    if (s.name !== name || !match(s.labels)) continue;
    const key = s.labels['verb'] ?? '';
    out.set(key, (out.get(key) ?? 0) + s.value);
  }
  return out;
}

/** Requests per second by verb between two scrapes, for the resource given (or all resources). */
export function requestRates(
  before: readonly Sample[],
  after: readonly Sample[],
  seconds: number,
  resource?: string,
): Record<string, number> {
  const match = (l: Record<string, string>): boolean => resource === undefined || l['resource'] === resource;
  const a = sum(before, 'apiserver_request_total', match);
  const b = sum(after, 'apiserver_request_total', match);
  const rates: Record<string, number> = {};
  for (const [verb, value] of b) {
    const delta = value - (a.get(verb) ?? 0);
    if (delta > 0) rates[verb] = Math.round((delta / seconds) * 10) / 10;
  }
  return rates;
}

/** Watch events the server sent per second between two scrapes, for the resource (plural, e.g. 'leases'). */
export function watchEventRate(
  before: readonly Sample[],
  after: readonly Sample[],
  seconds: number,
  resource: string,
): number {
  // Kubernetes labels this counter by resource (1.32+) or by kind (older): accept both.
  const match = (l: Record<string, string>): boolean =>
    l['resource'] === resource || l['kind']?.toLowerCase() === resource.replace(/s$/, '');
  const total = (samples: readonly Sample[]): number =>
    [...sum(samples, 'apiserver_watch_events_total', match).values()].reduce((x, y) => x + y, 0);
  return Math.round(((total(after) - total(before)) / seconds) * 10) / 10;
}

/** Long-running requests (watches) the server holds now for the resource. */
export function openWatches(samples: readonly Sample[], resource: string): number {
  return samples
    .filter(
      (s) =>
        s.name === 'apiserver_longrunning_requests' &&
        s.labels['resource'] === resource &&
        s.labels['verb'] === 'WATCH',
    )
    .reduce((x, s) => x + s.value, 0);
}
