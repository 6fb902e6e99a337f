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
//   failures to establish.
import { afiSafiOf, addressFamilyOf, type AddressFamily } from './address-family.ts';
import { KEEPALIVE, type BgpDecodeOutcome } from './bgp-message.ts';
import {
  CEASE,
  ERROR_CODE,
  FSM_ERROR,
  OPEN_ERROR,
  ceaseNotification,
  notification,
  type NotificationMessage,
} from './notification-message.ts';
import type { OpenMessage } from './open-message.ts';
import type { RouteRefreshMessage } from './route-refresh-message.ts';
import {
  OPEN_HOLD_TIME_MS,
  localOpen,
  negotiateSession,
  type NegotiatedSession,
  type SessionConfig,
} from './session-negotiation.ts';
import type { UpdateMessage } from './update-message.ts';

export type SessionStateName = 'Idle' | 'Connect' | 'Active' | 'OpenSent' | 'OpenConfirm' | 'Established';

export type SessionTimer = 'connectRetry' | 'hold' | 'keepalive' | 'idleHold';

/** RFC 4271 section 8.1 events (the ones this FSM takes), named as there. */
export type SessionEvent =
  | { readonly type: 'ManualStart' }
  /** Optional RFC 9003 shutdown communication for the Cease NOTIFICATION. */
  | { readonly type: 'ManualStop'; readonly communication?: string }
  | { readonly type: 'AutomaticStart' }
  | { readonly type: 'ConnectRetryTimerExpires' }
  | { readonly type: 'HoldTimerExpires' }
  | { readonly type: 'KeepaliveTimerExpires' }
  | { readonly type: 'IdleHoldTimerExpires' }
  /** Our connect() succeeded (Tcp_CR_Acked). */
  | { readonly type: 'TcpConnectionRequestAcked' }
  /** We accepted the peer's connection (TcpConnectionConfirmed). */
  | { readonly type: 'TcpConnectionConfirmed' }
  | { readonly type: 'TcpConnectionFails' }
  | { readonly type: 'BGPOpen'; readonly open: OpenMessage }
  | { readonly type: 'BGPHeaderErr'; readonly notification: NotificationMessage }
  | { readonly type: 'BGPOpenMsgErr'; readonly notification: NotificationMessage }
  | { readonly type: 'NotifMsg'; readonly notification: NotificationMessage }
  | { readonly type: 'KeepAliveMsg' }
  | {
      readonly type: 'UpdateMsg';
      readonly update: UpdateMessage;
      readonly handling: 'ok' | 'treat-as-withdraw' | 'attribute-discard';
      readonly reason?: string;
    }
  | { readonly type: 'UpdateMsgErr'; readonly notification: NotificationMessage }
  | { readonly type: 'RouteRefreshMsg'; readonly routeRefresh: RouteRefreshMessage }
  | { readonly type: 'RouteRefreshMsgErr'; readonly notification: NotificationMessage }
  /** Not in RFC 4271: the BFD session with the peer went down (RFC 5882 section 4.3): tear down at once. */
  | { readonly type: 'BfdDown' };

export type TransitionReason =
  | 'manual-start'
  | 'automatic-start'
  | 'idle-hold-timer-expired'
  | 'manual-stop'
  | 'connect-retry-timer-expired'
  | 'hold-timer-expired'
  | 'tcp-connection-established'
  | 'tcp-connection-failed'
  | 'open-accepted'
  | 'open-rejected'
  | 'keepalive-received'
  | 'notification-received'
  | 'header-error'
  | 'open-message-error'
  | 'update-message-error'
  | 'route-refresh-message-error'
  | 'unexpected-message'
  /** The BFD session with the peer went down; Cease / BFD Down (RFC 9384) sent when an OPEN was. */
  | 'bfd-down';

export interface SessionTransition {
  readonly from: SessionStateName;
  readonly to: SessionStateName;
  readonly reason: TransitionReason;
  readonly at: number;
  /** What went wrong, in words (a rejected OPEN, an unexpected message). */
  readonly detail?: string;
  readonly sentNotification?: NotificationMessage;
  readonly receivedNotification?: NotificationMessage;
}

export type SessionAction =
  | { readonly type: 'transition'; readonly transition: SessionTransition }
  | { readonly type: 'connect' }
  | { readonly type: 'disconnect' }
  | { readonly type: 'send'; readonly message: OpenMessage | NotificationMessage | typeof KEEPALIVE }
  | { readonly type: 'startTimer'; readonly timer: SessionTimer; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: SessionTimer }
  | { readonly type: 'established'; readonly negotiated: NegotiatedSession }
  /** The Established session ended: withdraw what it learned (or keep it as stale, per graceful restart). */
  | { readonly type: 'down'; readonly reason: TransitionReason; readonly negotiated: NegotiatedSession; readonly notification?: NotificationMessage }
  | {
      readonly type: 'deliverUpdate';
      readonly update: UpdateMessage;
      readonly handling: 'ok' | 'treat-as-withdraw' | 'attribute-discard';
      readonly reason?: string;
    }
  /** The peer asks for our routes of this family again (RFC 2918). */
  | { readonly type: 'deliverRouteRefresh'; readonly family: AddressFamily };

