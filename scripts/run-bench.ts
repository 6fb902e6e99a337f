// `npm run bench`: builds the image's JavaScript, runs every benchmark in bench/ (each prints one JSON object),
// writes them to bench/results/latest.json and prints each figure next to its goal.
// Flags: --quick runs smaller sizes (for a smoke run); --only a,b runs only the named benchmarks; --scale-nodes
// 10,100,300 runs the liveness scale benchmark at those sizes (default 10 and 30, a few minutes per detection; each
// further size takes minutes more, see docs/performance.md); --services 50000 sizes the controller's burst.
// At the end it prints the scale table of old and new failure detection side by side (bench/support/scale-table.ts).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { scaleTable, type ScaleExtrapolation, type ScaleRun } from '../bench/support/scale-table.ts';

const root = join(import.meta.dirname, '..');
const { values: flags } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    only: { type: 'string' },
    'scale-nodes': { type: 'string' },
    services: { type: 'string' },
  },
});
const quick = flags.quick;
const only = flags.only?.split(',');
const node = process.execPath;
const scaleNodes = flags['scale-nodes'] ?? (quick ? '10' : '10,30');
const controllerServices = flags.services ?? (quick ? '500' : undefined);

const benches: Array<{ name: string; args: string[]; flags?: string[] }> = [
  { name: 'allocator', args: ['bench/allocator.ts'], flags: ['--expose-gc'] },
  { name: 'election', args: ['bench/election.ts'] },
  {
    name: 'controller-api',
    args: [
      'bench/controller-api.ts',
      ...(controllerServices ? ['--services', controllerServices] : []),
      ...(quick ? ['--steady', '5'] : []),
    ],
  },
  {
    name: 'speaker-layer2',
    args: ['bench/speaker-layer2.ts', ...(quick ? ['--trials', '3', '--addresses', '500'] : [])],
  },
  { name: 'bgp-codec', args: ['bench/bgp-codec.ts', ...(quick ? ['--prefixes', '20000'] : [])] },
  { name: 'speaker-bgp', args: ['bench/speaker-bgp.ts', ...(quick ? ['--services', '500', '--trials', '5'] : [])] },
  { name: 'bfd-detection', args: ['bench/bfd-detection.ts', ...(quick ? ['--trials', '3'] : [])] },
  {
    name: 'scale-liveness',
    args: [
      'bench/scale-liveness.ts',
      '--nodes',
      scaleNodes,
      ...(quick ? ['--steady', '10', '--trials', '3', '--warmup', '3'] : ['--steady', '20', '--trials', '5']),
    ],
  },
  { name: 'speaker-memory', args: ['bench/speaker-memory.ts', ...(quick ? ['--addresses', '500'] : [])] },
  { name: 'fuzz-decoders', args: ['bench/fuzz-decoders.ts', ...(quick ? ['--inputs', '100000'] : [])] },
  {
    name: 'package-ip-address',
    args: ['bench/package-ip-address.ts', ...(quick ? ['--rounds', '5'] : [])],
    flags: ['--expose-gc'],
  },
  { name: 'package-netlink', args: ['bench/package-netlink.ts', ...(quick ? ['--reads', '50', '--flaps', '5'] : [])] },
  { name: 'announcement-writes', args: ['bench/announcement-writes.ts', ...(quick ? ['--services', '500'] : [])] },
  { name: 'controller-chaos', args: ['bench/controller-chaos.ts', ...(quick ? ['--quick'] : [])] },
];

const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
if (build.status !== 0) process.exit(1);

const latest = join(root, 'bench/results/latest.json');
// With --only, the other benchmarks' last results stay in latest.json.
const results: Record<string, unknown> = {
  ...(only && existsSync(latest) ? (JSON.parse(readFileSync(latest, 'utf8')) as Record<string, unknown>) : {}),
  date: new Date().toISOString(),
  quick,
};
for (const bench of benches) {
  if (only && !only.includes(bench.name)) continue;
  console.error(`== ${bench.name}`);
  const res = spawnSync(node, [...(bench.flags ?? []), ...bench.args], {
    cwd: root,
    encoding: 'utf8',
    env: { ...process.env, BEACONLB_COMPILED: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  try {
    results[bench.name] = JSON.parse(res.stdout);
  } catch {
    results[bench.name] = { error: `exit ${res.status}`, output: res.stdout.slice(-2000) };
  }
}
mkdirSync(join(root, 'bench/results'), { recursive: true });
writeFileSync(latest, `${JSON.stringify(results, null, 2)}\n`);

/** Prints every numeric leaf; a leaf named goal_* is shown beside its sibling. */
function table(prefix: string, value: unknown): void {
  if (typeof value !== 'object' || value === null) return;
  const entries = Object.entries(value as Record<string, unknown>);
  const goals = new Map(entries.filter(([k]) => k.startsWith('goal_')).map(([k, v]) => [k.slice(5), v]));
  for (const [key, v] of entries) {
    if (key.startsWith('goal_')) continue;
    if (typeof v === 'number') {
      const goal = goals.get(key) ?? (goals.size === 1 ? [...goals.values()][0] : undefined);
      console.log(
        `${`${prefix}${key}`.padEnd(64)} ${String(v).padStart(12)}${goal === undefined ? '' : `   goal ${JSON.stringify(goal)}`}`,
      );
    } else table(`${prefix}${key}.`, v);
  }
}
table('', results);
const scale = results['scale-liveness'] as { runs?: ScaleRun[]; extrapolation?: ScaleExtrapolation } | undefined;
if (scale?.runs)
  console.log(
    `\nScale of layer-2 liveness, old (lease) and new (probes) detection:\n${scaleTable(scale.runs, scale.extrapolation)}`,
  );
console.log(`\nwritten to bench/results/latest.json`);
