import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { notificationMessage, openMessage as anyOpen } from '../testdata/bgp-arbitraries.ts';
import { encodeBgpMessage } from './bgp-message.ts';
import type { NotificationMessage } from './notification-message.ts';
import type { SessionConfig } from './session-negotiation.ts';
import { initialSessionState, routeRefreshFor, step } from './session-fsm.ts';
import type { SessionAction, SessionEvent, SessionState, SessionStateName, SessionTimer } from './session-fsm.ts';
import { CONFIG, PEER_OPEN, UPDATE, run, lastActions, sent, ESTABLISH } from '../testdata/bgp-fsm-runs.ts';

const STATES: readonly SessionStateName[] = ['Idle', 'Connect', 'Active', 'OpenSent', 'OpenConfirm', 'Established'];

// ---------------------------------------------------------------------------------------------------------------
// Properties

const anyNotification: fc.Arbitrary<NotificationMessage> = notificationMessage;
const anyEvent: fc.Arbitrary<SessionEvent> = fc.oneof(
  { weight: 3, arbitrary: fc.constant({ type: 'ManualStart' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ManualStop' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'AutomaticStart' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'ConnectRetryTimerExpires' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'HoldTimerExpires' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'KeepaliveTimerExpires' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'IdleHoldTimerExpires' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'BfdDown' as const }) },
  { weight: 3, arbitrary: fc.constant({ type: 'TcpConnectionRequestAcked' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'TcpConnectionConfirmed' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'TcpConnectionFails' as const }) },
  { weight: 3, arbitrary: fc.constant({ type: 'BGPOpen' as const, open: PEER_OPEN }) },
  { weight: 1, arbitrary: anyOpen.map((open) => ({ type: 'BGPOpen' as const, open })) },
  { weight: 1, arbitrary: anyNotification.map((n) => ({ type: 'BGPHeaderErr' as const, notification: n })) },
  { weight: 1, arbitrary: anyNotification.map((n) => ({ type: 'BGPOpenMsgErr' as const, notification: n })) },
  { weight: 1, arbitrary: anyNotification.map((n) => ({ type: 'NotifMsg' as const, notification: n })) },
  { weight: 4, arbitrary: fc.constant({ type: 'KeepAliveMsg' as const }) },
  {
    weight: 2,
    arbitrary: fc
      .constantFrom('ok' as const, 'treat-as-withdraw' as const, 'attribute-discard' as const)
      .map((handling) => ({ type: 'UpdateMsg' as const, update: UPDATE, handling })),
  },
  { weight: 1, arbitrary: anyNotification.map((n) => ({ type: 'UpdateMsgErr' as const, notification: n })) },
  {
    weight: 1,
    arbitrary: fc.constant({ type: 'RouteRefreshMsg' as const, routeRefresh: routeRefreshFor('ipv4-unicast') }),
  },
  { weight: 1, arbitrary: anyNotification.map((n) => ({ type: 'RouteRefreshMsgErr' as const, notification: n })) },
);

const anyConfig: fc.Arbitrary<SessionConfig> = fc
  .record(
    {
      passive: fc.boolean(),
      holdTime: fc.constantFrom(0, 3, 9, 90, 240),
      idleHoldTime: fc.option(fc.constantFrom(0, 1, 5), { nil: undefined }),
    },
    { noNullPrototype: true },
  )
  .map(({ passive, holdTime, idleHoldTime }) => ({
    ...CONFIG,
    passive,
    holdTime,
    ...(idleHoldTime === undefined ? { idleHoldTime: undefined } : { idleHoldTime }),
  }))
  .map(({ idleHoldTime, ...rest }) => (idleHoldTime === undefined ? rest : { ...rest, idleHoldTime }));

/** Random events, with the happy path (connect, OPEN, KEEPALIVE) mixed in now and then so that runs get far. */
const events: fc.Arbitrary<[SessionEvent, number][]> = fc
  .array(
    fc.oneof(
      { weight: 8, arbitrary: anyEvent.map((event) => [event]) },
      {
        weight: 1,
        arbitrary: fc.constant<SessionEvent[]>([
          { type: 'TcpConnectionRequestAcked' },
          { type: 'BGPOpen', open: PEER_OPEN },
          { type: 'KeepAliveMsg' },
        ]),
      },
    ),
    { maxLength: 40 },
  )
  .chain((chunks) => {
    const flat = chunks.flat();
    return fc.tuple(...flat.map((event) => fc.tuple(fc.constant(event), fc.nat({ max: 100_000 }))));
  });

/** Applies timer actions the way a runner does; returns the running timers. */
function applyTimers(running: Set<SessionTimer>, actions: readonly SessionAction[]): void {
  for (const action of actions) {
    if (action.type === 'startTimer') running.add(action.timer);
    else if (action.type === 'stopTimer') running.delete(action.timer);
  }
}

function assertValid(
  state: SessionState,
  previous: SessionState,
  actions: readonly SessionAction[],
  now: number,
): void {
  assert.ok(STATES.includes(state.name));
  assert.ok(Number.isInteger(state.connectRetryCounter) && state.connectRetryCounter >= 0);
  assert.ok(state.since <= now);
  assert.equal(
    state.negotiated !== undefined,
    state.name === 'OpenConfirm' || state.name === 'Established',
    `negotiated in ${state.name}`,
  );
  const transitions = actions.filter((action) => action.type === 'transition');
  if (state.name !== previous.name) {
    assert.equal(transitions.length, 1);
    assert.deepEqual(actions[0], { type: 'transition', transition: state.lastTransition });
    assert.deepEqual(
      [state.lastTransition?.from, state.lastTransition?.to, state.lastTransition?.at],
      [previous.name, state.name, now],
    );
  } else {
    assert.equal(transitions.length, 0, `no transition action without a change of state (${previous.name})`);
  }
  for (const action of actions) {
    if (action.type === 'startTimer') assert.ok(Number.isFinite(action.ms) && action.ms >= 0);
    if (action.type === 'send') assert.ok(encodeBgpMessage(action.message, { fourOctetAs: true }).length >= 19);
  }
}

describe('BGP FSM: BFD Down (RFC 5882 section 4.3, RFC 9384)', () => {
  it('Established + BfdDown: Cease / BFD Down (subcode 10) sent, disconnect, down reported, restart after the idle hold time', () => {
    const result = run([...ESTABLISH, { type: 'BfdDown' }]);
    assert.equal(result.state.name, 'Idle');
    const actions = lastActions(result);
    assert.deepEqual(sent(actions), ['notification 6/10']);
    assert.ok(actions.some((a) => a.type === 'disconnect'));
    assert.deepEqual(
      actions.flatMap((a) => (a.type === 'down' ? [a.reason] : [])),
      ['bfd-down'],
    );
    assert.ok(actions.some((a) => a.type === 'startTimer' && a.timer === 'idleHold'));
    assert.equal(result.state.lastTransition?.reason, 'bfd-down');
  });

  it('BfdDown before an OPEN was sent closes the attempt without a NOTIFICATION; in Idle it changes nothing', () => {
    const connecting = run([{ type: 'ManualStart' }, { type: 'BfdDown' }]);
    assert.equal(connecting.state.name, 'Idle');
    assert.deepEqual(sent(lastActions(connecting)), []);
    const idle = run([{ type: 'BfdDown' }]);
    assert.deepEqual(lastActions(idle), []);
  });
});

describe('BGP FSM properties', () => {
  it('random event sequences never throw and always yield a valid state and well-formed actions', () => {
    fc.assert(
      fc.property(anyConfig, events, (config, sequence) => {
        let state = initialSessionState(config, 0);
        let now = 0;
        for (const [event, delay] of sequence) {
          now += delay;
          const result = step(state, event, now);
          assertValid(result.state, state, result.actions, now);
          state = result.state;
        }
      }),
      { numRuns: 3_000 },
    );
  });

  it('no event sequence reaches Established without an OPEN accepted from the peer and then a KEEPALIVE', () => {
    let established = 0;
    fc.assert(
      fc.property(anyConfig, events, (config, sequence) => {
        let state = initialSessionState(config, 0);
        let openAccepted = false;
        let sentOpen = false;
        let sentKeepalive = false;
        sequence.forEach(([event], index) => {
          const result = step(state, event, index);
          if (result.state.name === 'OpenSent' && state.name !== 'OpenSent') {
            openAccepted = false;
            sentKeepalive = false;
            sentOpen = result.actions.some((a) => a.type === 'send' && a.message.type === 'open');
          }
          if (result.state.name === 'OpenConfirm' && state.name === 'OpenSent') {
            assert.equal(event.type, 'BGPOpen');
            openAccepted = true;
            sentKeepalive = result.actions.some((a) => a.type === 'send' && a.message.type === 'keepalive');
          }
          if (result.state.name === 'Established' && state.name !== 'Established') {
            established++;
            assert.equal(state.name, 'OpenConfirm');
            assert.equal(event.type, 'KeepAliveMsg');
            assert.ok(openAccepted && sentOpen && sentKeepalive, 'an OPEN each way and our KEEPALIVE came first');
            assert.ok(result.actions.some((a) => a.type === 'established'));
          }
          if (result.state.name === 'Idle' || result.state.name === 'Connect' || result.state.name === 'Active')
            openAccepted = false;
          state = result.state;
        });
      }),
      { numRuns: 3_000 },
    );
    assert.ok(established > 100, `only ${established} runs reached Established`);
  });

  it('hold timer expiry always sends Hold Timer Expired and goes to Idle once an OPEN was sent; before that it changes nothing', () => {
    fc.assert(
      fc.property(anyConfig, events, (config, sequence) => {
        let state = initialSessionState(config, 0);
        const running = new Set<SessionTimer>();
        sequence.forEach(([event], index) => {
          const result = step(state, event, index);
          applyTimers(running, result.actions);
          state = result.state;
          // Runner view: the hold timer runs exactly while the session waits for the peer.
          const holdExpected =
            state.name === 'OpenSent' ||
            ((state.name === 'OpenConfirm' || state.name === 'Established') && (state.negotiated?.holdTime ?? 0) > 0);
          assert.equal(running.has('hold'), holdExpected, `hold timer in ${state.name}`);
          if (state.name === 'Idle')
            assert.ok(
              [...running].every((timer) => timer === 'idleHold'),
              [...running].join(),
            );

          const expired = step(state, { type: 'HoldTimerExpires' }, index + 0.5);
          if (state.name === 'OpenSent' || state.name === 'OpenConfirm' || state.name === 'Established') {
            assert.equal(expired.state.name, 'Idle');
            assert.equal(expired.state.lastTransition?.reason, 'hold-timer-expired');
            assert.deepEqual(sent(expired.actions), ['notification 4/0']);
            assert.equal(
              expired.actions.some((a) => a.type === 'down'),
              state.name === 'Established',
            );
          } else {
            assert.equal(expired.state, state);
            assert.deepEqual(expired.actions, []);
          }
        });
      }),
      { numRuns: 3_000 },
    );
  });
});