export interface SessionState {
  readonly name: SessionStateName;
  readonly config: SessionConfig;
  /** Consecutive failed attempts (RFC 4271 ConnectRetryCounter, reset on Established: see above). */
  readonly connectRetryCounter: number;
  /** ManualStop was the last word: AutomaticStart and the idle hold timer do nothing. */
  readonly manuallyStopped: boolean;
  /** `now` when this state was entered. */
  readonly since: number;
  /** OpenConfirm and Established: what the OPENs agreed. */
  readonly negotiated?: NegotiatedSession;
  readonly lastTransition?: SessionTransition;
}

export interface StepResult {
  readonly state: SessionState;
  readonly actions: SessionAction[];
}

/** RFC 4271 section 8.1.1 DampPeerOscillations: the idle hold time doubles per failure up to this (or idleHoldTime). */
export const IDLE_HOLD_MAX_MS = 120_000;

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
// Building results

const unchanged = (state: SessionState, actions: SessionAction[] = []): StepResult => ({ state, actions });

interface Move {
  readonly to: SessionStateName;
  readonly reason: TransitionReason;
  readonly detail?: string;
  readonly sent?: NotificationMessage;
  readonly received?: NotificationMessage;
  readonly negotiated?: NegotiatedSession;
  readonly counter?: number;
  readonly manuallyStopped?: boolean;
}

/** A transition: the transition action first, then `actions`. */
function move(state: SessionState, now: number, change: Move, actions: SessionAction[]): StepResult {
  const transition: SessionTransition = {
    from: state.name,
    to: change.to,
    reason: change.reason,
    at: now,
    ...(change.detail === undefined ? {} : { detail: change.detail }),
    ...(change.sent === undefined ? {} : { sentNotification: change.sent }),
    ...(change.received === undefined ? {} : { receivedNotification: change.received }),
  };
  const next: SessionState = {
    name: change.to,
    config: state.config,
    connectRetryCounter: change.counter ?? state.connectRetryCounter,
    manuallyStopped: change.manuallyStopped ?? state.manuallyStopped,
    since: now,
    lastTransition: transition,
    ...(change.negotiated === undefined ? {} : { negotiated: change.negotiated }),
  };
  return { state: next, actions: [{ type: 'transition', transition }, ...actions] };
}

interface IdleChange {
  readonly reason: TransitionReason;
  /** Count a failed attempt (ConnectRetryCounter + 1). */
  readonly failure: boolean;
  readonly detail?: string;
  readonly sent?: NotificationMessage;
  readonly received?: NotificationMessage;
}

/** Back to Idle: send the NOTIFICATION if any, drop the connection, stop timers, report down, maybe schedule a restart. */
function toIdle(state: SessionState, now: number, change: IdleChange): StepResult {
  const manual = change.reason === 'manual-stop';
  const counter = manual ? 0 : change.failure ? state.connectRetryCounter + 1 : state.connectRetryCounter;
  const actions: SessionAction[] = [];
  if (change.sent !== undefined) actions.push({ type: 'send', message: change.sent });
  actions.push(
    { type: 'disconnect' },
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'stopTimer', timer: 'hold' },
    { type: 'stopTimer', timer: 'keepalive' },
  );
  if (state.name === 'Established' && state.negotiated !== undefined) {
    const notice = change.sent ?? change.received;
    actions.push({ type: 'down', reason: change.reason, negotiated: state.negotiated, ...(notice === undefined ? {} : { notification: notice }) });
  }
  const idleHold = state.config.idleHoldTime;
  if (!manual && !state.manuallyStopped && idleHold !== undefined) {
    const base = idleHold * 1000;
    const ms = Math.min(base * 2 ** Math.min(Math.max(counter - 1, 0), 16), Math.max(base, IDLE_HOLD_MAX_MS));
    actions.push({ type: 'startTimer', timer: 'idleHold', ms: Math.round(ms) });
  }
  return move(
    state,
    now,
    {
      to: 'Idle',
      reason: change.reason,
      counter,
      ...(manual ? { manuallyStopped: true } : {}),
      ...(change.detail === undefined ? {} : { detail: change.detail }),
      ...(change.sent === undefined ? {} : { sent: change.sent }),
      ...(change.received === undefined ? {} : { received: change.received }),
    },
    actions,
  );
}

const connectRetryMs = (state: SessionState): number => Math.round(state.config.connectRetryTime * 1000);

/** Connection up (either direction): send OPEN, wait up to 4 minutes for the peer's. */
function openSentOnConnection(state: SessionState, now: number): StepResult {
  return move(state, now, { to: 'OpenSent', reason: 'tcp-connection-established' }, [
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'send', message: localOpen(state.config) },
    { type: 'startTimer', timer: 'hold', ms: OPEN_HOLD_TIME_MS },
  ]);
}

