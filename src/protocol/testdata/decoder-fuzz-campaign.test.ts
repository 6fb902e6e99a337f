// The decoder fuzz campaign at full size in the unit tests: a million inputs through every decoder of src/protocol
// and the BGP FSM (a few seconds), with a fixed seed so that a failure replays; `npm run bench` runs it again with a
// new seed each time (bench/fuzz-decoders.ts --seed <n> replays one).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runDecoderFuzzCampaign } from './decoder-fuzz-campaign.ts';

const SEED = 20_260_101;
const INPUTS = 1_000_000;

describe('decoder fuzz campaign', () => {
  it(`${INPUTS} fuzzed frames and BGP messages: no exception, every result well formed, every decoded value survives a round trip`, () => {
    const started = performance.now();
    const report = runDecoderFuzzCampaign({ seed: SEED, inputs: INPUTS });
    const ms = performance.now() - started;
    console.log(
      JSON.stringify({
        seed: SEED,
        inputs: report.inputs,
        ms: Math.round(ms),
        perSecond: Math.round((report.inputs * 1000) / ms),
        fsmSteps: report.fsmSteps,
        bfdFsmSteps: report.bfdFsmSteps,
        failures: report.failureCount,
      }),
    );
    assert.deepEqual(report.failures, [], `${report.failureCount} failures (seed ${SEED})`);
    assert.equal(report.inputs, INPUTS);

    // The campaign reaches deep: every decoder decodes some damaged inputs, and BGP reaches every classification.
    for (const [name, target] of Object.entries(report.targets)) {
      assert.ok(
        (target.outcomes['ok'] ?? 0) > target.inputs / 50,
        `${name}: only ${target.outcomes['ok'] ?? 0} of ${target.inputs} inputs decoded`,
      );
    }
    const bgp = Object.entries(report.targets).filter(([name]) => name.startsWith('bgp'));
    const kinds = new Set(bgp.flatMap(([, t]) => Object.keys(t.outcomes).map((label) => label.split(' ')[0])));
    assert.deepEqual([...kinds].sort(), ['attribute-discard', 'ok', 'session-reset', 'treat-as-withdraw']);
    assert.equal(
      report.fsmSteps,
      6 * bgp.reduce((sum, [, t]) => sum + t.inputs, 0),
      'every BGP outcome stepped through all six FSM states',
    );
    assert.equal(
      report.bfdFsmSteps,
      5 * (report.targets['bfd']?.outcomes['ok'] ?? 0),
      'every decoded BFD packet stepped through a session in each state',
    );
    assert.deepEqual(
      Object.keys(report.targets['bfd']?.outcomes ?? {}).sort(),
      ['invalid', 'malformed', 'ok', 'truncated', 'unsupported'],
      'BFD: every decode outcome reached',
    );
  });
});
