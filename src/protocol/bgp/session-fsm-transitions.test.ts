import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as peers from '../testdata/bgp-captures.ts';
import { fromHex } from '../testdata/hex-bytes.ts';
import { KEEPALIVE, decodeBgpMessage } from './bgp-message.ts';
import { ceaseNotification, notification } from './notification-message.ts';
import { localOpen, type SessionConfig } from './session-negotiation.ts';
import {
  eventForInbound,
  initialSessionState,
  routeRefreshFor,
  step,
  type SessionAction,
  type SessionEvent,
} from './session-fsm.ts';
import { CONFIG, PEER_OPEN, UPDATE, run, lastActions, sent, ESTABLISH } from '../testdata/bgp-fsm-runs.ts';

function withoutTransition(actions: readonly SessionAction[]): SessionAction[] {
  return actions.filter((action) => action.type !== 'transition');
}

describe('BGP FSM (RFC 4271 section 8)', () => {
  it('RFC 4271 section 8.2.2: ManualStart, connect, OPEN, KEEPALIVE: Idle > Connect > OpenSent > OpenConfirm > Established', () => {
    const result = run(ESTABLISH);
    assert.deepEqual(
      result.steps.map(({ from, to }) => `${from}>${to}`),
      ['Idle>Connect', 'Connect>OpenSent', 'OpenSent>OpenConfirm', 'OpenConfirm>Established'],
    );
    const [start, connected, opened, kept] = result.steps.map((s) => withoutTransition(s.actions));
    assert.deepEqual(start, [
      { type: 'stopTimer', timer: 'idleHold' },
      { type: 'startTimer', timer: 'connectRetry', ms: 5000 },
      { type: 'connect' },
    ]);
    assert.deepEqual(connected, [
      { type: 'stopTimer', timer: 'connectRetry' },
      { type: 'send', message: localOpen(CONFIG) },
      { type: 'startTimer', timer: 'hold', ms: 240_000 },
    ]);
    assert.deepEqual(opened, [
      { type: 'stopTimer', timer: 'connectRetry' },
      { type: 'send', message: KEEPALIVE },
      { type: 'startTimer', timer: 'keepalive', ms: 30_000 },
      { type: 'startTimer', timer: 'hold', ms: 90_000 },
    ]);
    assert.equal(kept?.[0]?.type, 'startTimer');
    assert.equal(kept[1]?.type, 'established');
    assert.deepEqual(
      result.steps.map((s) => s.actions[0]),
      [
        { type: 'transition', transition: { from: 'Idle', to: 'Connect', reason: 'manual-start', at: 1000 } },
        {
          type: 'transition',
          transition: { from: 'Connect', to: 'OpenSent', reason: 'tcp-connection-established', at: 2000 },
        },
        { type: 'transition', transition: { from: 'OpenSent', to: 'OpenConfirm', reason: 'open-accepted', at: 3000 } },
        {
          type: 'transition',
          transition: { from: 'OpenConfirm', to: 'Established', reason: 'keepalive-received', at: 4000 },
        },
      ],
    );
    assert.equal(result.state.since, 4000);
    assert.equal(result.state.negotiated?.holdTime, 90);
  });

  it('Established: keepalive timer sends KEEPALIVE; messages restart the hold timer; UPDATEs and route refresh are delivered', () => {
    const up = run(ESTABLISH).state;
    const keepalive = step(up, { type: 'KeepaliveTimerExpires' }, 5000);
    assert.deepEqual(keepalive.actions, [
      { type: 'send', message: KEEPALIVE },
      { type: 'startTimer', timer: 'keepalive', ms: 30_000 },
    ]);
    assert.deepEqual(step(up, { type: 'KeepAliveMsg' }, 5000).actions, [
      { type: 'startTimer', timer: 'hold', ms: 90_000 },
    ]);
    assert.deepEqual(
      step(up, { type: 'UpdateMsg', update: UPDATE, handling: 'treat-as-withdraw', reason: 'UPDATE: x' }, 5000).actions,
      [
        { type: 'startTimer', timer: 'hold', ms: 90_000 },
        { type: 'deliverUpdate', update: UPDATE, handling: 'treat-as-withdraw', reason: 'UPDATE: x' },
      ],
    );
    assert.deepEqual(
      step(up, { type: 'RouteRefreshMsg', routeRefresh: routeRefreshFor('ipv6-unicast') }, 5000).actions,
      [
        { type: 'startTimer', timer: 'hold', ms: 90_000 },
        { type: 'deliverRouteRefresh', family: 'ipv6-unicast' },
      ],
    );
    const otherFamily = step(
      up,
      { type: 'RouteRefreshMsg', routeRefresh: { type: 'route-refresh', afi: 1, safi: 128, subtype: 0 } },
      5000,
    );
    assert.deepEqual(
      otherFamily.actions,
      [{ type: 'startTimer', timer: 'hold', ms: 90_000 }],
      'RFC 2918 section 4: ignored',
    );
    assert.equal(keepalive.state, up);
  });

  it('RFC 4271 section 6.5: hold timer expiry sends Hold Timer Expired, ends the session and reports it down', () => {
    const result = run([...ESTABLISH, { type: 'HoldTimerExpires' }]);
    assert.equal(result.state.name, 'Idle');
    const actions = lastActions(result);
    assert.deepEqual(actions[0], {
      type: 'transition',
      transition: {
        from: 'Established',
        to: 'Idle',
        reason: 'hold-timer-expired',
        at: 5000,
        sentNotification: notification(4, 0),
      },
    });
    assert.deepEqual(
      withoutTransition(actions).map((a) => a.type),
      ['send', 'disconnect', 'stopTimer', 'stopTimer', 'stopTimer', 'down', 'startTimer'],
    );
    assert.deepEqual(actions.at(-1), { type: 'startTimer', timer: 'idleHold', ms: 5000 });
    assert.equal(result.state.connectRetryCounter, 1);
  });

  it('ManualStop sends Cease / Administrative Shutdown (with an RFC 9003 message) and does not restart', () => {
    const result = run([
      ...ESTABLISH,
      { type: 'ManualStop', communication: 'maintenance' },
      { type: 'IdleHoldTimerExpires' },
      { type: 'AutomaticStart' },
    ]);
    const stop = result.steps[4]!;
    assert.deepEqual(stop.actions[1], { type: 'send', message: ceaseNotification(2, 'maintenance') });
    assert.ok(!stop.actions.some((a) => a.type === 'startTimer'));
    assert.equal(result.state.name, 'Idle');
    assert.equal(result.state.manuallyStopped, true);
    assert.deepEqual(
      result.steps.slice(5).map((s) => s.actions),
      [[], []],
    );
  });

  it('OPEN rejected by negotiation: the NOTIFICATION is sent and the reason recorded', () => {
    const result = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: 2 } },
    ]);
    assert.equal(result.state.name, 'Idle');
    assert.deepEqual(sent(lastActions(result)), ['notification 2/6']);
    assert.equal(result.state.lastTransition?.reason, 'open-rejected');
    assert.match(result.state.lastTransition.detail ?? '', /hold time 2 s/);
  });

  it('idle hold backoff (DampPeerOscillations): 5 s, 10 s, 20 s for consecutive failures; reset once Established', () => {
    const attempt: SessionEvent[] = [
      { type: 'TcpConnectionRequestAcked' },
      { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: 1 } },
      { type: 'IdleHoldTimerExpires' },
    ];
    const result = run([{ type: 'ManualStart' }, ...attempt, ...attempt, ...attempt]);
    const delays = result.steps.flatMap((s) =>
      s.actions.flatMap((a) => (a.type === 'startTimer' && a.timer === 'idleHold' ? [a.ms] : [])),
    );
    assert.deepEqual(delays, [5000, 10_000, 20_000]);
    const recovered = run(
      [{ type: 'TcpConnectionRequestAcked' }, { type: 'BGPOpen', open: PEER_OPEN }, { type: 'KeepAliveMsg' }],
      CONFIG,
      result.state,
    );
    assert.equal(recovered.state.connectRetryCounter, 0);
  });

  it('passive: ManualStart waits in Active, never connects; an accepted connection proceeds', () => {
    const passive = { ...CONFIG, passive: true };
    const result = run(
      [{ type: 'ManualStart' }, { type: 'ConnectRetryTimerExpires' }, { type: 'TcpConnectionConfirmed' }],
      passive,
    );
    assert.deepEqual(
      result.steps.map((s) => s.to),
      ['Active', 'Active', 'OpenSent'],
    );
    assert.ok(!result.steps.some((s) => s.actions.some((a) => a.type === 'connect')));
  });

  it('a refused connect goes to Active and retries after ConnectRetryTime', () => {
    const result = run([{ type: 'ManualStart' }, { type: 'TcpConnectionFails' }, { type: 'ConnectRetryTimerExpires' }]);
    assert.deepEqual(
      result.steps.map((s) => s.to),
      ['Connect', 'Active', 'Connect'],
    );
    assert.deepEqual(withoutTransition(lastActions(result)), [
      { type: 'startTimer', timer: 'connectRetry', ms: 5000 },
      { type: 'connect' },
    ]);
  });

  it('RFC 6608: unexpected messages are FSM errors with the state in the subcode', () => {
    const inOpenSent = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'UpdateMsg', update: UPDATE, handling: 'ok' },
    ]);
    assert.deepEqual(sent(lastActions(inOpenSent)), ['notification 5/1']);
    const inOpenConfirm = run([...ESTABLISH.slice(0, 3), { type: 'UpdateMsg', update: UPDATE, handling: 'ok' }]);
    assert.deepEqual(sent(lastActions(inOpenConfirm)), ['notification 5/2']);
    const inEstablished = run([...ESTABLISH, { type: 'BGPOpen', open: PEER_OPEN }]);
    assert.deepEqual(sent(lastActions(inEstablished)), ['notification 5/3']);
    assert.equal(inEstablished.state.lastTransition?.detail, 'BGPOpen in Established');
    const inConnect = run([{ type: 'ManualStart' }, { type: 'KeepAliveMsg' }]);
    assert.deepEqual([inConnect.state.name, sent(lastActions(inConnect))], ['Idle', []]);
  });

  it('message errors send the NOTIFICATION the decoder chose; a received NOTIFICATION ends the session', () => {
    const headerError = notification(1, 2, Uint8Array.of(0, 18));
    const up = run(ESTABLISH).state;
    const result = step(up, { type: 'BGPHeaderErr', notification: headerError }, 9000);
    assert.deepEqual(
      result.actions.find((a) => a.type === 'send'),
      { type: 'send', message: headerError },
    );
    assert.deepEqual(
      result.actions.find((a) => a.type === 'down'),
      { type: 'down', reason: 'header-error', negotiated: up.negotiated!, notification: headerError },
    );
    const cease = notification(6, 3);
    const received = run([...ESTABLISH, { type: 'NotifMsg', notification: cease }]);
    assert.deepEqual(
      [received.state.name, received.state.lastTransition?.reason, received.state.lastTransition?.receivedNotification],
      ['Idle', 'notification-received', cease],
    );
    assert.deepEqual(sent(lastActions(received)), []);
  });

  it('RFC 4271 NotifMsgVerErr: an Unsupported Version Number NOTIFICATION does not count as a failure', () => {
    const version = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'NotifMsg', notification: notification(2, 1, Uint8Array.of(0, 4)) },
    ]);
    const other = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'NotifMsg', notification: notification(2, 2) },
    ]);
    assert.deepEqual([version.state.connectRetryCounter, other.state.connectRetryCounter], [0, 1]);
  });

  it('hold time 0: no keepalive or hold timer at all', () => {
    const result = run([
      { type: 'ManualStart' },
      { type: 'TcpConnectionRequestAcked' },
      { type: 'BGPOpen', open: { ...PEER_OPEN, holdTime: 0 } },
      { type: 'KeepAliveMsg' },
    ]);
    assert.equal(result.state.name, 'Established');
    assert.deepEqual(withoutTransition(result.steps[2]!.actions), [
      { type: 'stopTimer', timer: 'connectRetry' },
      { type: 'send', message: KEEPALIVE },
      { type: 'stopTimer', timer: 'hold' },
    ]);
    assert.deepEqual(step(result.state, { type: 'KeepaliveTimerExpires' }, 9000).actions, []);
  });

  it('Idle refuses connections (disconnect) and ignores the rest', () => {
    const idle = initialSessionState(CONFIG, 0);
    assert.deepEqual(step(idle, { type: 'TcpConnectionConfirmed' }, 1).actions, [{ type: 'disconnect' }]);
    assert.deepEqual(step(idle, { type: 'KeepAliveMsg' }, 1), { state: idle, actions: [] });
  });

  it("a session fed gobgpd's captured messages: OPEN, KEEPALIVE, UPDATEs delivered, then its NOTIFICATION", () => {
    const config: SessionConfig = { ...CONFIG, peerAs: 65000 };
    let state = run([{ type: 'ManualStart' }, { type: 'TcpConnectionRequestAcked' }], config).state;
    const delivered: string[] = [];
    let now = 10_000;
    for (const entry of peers.gobgpd.filter((e) => e.session === 1)) {
      const outcome = decodeBgpMessage(fromHex(entry.hex), state.negotiated?.codec ?? { fourOctetAs: false });
      const result = step(state, eventForInbound(outcome), (now += 100));
      for (const action of result.actions) if (action.type === 'deliverUpdate') delivered.push(action.handling);
      state = result.state;
    }
    assert.equal(delivered.length, 9);
    assert.ok(delivered.every((handling) => handling === 'ok'));
    assert.deepEqual(
      [state.name, state.lastTransition?.reason, state.lastTransition?.from],
      ['Idle', 'notification-received', 'Established'],
    );
  });

  it('eventForInbound maps each decode outcome to its RFC 4271 event', () => {
    const context = { fourOctetAs: true };
    const events = [
      '0013 04',
      '0017 05 0001 00 01',
      '0015 03 06 02',
      '0012 04',
      '0017 02 0000 00ff',
      '0018 05 0001 00 01 00',
      '001d 01 04 fde9 005a c633640b 02 02 00',
    ].map((hex) => eventForInbound(decodeBgpMessage(fromHex(`${'ff'.repeat(16)} ${hex}`), context)).type);
    assert.deepEqual(events, [
      'KeepAliveMsg',
      'RouteRefreshMsg',
      'NotifMsg',
      'BGPHeaderErr',
      'UpdateMsgErr',
      'RouteRefreshMsgErr',
      'BGPOpenMsgErr',
    ]);
  });
});
