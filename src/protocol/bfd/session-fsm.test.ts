import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { bfdControlPacket } from '../testdata/bfd-arbitraries.ts';
import { receivedPacket } from '../testdata/bfd-received.ts';
import {
  BFD_DIAGNOSTIC,
  decodeBfdControlPacket,
  encodeBfdControlPacket,
  type BfdControlPacket,
  type BfdState,
} from './control-packet.ts';
import { detectionTimeMs, initialBfdState, stepBfd, transmitDelayMs } from './session-fsm.ts';
import type { BfdAction, BfdEvent, BfdSessionConfig, BfdSessionState } from './session-fsm.ts';

const CONFIG: BfdSessionConfig = {
  desiredMinTxMs: 100,
  requiredMinRxMs: 100,
  detectMultiplier: 3,
  passive: false,
  localDiscriminator: 0x1111,
};
const PEER = 0x2222;

function peer(state: BfdState, fields: Partial<BfdControlPacket> = {}): BfdEvent {
  const yourDiscriminator = state === 'Down' || state === 'AdminDown' ? 0 : CONFIG.localDiscriminator;
  return receivedPacket(state, PEER, yourDiscriminator, fields);
}

/** Runs events in order at 10 ms apart; returns the final state and every action. */
function run(
  events: readonly BfdEvent[],
  config: BfdSessionConfig = CONFIG,
  from?: BfdSessionState,
): { state: BfdSessionState; actions: BfdAction[] } {
  let state = from ?? initialBfdState(config, 0);
  const actions: BfdAction[] = [];
  events.forEach((event, i) => {
    const result = stepBfd(state, event, (i + 1) * 10);
    state = result.state;
    actions.push(...result.actions);
  });
  return { state, actions };
}

const sent = (actions: readonly BfdAction[]): BfdControlPacket[] =>
  actions.flatMap((a) => (a.type === 'send' ? [a.packet] : []));
const of = <T extends BfdAction['type']>(
  actions: readonly BfdAction[],
  type: T,
): Array<Extract<BfdAction, { type: T }>> =>
  actions.filter((a): a is Extract<BfdAction, { type: T }> => a.type === type);

const upState = (): BfdSessionState => run([{ type: 'Start' }, peer('Down'), peer('Up')]).state;

