// The BGP session finite state machine (RFC 4271 section 8) as data: step(state, event, now) returns the next state
// and the actions the session runner executes (connect, disconnect, send, timers, established/down, deliver).
// Pure: time comes in only as `now` (milliseconds, any epoch) and leaves as timer actions; nothing here keeps a
// timer or a socket. One handler per state, as GoBGP's FSM has, and a typed reason on every transition.
//
// Deviations from the RFC text, each a choice most implementations make:
// - Connect + TcpConnectionFails goes to Active and retries after ConnectRetryTime (the RFC's DelayOpen branch),
//   instead of Idle; a stale TcpConnectionFails in Active is ignored.
// - Timer expiries for a timer the state does not run (a tick that raced a stopTimer) are ignored instead of
//   being FSM errors.
// - No DelayOpen, no connection collision detection (RFC 4271 section 6.8): the runner tracks one connection
//   and refuses others (TcpConnection* events in Idle answer with a disconnect, as gobgpd does).
// - ConnectRetryCounter is reset on reaching Established, so that the idle hold backoff counts consecutive
//   failures to establish.//
// The types are in session-fsm-types.ts, the transitions the states share in session-transitions.ts.
import { afiSafiOf, addressFamilyOf, type AddressFamily } from './address-family.ts';
import { KEEPALIVE, type BgpDecodeOutcome } from './bgp-message.ts';
import { ERROR_CODE } from './notification-message.ts';
import type { RouteRefreshMessage } from './route-refresh-message.ts';
import { negotiateSession, type NegotiatedSession, type SessionConfig } from './session-negotiation.ts';
import {
  IDLE_HOLD_MAX_MS,
  type SessionAction,
  type SessionEvent,
  type SessionState,
  type StepResult,
  type TransitionReason,
} from './session-fsm-types.ts';
import {
  bfdDown,
  connectRetryMs,
  errorEvent,
  holdTimerExpired,
  manualStop,
  move,
  notificationReceived,
  openSentOnConnection,
  toIdle,
  unchanged,
  unexpected,
} from './session-transitions.ts';

export { IDLE_HOLD_MAX_MS };
export type {
  SessionAction,
  SessionEvent,
  SessionState,
  SessionStateName,
  SessionTimer,
  SessionTransition,
  StepResult,
  TransitionReason,
} from './session-fsm-types.ts';

/** A session that has not been started: Idle, manually stopped. */
export function initialSessionState(config: SessionConfig, now: number): SessionState {
  return { name: 'Idle', config, connectRetryCounter: 0, manuallyStopped: true, since: now };
}

/** Runs one event through the FSM. Pure and total: every event is valid input in every state. */
export function step(state: SessionState, event: SessionEvent, now: number): StepResult {
  switch (state.name) {
    case 'Idle':
      return idle(state, event, now);
    case 'Connect':
      return connect(state, event, now);
    case 'Active':
      return active(state, event, now);
    case 'OpenSent':
      return openSent(state, event, now);
    case 'OpenConfirm':
      return openConfirm(state, event, now);
    case 'Established':
      return established(state, event, now);
  }
}

