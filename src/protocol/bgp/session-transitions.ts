// The transitions the per-state handlers of session-fsm.ts share: moving to a state (with the transition record
// and the timers it starts), falling back to Idle (idle hold backoff, NOTIFICATION, down), and the events every
// state answers alike (ManualStop, hold timer expiry, NOTIFICATION received, message errors, BFD down).
import {
  CEASE,
  ERROR_CODE,
  FSM_ERROR,
  OPEN_ERROR,
  ceaseNotification,
  notification,
  type NotificationMessage,
} from './notification-message.ts';
import { OPEN_HOLD_TIME_MS, localOpen, type NegotiatedSession } from './session-negotiation.ts';
import {
  IDLE_HOLD_MAX_MS,
  type SessionAction,
  type SessionEvent,
  type SessionState,
  type SessionStateName,
  type SessionTransition,
  type StepResult,
  type TransitionReason,
} from './session-fsm-types.ts';

export const unchanged = (state: SessionState, actions: SessionAction[] = []): StepResult => ({ state, actions });

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
export function move(state: SessionState, now: number, change: Move, actions: SessionAction[]): StepResult {
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
export function toIdle(state: SessionState, now: number, change: IdleChange): StepResult {
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
    actions.push({
      type: 'down',
      reason: change.reason,
      negotiated: state.negotiated,
      ...(notice === undefined ? {} : { notification: notice }),
    });
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

export const connectRetryMs = (state: SessionState): number => Math.round(state.config.connectRetryTime * 1000);

/** Connection up (either direction): send OPEN, wait up to 4 minutes for the peer's. */
export function openSentOnConnection(state: SessionState, now: number): StepResult {
  return move(state, now, { to: 'OpenSent', reason: 'tcp-connection-established' }, [
    { type: 'stopTimer', timer: 'connectRetry' },
    { type: 'send', message: localOpen(state.config) },
    { type: 'startTimer', timer: 'hold', ms: OPEN_HOLD_TIME_MS },
  ]);
}

export function manualStop(state: SessionState, now: number, event: { readonly communication?: string }): StepResult {
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name)
    ? ceaseNotification(CEASE.administrativeShutdown, event.communication)
    : undefined;
  return toIdle(state, now, { reason: 'manual-stop', failure: false, ...(sent === undefined ? {} : { sent }) });
}

export function holdTimerExpired(state: SessionState, now: number): StepResult {
  return toIdle(state, now, {
    reason: 'hold-timer-expired',
    failure: true,
    sent: notification(ERROR_CODE.holdTimerExpired, 0),
  });
}

/** A NOTIFICATION from the peer; an Unsupported Version Number one does not count as a failure (RFC NotifMsgVerErr). */
export function notificationReceived(state: SessionState, now: number, received: NotificationMessage): StepResult {
  const versionError =
    received.code === ERROR_CODE.openMessage && received.subcode === OPEN_ERROR.unsupportedVersionNumber;
  return toIdle(state, now, { reason: 'notification-received', failure: !versionError, received });
}

/** Our own error NOTIFICATION for a bad message (header, OPEN, UPDATE, ROUTE-REFRESH). */
export function messageError(
  state: SessionState,
  now: number,
  reason: TransitionReason,
  sent: NotificationMessage,
): StepResult {
  return toIdle(state, now, { reason, failure: true, sent });
}

/** RFC 6608: an event the state does not expect; a NOTIFICATION once an OPEN has been sent. */
export function unexpected(state: SessionState, now: number, event: SessionEvent): StepResult {
  const subcode =
    state.name === 'OpenSent'
      ? FSM_ERROR.unexpectedMessageInOpenSent
      : state.name === 'OpenConfirm'
        ? FSM_ERROR.unexpectedMessageInOpenConfirm
        : FSM_ERROR.unexpectedMessageInEstablished;
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name)
    ? notification(ERROR_CODE.finiteStateMachine, subcode)
    : undefined;
  return toIdle(state, now, {
    reason: 'unexpected-message',
    failure: true,
    detail: `${event.type} in ${state.name}`,
    ...(sent === undefined ? {} : { sent }),
  });
}

/** Error events that carry the NOTIFICATION to send, and BFD Down. */
export function errorEvent(state: SessionState, now: number, event: SessionEvent): StepResult | undefined {
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
export function bfdDown(state: SessionState, now: number): StepResult {
  const sent = ['OpenSent', 'OpenConfirm', 'Established'].includes(state.name)
    ? notification(ERROR_CODE.cease, CEASE.bfdDown)
    : undefined;
  return toIdle(state, now, { reason: 'bfd-down', failure: true, ...(sent === undefined ? {} : { sent }) });
}
