// Fuzzes every decoder of src/protocol with a million inputs by default (prints one JSON object): Ethernet, ARP,
// IPv6, NDP, and BGP in both codec contexts (internal and external), each BGP outcome stepped through the session
// FSM in all six states, and BFD control packets, each decoded one stepped through a BFD session in every state. Inputs are random bytes and damaged captures of Linux, gobgpd, BIRD and FRR (see
// src/protocol/testdata/decoder-fuzz-campaign.ts). The seed is random unless given; a failure prints its bytes.
// Usage: node bench/fuzz-decoders.ts [--inputs 1000000] [--seed <n>]
import { parseArgs } from 'node:util';
import { runDecoderFuzzCampaign } from '../src/protocol/testdata/decoder-fuzz-campaign.ts';

const { values } = parseArgs({ options: { inputs: { type: 'string', default: '1000000' }, seed: { type: 'string' } } });
const inputs = Number(values.inputs);
const seed = values.seed === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(values.seed);

const started = performance.now();
const report = runDecoderFuzzCampaign({ seed, inputs, keepFailures: 10 });
const ms = performance.now() - started;
const kinds = (kind: string): number => report.failures.filter((f) => f.kind === kind).length;

const targets: Record<string, { inputs: number; decoded_ok_percent: number }> = {};
for (const [name, t] of Object.entries(report.targets)) {
  const ok = Object.entries(t.outcomes)
    .filter(([label]) => label === 'ok' || label === 'treat-as-withdraw' || label === 'attribute-discard')
    .reduce((sum, [, n]) => sum + n, 0);
  targets[name] = { inputs: t.inputs, decoded_ok_percent: Math.round((1000 * ok) / Math.max(1, t.inputs)) / 10 };
}
console.log(
  JSON.stringify({
    seed,
    inputs: report.inputs,
    duration_ms: Math.round(ms),
    inputs_per_second: Math.round((report.inputs * 1000) / ms),
    fsm_steps: report.fsmSteps,
    bfd_fsm_steps: report.bfdFsmSteps,
    crashes: report.failureCount,
    goal_crashes: 0,
    ...(report.failureCount > 0
      ? {
          first_failures: {
            exceptions: kinds('exception'),
            bad_results: kinds('bad-result'),
            round_trips: kinds('round-trip'),
            list: report.failures,
          },
        }
      : {}),
    targets,
  }),
);
if (report.failureCount > 0) process.exitCode = 1;