/** The event for a message decoded from the wire. */
export function eventForInbound(outcome: BgpDecodeOutcome): SessionEvent {
  switch (outcome.kind) {
    case 'treat-as-withdraw':
    case 'attribute-discard':
      return { type: 'UpdateMsg', update: outcome.message, handling: outcome.kind, reason: outcome.reason };
    case 'session-reset':
      switch (outcome.notification.code) {
        case ERROR_CODE.messageHeader:
          return { type: 'BGPHeaderErr', notification: outcome.notification };
        case ERROR_CODE.openMessage:
          return { type: 'BGPOpenMsgErr', notification: outcome.notification };
        case ERROR_CODE.routeRefreshMessage:
          return { type: 'RouteRefreshMsgErr', notification: outcome.notification };
        default:
          return { type: 'UpdateMsgErr', notification: outcome.notification };
      }
    case 'ok': {
      const message = outcome.message;
      switch (message.type) {
        case 'open':
          return { type: 'BGPOpen', open: message };
        case 'update':
          return { type: 'UpdateMsg', update: message, handling: 'ok' };
        case 'notification':
          return { type: 'NotifMsg', notification: message };
        case 'keepalive':
          return { type: 'KeepAliveMsg' };
        case 'route-refresh':
          return { type: 'RouteRefreshMsg', routeRefresh: message };
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// One handler per state

function start(state: SessionState, now: number, reason: TransitionReason, manual: boolean): StepResult {
  const actions: SessionAction[] = [
    { type: 'stopTimer', timer: 'idleHold' },
    { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) },
  ];
  if (!state.config.passive) actions.push({ type: 'connect' });
  return move(
    state,
    now,
    {
      to: state.config.passive ? 'Active' : 'Connect',
      reason,
      manuallyStopped: false,
      ...(manual ? { counter: 0 } : {}),
    },
    actions,
  );
}

function idle(state: SessionState, event: SessionEvent, now: number): StepResult {
  switch (event.type) {
    case 'ManualStart':
      return start(state, now, 'manual-start', true);
    case 'AutomaticStart':
      return state.manuallyStopped ? unchanged(state) : start(state, now, 'automatic-start', false);
    case 'IdleHoldTimerExpires':
      return state.manuallyStopped ? unchanged(state) : start(state, now, 'idle-hold-timer-expired', false);
    case 'TcpConnectionConfirmed':
    case 'TcpConnectionRequestAcked':
      return unchanged(state, [{ type: 'disconnect' }]); // refuse: no session is wanted now
    default:
      return unchanged(state);
  }
}

function connect(state: SessionState, event: SessionEvent, now: number): StepResult {
  switch (event.type) {
    case 'BfdDown':
      return bfdDown(state, now);
    case 'ManualStop':
      return manualStop(state, now, event);
    case 'ConnectRetryTimerExpires':
      return unchanged(state, [
        { type: 'disconnect' },
        { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) },
        { type: 'connect' },
      ]);
    case 'TcpConnectionRequestAcked':
    case 'TcpConnectionConfirmed':
      return openSentOnConnection(state, now);
    case 'TcpConnectionFails':
      return move(state, now, { to: 'Active', reason: 'tcp-connection-failed' }, [
        { type: 'disconnect' },
        { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) },
      ]);
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimerExpires':
    case 'HoldTimerExpires':
    case 'KeepaliveTimerExpires':
      return unchanged(state);
    default:
      return unexpected(state, now, event);
  }
}

function active(state: SessionState, event: SessionEvent, now: number): StepResult {
  switch (event.type) {
    case 'BfdDown':
      return bfdDown(state, now);
    case 'ManualStop':
      return manualStop(state, now, event);
    case 'ConnectRetryTimerExpires':
      if (state.config.passive)
        return unchanged(state, [{ type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) }]);
      return move(state, now, { to: 'Connect', reason: 'connect-retry-timer-expired' }, [
        { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) },
        { type: 'connect' },
      ]);
    case 'TcpConnectionRequestAcked':
    case 'TcpConnectionConfirmed':
      return openSentOnConnection(state, now);
    case 'TcpConnectionFails':
    case 'ManualStart':
    case 'AutomaticStart':
    case 'IdleHoldTimerExpires':
    case 'HoldTimerExpires':
    case 'KeepaliveTimerExpires':
      return unchanged(state);
    default:
      return unexpected(state, now, event);
  }
}

function openSent(state: SessionState, event: SessionEvent, now: number): StepResult {
  const error = errorEvent(state, now, event);
  if (error !== undefined) return error;
  switch (event.type) {
    case 'ManualStop':
      return manualStop(state, now, event);
    case 'HoldTimerExpires':
      return holdTimerExpired(state, now);
    case 'TcpConnectionFails':
      return move(state, now, { to: 'Active', reason: 'tcp-connection-failed' }, [
        { type: 'disconnect' },
        { type: 'stopTimer', timer: 'hold' },
        { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) },
      ]);
    case 'BGPOpen': {
      const negotiated = negotiateSession(state.config, event.open);
      if (!negotiated.ok) {
        return toIdle(state, now, {
          reason: 'open-rejected',
          failure: true,
          detail: negotiated.error.reason,
          sent: negotiated.error.notification,
        });
      }
      const session = negotiated.value;
      const actions: SessionAction[] = [
        { type: 'stopTimer', timer: 'connectRetry' },
        { type: 'send', message: KEEPALIVE },
      ];
      if (session.holdTime > 0) {
        actions.push(
          { type: 'startTimer', timer: 'keepalive', ms: session.keepaliveTimeMs },
          { type: 'startTimer', timer: 'hold', ms: session.holdTime * 1000 },
        );
      } else {
        actions.push({ type: 'stopTimer', timer: 'hold' });
      }
      return move(state, now, { to: 'OpenConfirm', reason: 'open-accepted', negotiated: session }, actions);
    }
    case 'NotifMsg':
      return notificationReceived(state, now, event.notification);
    case 'KeepAliveMsg':
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return unexpected(state, now, event);
    default:
      return unchanged(state);
  }
}

