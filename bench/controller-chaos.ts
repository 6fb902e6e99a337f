// The controller chaos scenario (e2e/chaos-controller.test.ts: two replicas, leader kills, an API server restart,
// 2,000 Services churned) once per seed, one after the other; prints one JSON object: per run its seed, whether it
// passed, its invariant violations, its illegal sharing (moments in which the API server showed one address on two
// Services that may not share it, where the controller had seen both requests) and its raced joins (the same, but a
// client changed the other request after the joiner's write was computed: see e2e/support/service-invariants.ts),
// and the totals (goal: 0 violations, 0 illegal sharing).
// Usage: node bench/controller-chaos.ts [--seeds 1,2,3,4,5] [--quick]  (--quick: one seed, 500 Services, 5 kills)
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seeds: { type: 'string', default: '1,2,3,4,5' }, quick: { type: 'boolean', default: false } },
});
const seeds = (values.quick ? values.seeds.split(',').slice(0, 1) : values.seeds.split(',')).map(Number);
const root = join(import.meta.dirname, '..');

interface RunSummary {
  violations?: number;
  illegal_sharing?: number;
  raced_joins?: number;
  kills?: number;
  takeover_ms?: { p50: number; max: number };
  settle_ms?: { p50: number; max: number };
  duration_s?: number;
}

const runs: Array<Record<string, unknown>> = [];
for (const seed of seeds) {
  const started = performance.now();
  const res = spawnSync(process.execPath, ['--test', '--test-reporter=spec', 'e2e/chaos-controller.test.ts'], {
    cwd: root,
    encoding: 'utf8',
    env: {
      ...process.env,
      BEACONLB_CHAOS_SEED: String(seed),
      ...(values.quick ? { BEACONLB_CHAOS_SERVICES: '500', BEACONLB_CHAOS_KILLS: '5' } : {}),
    },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 900_000,
  });
  const out = `${res.stdout}\n${res.stderr}`;
  const line = out.split('\n').find((l) => l.startsWith('{"seed":'));
  const summary = line ? (JSON.parse(line) as RunSummary) : undefined;
  const failure = /^\s*(?:Error|AssertionError)[^\n]*$/m.exec(out)?.[0].trim();
  runs.push({
    seed,
    passed: res.status === 0,
    violations: summary?.violations ?? Number.NaN,
    illegal_sharing: summary?.illegal_sharing ?? Number.NaN,
    raced_joins: summary?.raced_joins ?? Number.NaN,
    kills: summary?.kills ?? 0,
    takeover_ms_max: summary?.takeover_ms?.max ?? Number.NaN,
    settle_ms_max: summary?.settle_ms?.max ?? Number.NaN,
    duration_s: Math.round((performance.now() - started) / 1000),
    ...(res.status === 0 ? {} : { failure: failure ?? `exit ${res.status ?? res.signal ?? '?'}` }),
  });
  console.error(JSON.stringify(runs.at(-1)));
}

const sum = (key: string): number =>
  runs.reduce((total, r) => total + (typeof r[key] === 'number' ? r[key] : Number.NaN), 0);
console.log(
  JSON.stringify({
    seeds,
    runs,
    failed_runs: runs.filter((r) => r['passed'] !== true).length,
    goal_failed_runs: 0,
    violations: sum('violations'),
    goal_violations: 0,
    illegal_sharing: sum('illegal_sharing'),
    goal_illegal_sharing: 0,
    raced_joins: sum('raced_joins'),
  }),
);
