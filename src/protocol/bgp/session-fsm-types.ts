// What the BGP session FSM (session-fsm.ts) reads and returns: its states, the events of RFC 4271 section 8.1 it
// takes, the typed reasons of its transitions and the actions the session runner executes.
import type { AddressFamily } from './address-family.ts';
import type { KEEPALIVE } from './bgp-message.ts';
import type { NotificationMessage } from './notification-message.ts';
import type { OpenMessage } from './open-message.ts';
import type { RouteRefreshMessage } from './route-refresh-message.ts';
import type { NegotiatedSession, SessionConfig } from './session-negotiation.ts';
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
  | {
      readonly type: 'down';
      readonly reason: TransitionReason;
      readonly negotiated: NegotiatedSession;
      readonly notification?: NotificationMessage;
    }
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