describe('BFD session FSM (RFC 5880 section 6.2, 6.8)', () => {
  it('RFC 5880 section 6.2: three-way handshake Down -> Init -> Up; slow rate (1 s) until Up, then a Poll Sequence for 100 ms', () => {
    const start = run([{ type: 'Start' }]);
    assert.equal(start.state.name, 'Down');
    assert.deepEqual(
      sent(start.actions).map((p) => [p.state, p.yourDiscriminator, p.desiredMinTxInterval, p.requiredMinRxInterval]),
      [['Down', 0, 1_000_000, 100_000]],
    );
    assert.deepEqual(of(start.actions, 'startTimer'), [{ type: 'startTimer', timer: 'transmit', ms: 1000 }]);

    const init = run([{ type: 'Start' }, peer('Down')]);
    assert.equal(init.state.name, 'Init');
    const initSent = sent(init.actions).at(-1);
    assert.deepEqual(
      [initSent?.state, initSent?.yourDiscriminator],
      ['Init', PEER],
      'Init is told at once, with Your Discriminator',
    );

    const up = run([{ type: 'Start' }, peer('Down'), peer('Up')]);
    assert.equal(up.state.name, 'Up');
    assert.equal(of(up.actions, 'up').length, 1);
    const first = sent(up.actions).at(-1);
    assert.deepEqual(
      [first?.state, first?.poll, first?.desiredMinTxInterval],
      ['Up', true, 100_000],
      'Up is told at once, polling for the fast rate',
    );
    assert.deepEqual(of(up.actions, 'startTimer').at(-1), { type: 'startTimer', timer: 'transmit', ms: 100 });
    assert.equal(detectionTimeMs(up.state), 300);
    // Periodic packets keep P until the peer's F.
    const tick = stepBfd(up.state, { type: 'TransmitTimerExpired' }, 100);
    assert.equal(sent(tick.actions)[0]?.poll, true);
    const final = stepBfd(up.state, peer('Up', { final: true }), 100);
    assert.equal(final.state.polling, false);
    assert.equal(sent(stepBfd(final.state, { type: 'TransmitTimerExpired' }, 200).actions)[0]?.poll, false);
  });

  it('RFC 5880 section 6.8.6: Down + peer Init goes straight to Up', () => {
    const result = run([{ type: 'Start' }, peer('Init')]);
    assert.equal(result.state.name, 'Up');
    assert.equal(result.state.lastTransition?.reason, 'peer-init');
  });

  it('RFC 5880 section 6.8.4: no packet for Detect Mult x the agreed interval: Down, diagnostic 1, a failure for clients', () => {
    const up = upState();
    const detection = of(run([{ type: 'Start' }, peer('Down'), peer('Up')]).actions, 'startTimer')
      .filter((t) => t.timer === 'detection')
      .at(-1);
    assert.deepEqual(detection, { type: 'startTimer', timer: 'detection', ms: 300 });
    const expired = stepBfd(up, { type: 'DetectionTimerExpired' }, 1000);
    assert.equal(expired.state.name, 'Down');
    assert.equal(expired.state.diagnostic, BFD_DIAGNOSTIC.controlDetectionTimeExpired);
    assert.equal(expired.state.remoteDiscriminator, 0, 'section 6.8.1: the remote discriminator is forgotten');
    assert.deepEqual(of(expired.actions, 'down'), [{ type: 'down', reason: 'detection-time-expired', failure: true }]);
    assert.deepEqual(
      sent(expired.actions).map((p) => [p.state, p.diagnostic, p.yourDiscriminator, p.desiredMinTxInterval]),
      [['Down', 1, 0, 1_000_000]],
    );
  });

  it('RFC 5880 section 6.8.4: the detection time uses the slower of our Required Min RX and the peer Desired Min TX, times the peer Detect Mult', () => {
    const slowPeer = run([{ type: 'Start' }, peer('Down', { desiredMinTxInterval: 1_000_000, detectMultiplier: 5 })]);
    assert.equal(detectionTimeMs(slowPeer.state), 5000);
    const fastPeer = run([{ type: 'Start' }, peer('Down', { desiredMinTxInterval: 10_000, detectMultiplier: 2 })], {
      ...CONFIG,
      requiredMinRxMs: 50,
    });
    assert.equal(detectionTimeMs(fastPeer.state), 100);
  });

  it('RFC 5880 section 6.8.6: Up + peer Down is a failure (diagnostic 3); peer AdminDown is not (RFC 5882 section 3.2)', () => {
    const down = stepBfd(upState(), peer('Down'), 500);
    assert.equal(down.state.name, 'Down');
    assert.equal(down.state.diagnostic, BFD_DIAGNOSTIC.neighborSignaledSessionDown);
    assert.deepEqual(of(down.actions, 'down'), [{ type: 'down', reason: 'peer-signaled-down', failure: true }]);
    const admin = stepBfd(upState(), peer('AdminDown', { yourDiscriminator: CONFIG.localDiscriminator }), 500);
    assert.equal(admin.state.name, 'Down');
    assert.deepEqual(of(admin.actions, 'down'), [{ type: 'down', reason: 'peer-admin-down', failure: false }]);
  });

  it('RFC 5880 section 6.5: a Poll is answered at once with Final (never both bits)', () => {
    const answer = stepBfd(upState(), peer('Up', { poll: true, desiredMinTxInterval: 300_000 }), 500);
    const packets = sent(answer.actions);
    assert.equal(packets.length, 1);
    assert.deepEqual([packets[0]?.final, packets[0]?.poll], [true, false]);
    // The peer's slower rate applies to the detection time at once (our transmit interval is ours: unchanged).
    assert.deepEqual(of(answer.actions, 'startTimer'), [{ type: 'startTimer', timer: 'detection', ms: 900 }]);
  });

  it('RFC 5880 section 6.8.6: packets for another discriminator, with Your Discriminator 0 outside Down, or with authentication are discarded', () => {
    const up = upState();
    assert.deepEqual(stepBfd(up, peer('Up', { yourDiscriminator: 99 }), 1).actions, [
      { type: 'discard', reason: 'your-discriminator-mismatch' },
    ]);
    assert.deepEqual(stepBfd(up, peer('Up', { yourDiscriminator: 0 }), 1).actions, [
      { type: 'discard', reason: 'zero-your-discriminator-when-not-down' },
    ]);
    assert.deepEqual(stepBfd(up, peer('Up', { authentication: { type: 1, data: new Uint8Array(4) } }), 1).actions, [
      { type: 'discard', reason: 'authentication-not-configured' },
    ]);
    assert.deepEqual(stepBfd(initialBfdState(CONFIG, 0), peer('Down'), 1).actions, [
      { type: 'discard', reason: 'session-admin-down' },
    ]);
  });

  it('RFC 5880 section 6.1: a passive session sends nothing before it hears the peer', () => {
    const passive = { ...CONFIG, passive: true };
    const quiet = run([{ type: 'Start' }, { type: 'TransmitTimerExpired' }, { type: 'TransmitTimerExpired' }], passive);
    assert.deepEqual(sent(quiet.actions), []);
    const heard = run([{ type: 'Start' }, peer('Down')], passive);
    assert.deepEqual(
      sent(heard.actions).map((p) => p.state),
      ['Init'],
    );
    assert.equal(heard.state.name, 'Init');
  });

  it('RFC 5880 section 6.8.7: no periodic packets while the peer asks for none (Required Min RX 0)', () => {
    const silent = run([{ type: 'Start' }, peer('Down', { requiredMinRxInterval: 0 })]);
    assert.deepEqual(sent(stepBfd(silent.state, { type: 'TransmitTimerExpired' }, 100).actions), []);
  });

  it('RFC 5880 section 6.8.16: Stop sends AdminDown with diagnostic 7 and stops both timers; not a failure', () => {
    const stopped = stepBfd(upState(), { type: 'Stop' }, 100);
    assert.equal(stopped.state.name, 'AdminDown');
    assert.deepEqual(
      sent(stopped.actions).map((p) => [p.state, p.diagnostic]),
      [['AdminDown', 7]],
    );
    assert.deepEqual(of(stopped.actions, 'down'), [{ type: 'down', reason: 'stopped', failure: false }]);
    assert.deepEqual(
      of(stopped.actions, 'stopTimer')
        .map((t) => t.timer)
        .sort(),
      ['detection', 'transmit'],
    );
  });

  it('RFC 5880 section 6.8.7: jitter takes 0-25% off the interval, 10-25% with Detect Mult 1', () => {
    assert.equal(transmitDelayMs(100, 3, 0), 100);
    assert.ok(Math.abs(transmitDelayMs(100, 3, 0.999_999) - 75.000025) < 1e-9);
    assert.equal(transmitDelayMs(100, 1, 0), 90);
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
        fc.integer({ min: 1, max: 255 }),
        (random, multiplier) => {
          const delay = transmitDelayMs(1000, multiplier, random);
          assert.ok(delay > 750 - 1e-9 && delay <= (multiplier === 1 ? 900 : 1000));
        },
      ),
    );
  });

  it('property: any event sequence keeps the state valid; up and down alternate; every packet sent is well formed', () => {
    const event: fc.Arbitrary<BfdEvent> = fc.oneof(
      fc.constant<BfdEvent>({ type: 'Start' }),
      fc.constant<BfdEvent>({ type: 'Stop' }),
      fc.constant<BfdEvent>({ type: 'TransmitTimerExpired' }),
      fc.constant<BfdEvent>({ type: 'DetectionTimerExpired' }),
      fc
        .constantFrom<BfdState>('AdminDown', 'Down', 'Init', 'Up')
        .chain((state) =>
          fc
            .record({ poll: fc.boolean(), final: fc.boolean(), zero: fc.boolean() })
            .map(({ poll, final, zero }) =>
              peer(state, { poll: poll && !final, final, ...(zero ? { yourDiscriminator: 0 } : {}) }),
            ),
        ),
      bfdControlPacket.map((packet): BfdEvent => ({ type: 'PacketReceived', packet })),
    );
    fc.assert(
      fc.property(fc.boolean(), fc.array(event, { maxLength: 40 }), (passive, events) => {
        const config = { ...CONFIG, passive };
        let state = initialBfdState(config, 0);
        let up = false;
        events.forEach((e, i) => {
          const result = stepBfd(state, e, i);
          for (const action of result.actions) {
            if (action.type === 'up') {
              assert.equal(up, false, 'up twice');
              up = true;
            }
            if (action.type === 'down') {
              assert.equal(up, true, 'down without up');
              up = false;
            }
            if (action.type === 'send') {
              const p = action.packet;
              assert.ok(!(p.poll && p.final));
              assert.equal(p.myDiscriminator, config.localDiscriminator);
              assert.equal(p.state, result.state.name);
              assert.ok(!p.poll || p.state === 'Up', 'a Poll only announces the Up rate');
              assert.deepEqual(decodeBfdControlPacket(encodeBfdControlPacket(p)), { ok: true, value: p });
              if (p.state !== 'Up') assert.ok(p.desiredMinTxInterval >= 1_000_000, 'section 6.8.3: 1 s before Up');
            }
            if (action.type === 'startTimer') assert.ok(Number.isFinite(action.ms) && action.ms >= 0);
          }
          assert.equal(up, result.state.name === 'Up');
          state = result.state;
        });
      }),
      { numRuns: 2000 },
    );
  });
});