function manualStop(state: SessionState, now: number, event: { readonly communication?: string }): StepResult {
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name)
    ? ceaseNotification(CEASE.administrativeShutdown, event.communication)
    : undefined;
  return toIdle(state, now, { reason: 'manual-stop', failure: false, ...(sent === undefined ? {} : { sent }) });
}

function holdTimerExpired(state: SessionState, now: number): StepResult {
  return toIdle(state, now, { reason: 'hold-timer-expired', failure: true, sent: notification(ERROR_CODE.holdTimerExpired, 0) });
}

/** A NOTIFICATION from the peer; an Unsupported Version Number one does not count as a failure (RFC NotifMsgVerErr). */
function notificationReceived(state: SessionState, now: number, received: NotificationMessage): StepResult {
  const versionError = received.code === ERROR_CODE.openMessage && received.subcode === OPEN_ERROR.unsupportedVersionNumber;
  return toIdle(state, now, { reason: 'notification-received', failure: !versionError, received });
}

/** Our own error NOTIFICATION for a bad message (header, OPEN, UPDATE, ROUTE-REFRESH). */
function messageError(state: SessionState, now: number, reason: TransitionReason, sent: NotificationMessage): StepResult {
  return toIdle(state, now, { reason, failure: true, sent });
}

/** RFC 6608: an event the state does not expect; a NOTIFICATION once an OPEN has been sent. */
function unexpected(state: SessionState, now: number, event: SessionEvent): StepResult {
  const subcode =
    state.name === 'OpenSent'
      ? FSM_ERROR.unexpectedMessageInOpenSent
      : state.name === 'OpenConfirm'
        ? FSM_ERROR.unexpectedMessageInOpenConfirm
        : FSM_ERROR.unexpectedMessageInEstablished;
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name) ? notification(ERROR_CODE.finiteStateMachine, subcode) : undefined;
  return toIdle(state, now, {
    reason: 'unexpected-message',
    failure: true,
    detail: `${event.type} in ${state.name}`,
    ...(sent === undefined ? {} : { sent }),
  });
}

/** Error events that carry the NOTIFICATION to send, and BFD Down. */
function errorEvent(state: SessionState, now: number, event: SessionEvent): StepResult | undefined {
  switch (event.type) {
    case 'BfdDown':
      return bfdDown(state, now);
    case 'BGPHeaderErr':
      return messageError(state, now, 'header-error', event.notification);
    case 'BGPOpenMsgErr':
      return messageError(state, now, 'open-message-error', event.notification);
    case 'UpdateMsgErr':
      return messageError(state, now, 'update-message-error', event.notification);
    case 'RouteRefreshMsgErr':
      return messageError(state, now, 'route-refresh-message-error', event.notification);
    default:
      return undefined;
  }
}

/** RFC 5882 section 4.3 and RFC 9384: BFD says the path is gone; Cease / BFD Down once an OPEN was sent. */
function bfdDown(state: SessionState, now: number): StepResult {
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name) ? notification(ERROR_CODE.cease, CEASE.bfdDown) : undefined;
  return toIdle(state, now, { reason: 'bfd-down', failure: true, ...(sent === undefined ? {} : { sent }) });
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
    { to: state.config.passive ? 'Active' : 'Connect', reason, manuallyStopped: false, ...(manual ? { counter: 0 } : {}) },
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
      return unchanged(state, [{ type: 'disconnect' }, { type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) }, { type: 'connect' }]);
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
      if (state.config.passive) return unchanged(state, [{ type: 'startTimer', timer: 'connectRetry', ms: connectRetryMs(state) }]);
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
        return toIdle(state, now, { reason: 'open-rejected', failure: true, detail: negotiated.error.reason, sent: negotiated.error.notification });
      }
      const session = negotiated.value;
      const actions: SessionAction[] = [{ type: 'stopTimer', timer: 'connectRetry' }, { type: 'send', message: KEEPALIVE }];
      if (session.holdTime > 0) {
        actions.push({ type: 'startTimer', timer: 'keepalive', ms: session.keepaliveTimeMs }, { type: 'startTimer', timer: 'hold', ms: session.holdTime * 1000 });
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
  return negotiated !== undefined && negotiated.holdTime > 0 ? [{ type: 'startTimer', timer: 'hold', ms: negotiated.holdTime * 1000 }] : [];
}

function sendKeepalive(state: SessionState): StepResult {
  const ms = state.negotiated?.keepaliveTimeMs ?? 0;
  if (ms <= 0) return unchanged(state);
  return unchanged(state, [{ type: 'send', message: KEEPALIVE }, { type: 'startTimer', timer: 'keepalive', ms }]);
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
        { type: 'deliverUpdate', update: event.update, handling: event.handling, ...(event.reason === undefined ? {} : { reason: event.reason }) },
      ]);
    case 'RouteRefreshMsg': {
      const negotiated = state.negotiated;
      const family = addressFamilyOf(event.routeRefresh.afi, event.routeRefresh.safi);
      const wanted = negotiated !== undefined && negotiated.routeRefresh && family !== undefined && negotiated.families.includes(family);
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