/** Restart the hold timer on a message from the peer (nothing when the hold time is 0). */
function holdRestart(negotiated: NegotiatedSession | undefined): SessionAction[] {
  return negotiated !== undefined && negotiated.holdTime > 0
    ? [{ type: 'startTimer', timer: 'hold', ms: negotiated.holdTime * 1000 }]
    : [];
}

function sendKeepalive(state: SessionState): StepResult {
  const ms = state.negotiated?.keepaliveTimeMs ?? 0;
  if (ms <= 0) return unchanged(state);
  return unchanged(state, [
    { type: 'send', message: KEEPALIVE },
    { type: 'startTimer', timer: 'keepalive', ms },
  ]);
}

function openConfirm(state: SessionState, event: SessionEvent, now: number): StepResult {
  const error = errorEvent(state, now, event);
  if (error !== undefined) return error;
  switch (event.type) {
    case 'ManualStop':
      return manualStop(state, now, event);
    case 'HoldTimerExpires':
      return holdTimerExpired(state, now);
    case 'KeepaliveTimerExpires':
      return sendKeepalive(state);
    case 'TcpConnectionFails':
      return toIdle(state, now, { reason: 'tcp-connection-failed', failure: true });
    case 'NotifMsg':
      return notificationReceived(state, now, event.notification);
    case 'KeepAliveMsg': {
      const negotiated = state.negotiated;
      if (negotiated === undefined) return unexpected(state, now, event); // not reachable: OpenConfirm always has it
      return move(state, now, { to: 'Established', reason: 'keepalive-received', negotiated, counter: 0 }, [
        ...holdRestart(negotiated),
        { type: 'established', negotiated },
      ]);
    }
    case 'BGPOpen':
    case 'UpdateMsg':
    case 'RouteRefreshMsg':
      return unexpected(state, now, event);
    default:
      return unchanged(state);
  }
}

function established(state: SessionState, event: SessionEvent, now: number): StepResult {
  const error = errorEvent(state, now, event);
  if (error !== undefined) return error;
  switch (event.type) {
    case 'ManualStop':
      return manualStop(state, now, event);
    case 'HoldTimerExpires':
      return holdTimerExpired(state, now);
    case 'KeepaliveTimerExpires':
      return sendKeepalive(state);
    case 'TcpConnectionFails':
      return toIdle(state, now, { reason: 'tcp-connection-failed', failure: true });
    case 'NotifMsg':
      return notificationReceived(state, now, event.notification);
    case 'KeepAliveMsg':
      return unchanged(state, holdRestart(state.negotiated));
    case 'UpdateMsg':
      return unchanged(state, [
        ...holdRestart(state.negotiated),
        {
          type: 'deliverUpdate',
          update: event.update,
          handling: event.handling,
          ...(event.reason === undefined ? {} : { reason: event.reason }),
        },
      ]);
    case 'RouteRefreshMsg': {
      const negotiated = state.negotiated;
      const family = addressFamilyOf(event.routeRefresh.afi, event.routeRefresh.safi);
      const wanted =
        negotiated !== undefined &&
        negotiated.routeRefresh &&
        family !== undefined &&
        negotiated.families.includes(family);
      // RFC 2918 section 4: a request for a family not negotiated is ignored; RFC 7313 BoRR/EoRR markers too.
      if (!wanted || event.routeRefresh.subtype !== 0) return unchanged(state, holdRestart(negotiated));
      return unchanged(state, [...holdRestart(negotiated), { type: 'deliverRouteRefresh', family }]);
    }
    case 'BGPOpen':
      return unexpected(state, now, event);
    default:
      return unchanged(state);
  }
}

/** A ROUTE-REFRESH asking the peer for its routes of a family again (RFC 2918). */
export function routeRefreshFor(family: AddressFamily): RouteRefreshMessage {
  return { type: 'route-refresh', ...afiSafiOf(family), subtype: 0 };
}
