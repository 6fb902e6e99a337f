// The BFD session state machine (RFC 5880 section 6.2 and the reception/transmission rules of sections 6.8.1 to
// 6.8.7), asynchronous mode, as data: step(state, event, now) returns the next state and the actions the runner
// executes (send a control packet, start or stop the transmit and detection timers, report up and down).
// Pure: time enters only as `now` (milliseconds, any epoch); jitter is the runner's (transmitDelayMs).
//
// Choices, each allowed by the RFC or common practice:
// - No authentication: a packet with the A bit is discarded (section 6.8.6, "A bit set and bfd.AuthType zero").
// - No Demand mode (we never set D; a peer's D bit is recorded and otherwise ignored: we keep transmitting, which
//   a peer in Demand mode accepts) and no Echo function (Required Min Echo RX Interval 0).
// - Before Up, Desired Min TX Interval is at least one second (section 6.8.3); on reaching Up the configured value
//   is advertised with a Poll Sequence (section 6.5). Leaving Up, the slow rate returns without a Poll (the peer
//   is not Up either).
// - The transmit timer runs from Start to Stop; on expiry a packet goes out unless the rules of section 6.8.7 say
//   not to (passive and the peer not heard yet; the peer's Required Min RX Interval is 0).
import { BFD_DIAGNOSTIC, type BfdControlPacket, type BfdState } from './control-packet.ts';

export interface BfdSessionConfig {
  /** Our Desired Min TX Interval once Up, milliseconds. */
  readonly desiredMinTxMs: number;
  /** Our Required Min RX Interval, milliseconds. */
  readonly requiredMinRxMs: number;
  /** Our Detect Mult (1-255): the peer declares us down after this many missed packets. */
  readonly detectMultiplier: number;
  /** Passive role (section 6.1): send nothing until the peer has been heard. */
  readonly passive: boolean;
  /** Our discriminator: non-zero, unique among the node's sessions (the runner picks it). */
  readonly localDiscriminator: number;
}

export type BfdTimer = 'transmit' | 'detection';

export type BfdEvent =
  /** Leave AdminDown: the session exists now. */
  | { readonly type: 'Start' }
  /** To AdminDown (the session is being removed or disabled). */
  | { readonly type: 'Stop' }
  /** A control packet from the peer's address, decoded and past the codec's checks. */
  | { readonly type: 'PacketReceived'; readonly packet: BfdControlPacket }
  | { readonly type: 'TransmitTimerExpired' }
  | { readonly type: 'DetectionTimerExpired' };

export type BfdTransitionReason =
  | 'started'
  | 'stopped'
  /** Down -> Init: the peer says Down (it hears nobody yet). */
  | 'peer-down'
  /** Down -> Up: the peer says Init (it heard us). */
  | 'peer-init'
  /** Init -> Up: the peer says Init or Up. */
  | 'peer-up'
  /** Up -> Down: the peer says Down (its detection time expired, or it restarted). */
  | 'peer-signaled-down'
  /** Init/Up -> Down: the peer says AdminDown (RFC 5882 section 3.2: not a forwarding failure). */
  | 'peer-admin-down'
  /** Init/Up -> Down: no packet from the peer for a Detection Time. */
  | 'detection-time-expired';

export interface BfdTransition {
  readonly from: BfdState;
  readonly to: BfdState;
  readonly reason: BfdTransitionReason;
  /** The diagnostic we send from now on (RFC 5880 section 4.1). */
  readonly diagnostic: number;
  readonly at: number;
}

export type BfdDiscardReason =
  | 'authentication-not-configured'
  | 'your-discriminator-mismatch'
  | 'zero-your-discriminator-when-not-down'
  | 'session-admin-down';

export type BfdAction =
  | { readonly type: 'transition'; readonly transition: BfdTransition }
  | { readonly type: 'send'; readonly packet: BfdControlPacket }
  /** For `transmit`: the interval before jitter (transmitDelayMs); for `detection`: the exact time. */
  | { readonly type: 'startTimer'; readonly timer: BfdTimer; readonly ms: number }
  | { readonly type: 'stopTimer'; readonly timer: BfdTimer }
  | { readonly type: 'up' }
  /** The session left Up. `failure`: the path is down (detection time, the peer signaled Down); clients such as
   *  BGP tear down. Not a failure: AdminDown on either side (RFC 5882 section 3.2). */
  | { readonly type: 'down'; readonly reason: BfdTransitionReason; readonly failure: boolean }
  | { readonly type: 'discard'; readonly reason: BfdDiscardReason };

export interface BfdSessionState {
  readonly name: BfdState;
  readonly config: BfdSessionConfig;
  readonly diagnostic: number;
  readonly remoteState: BfdState;
  /** 0 until heard, and again after a Detection Time without packets (section 6.8.1). */
  readonly remoteDiscriminator: number;
  /** Microseconds; 1 until heard (section 6.8.1). */
  readonly remoteMinRxUs: number;
  /** Microseconds; 0 until heard. */
  readonly remoteDesiredMinTxUs: number;
  /** 0 until heard. */
  readonly remoteDetectMultiplier: number;
  readonly remoteDemand: boolean;
  /** A Poll Sequence is in progress: periodic packets carry P until a packet with F arrives. */
  readonly polling: boolean;
  /** `now` when this state was entered. */
  readonly since: number;
  readonly lastTransition?: BfdTransition;
}

export interface BfdStepResult {
  readonly state: BfdSessionState;
  readonly actions: BfdAction[];
}

/** Section 6.8.3: Desired Min TX Interval while the session is not Up. */
export const SLOW_TX_MS = 1000;

/** A session that has not been started: AdminDown. */
export function initialBfdState(config: BfdSessionConfig, now: number): BfdSessionState {
  return {
    name: 'AdminDown',
    config,
    diagnostic: BFD_DIAGNOSTIC.none,
    remoteState: 'Down',
    remoteDiscriminator: 0,
    remoteMinRxUs: 1,
    remoteDesiredMinTxUs: 0,
    remoteDetectMultiplier: 0,
    remoteDemand: false,
    polling: false,
    since: now,
  };
}

/** The Desired Min TX Interval we advertise (microseconds): the configured one when Up, else at least 1 s. */
export function advertisedDesiredMinTxUs(state: BfdSessionState): number {
  const configured = state.config.desiredMinTxMs * 1000;
  return state.name === 'Up' ? configured : Math.max(configured, SLOW_TX_MS * 1000);
}

/** Section 6.8.2: the interval between our periodic packets, milliseconds (before jitter). */
export function transmitIntervalMs(state: BfdSessionState): number {
  return Math.max(advertisedDesiredMinTxUs(state), state.remoteMinRxUs) / 1000;
}

/** Section 6.8.4 (asynchronous mode): how long without a packet before the peer is declared down, ms. */
export function detectionTimeMs(state: BfdSessionState): number {
  return (
    (state.remoteDetectMultiplier * Math.max(state.config.requiredMinRxMs * 1000, state.remoteDesiredMinTxUs)) / 1000
  );
}

/**
 * Section 6.8.7 jitter: the interval reduced by a random 0-25% (Detect Mult 1: 10-25%). `random` is in [0, 1).
 */
export function transmitDelayMs(intervalMs: number, detectMultiplier: number, random: number): number {
  const reduction = detectMultiplier === 1 ? 0.1 + 0.15 * random : 0.25 * random;
  return intervalMs * (1 - reduction);
}

/** The control packet we send in this state. */
export function controlPacketFor(
  state: BfdSessionState,
  flags: { poll?: boolean; final?: boolean } = {},
): BfdControlPacket {
  return {
    diagnostic: state.diagnostic,
    state: state.name,
    poll: flags.poll ?? false,
    final: flags.final ?? false,
    controlPlaneIndependent: false,
    demand: false,
    detectMultiplier: state.config.detectMultiplier,
    myDiscriminator: state.config.localDiscriminator,
    yourDiscriminator: state.remoteDiscriminator,
    desiredMinTxInterval: advertisedDesiredMinTxUs(state),
    requiredMinRxInterval: state.config.requiredMinRxMs * 1000,
    requiredMinEchoRxInterval: 0,
  };
}

/** Runs one event through the FSM. Pure and total. */
export function stepBfd(state: BfdSessionState, event: BfdEvent, now: number): BfdStepResult {
  switch (event.type) {
    case 'Start':
      return start(state, now);
    case 'Stop':
      return stop(state, now);
    case 'TransmitTimerExpired':
      return transmit(state);
    case 'DetectionTimerExpired':
      return detectionExpired(state, now);
    case 'PacketReceived':
      return received(state, event.packet, now);
  }
}

// ---------------------------------------------------------------------------------------------------------------

/** May a periodic packet go out now (section 6.8.7)? */
function mayTransmit(state: BfdSessionState): boolean {
  if (state.config.passive && state.remoteDiscriminator === 0) return false;
  return state.remoteMinRxUs !== 0;
}

function changeState(
  state: BfdSessionState,
  to: BfdState,
  reason: BfdTransitionReason,
  diagnostic: number,
  now: number,
): { state: BfdSessionState; actions: BfdAction[] } {
  const transition: BfdTransition = { from: state.name, to, reason, diagnostic, at: now };
  const next: BfdSessionState = {
    ...state,
    name: to,
    diagnostic,
    since: now,
    lastTransition: transition,
    // A Poll Sequence belongs to Up (the interval change on reaching it); leaving Up ends it.
    polling: to === 'Up' ? state.polling : false,
  };
  const actions: BfdAction[] = [{ type: 'transition', transition }];
  if (state.name === 'Up' && to !== 'Up') {
    actions.push({
      type: 'down',
      reason,
      failure: reason === 'detection-time-expired' || reason === 'peer-signaled-down',
    });
  }
  return { state: next, actions };
}

function start(state: BfdSessionState, now: number): BfdStepResult {
  if (state.name !== 'AdminDown') return { state, actions: [] };
  const moved = changeState(state, 'Down', 'started', BFD_DIAGNOSTIC.none, now);
  const actions = [...moved.actions];
  if (mayTransmit(moved.state)) actions.push({ type: 'send', packet: controlPacketFor(moved.state) });
  actions.push({ type: 'startTimer', timer: 'transmit', ms: transmitIntervalMs(moved.state) });
  return { state: moved.state, actions };
}

function stop(state: BfdSessionState, now: number): BfdStepResult {
  if (state.name === 'AdminDown') return { state, actions: [] };
  const moved = changeState(state, 'AdminDown', 'stopped', BFD_DIAGNOSTIC.administrativelyDown, now);
  const actions = [...moved.actions];
  // Section 6.8.16: tell the peer, so that it does not take the silence for a failure.
  if (moved.state.remoteDiscriminator !== 0 || !state.config.passive)
    actions.push({ type: 'send', packet: controlPacketFor(moved.state) });
  actions.push({ type: 'stopTimer', timer: 'transmit' }, { type: 'stopTimer', timer: 'detection' });
  return { state: moved.state, actions };
}

function transmit(state: BfdSessionState): BfdStepResult {
  if (state.name === 'AdminDown') return { state, actions: [] };
  const actions: BfdAction[] = [];
  if (mayTransmit(state)) actions.push({ type: 'send', packet: controlPacketFor(state, { poll: state.polling }) });
  actions.push({ type: 'startTimer', timer: 'transmit', ms: transmitIntervalMs(state) });
  return { state, actions };
}

function detectionExpired(state: BfdSessionState, now: number): BfdStepResult {
  if (state.name === 'AdminDown') return { state, actions: [] };
  const forgotten: BfdSessionState = { ...state, remoteDiscriminator: 0, remoteState: 'Down' };
  if (state.name === 'Down') return { state: forgotten, actions: [] };
  const moved = changeState(
    forgotten,
    'Down',
    'detection-time-expired',
    BFD_DIAGNOSTIC.controlDetectionTimeExpired,
    now,
  );
  const actions = [...moved.actions];
  if (mayTransmit(moved.state)) actions.push({ type: 'send', packet: controlPacketFor(moved.state) });
  actions.push({ type: 'startTimer', timer: 'transmit', ms: transmitIntervalMs(moved.state) });
  return { state: moved.state, actions };
}

const discard = (state: BfdSessionState, reason: BfdDiscardReason): BfdStepResult => ({
  state,
  actions: [{ type: 'discard', reason }],
});

function received(state: BfdSessionState, packet: BfdControlPacket, now: number): BfdStepResult {
  // Section 6.8.6, in its order (the codec has done the checks that need no session).
  if (packet.yourDiscriminator !== 0 && packet.yourDiscriminator !== state.config.localDiscriminator) {
    return discard(state, 'your-discriminator-mismatch');
  }
  if (packet.yourDiscriminator === 0 && packet.state !== 'Down' && packet.state !== 'AdminDown') {
    return discard(state, 'zero-your-discriminator-when-not-down');
  }
  if (packet.authentication !== undefined) return discard(state, 'authentication-not-configured');
  if (state.name === 'AdminDown') return discard(state, 'session-admin-down');

  const intervalBefore = transmitIntervalMs(state);
  let next: BfdSessionState = {
    ...state,
    remoteDiscriminator: packet.myDiscriminator,
    remoteState: packet.state,
    remoteDemand: packet.demand,
    remoteMinRxUs: packet.requiredMinRxInterval,
    remoteDesiredMinTxUs: packet.desiredMinTxInterval,
    remoteDetectMultiplier: packet.detectMultiplier,
    // Section 6.5: F ends our Poll Sequence (our only one announces the Up rate, which applies at once).
    polling: packet.final ? false : state.polling,
  };
  const actions: BfdAction[] = [];

  let target: { to: BfdState; reason: BfdTransitionReason; diagnostic: number } | undefined;
  if (packet.state === 'AdminDown') {
    if (next.name !== 'Down')
      target = { to: 'Down', reason: 'peer-admin-down', diagnostic: BFD_DIAGNOSTIC.neighborSignaledSessionDown };
  } else if (next.name === 'Down') {
    if (packet.state === 'Down') target = { to: 'Init', reason: 'peer-down', diagnostic: BFD_DIAGNOSTIC.none };
    else if (packet.state === 'Init') target = { to: 'Up', reason: 'peer-init', diagnostic: BFD_DIAGNOSTIC.none };
  } else if (next.name === 'Init') {
    if (packet.state === 'Init' || packet.state === 'Up')
      target = { to: 'Up', reason: 'peer-up', diagnostic: BFD_DIAGNOSTIC.none };
  } else if (packet.state === 'Down') {
    target = { to: 'Down', reason: 'peer-signaled-down', diagnostic: BFD_DIAGNOSTIC.neighborSignaledSessionDown };
  }

  let sentNow = false;
  if (target !== undefined) {
    const moved = changeState(next, target.to, target.reason, target.diagnostic, now);
    next = moved.state;
    actions.push(...moved.actions);
    if (target.to === 'Up') {
      // The configured (faster) rate is announced with a Poll Sequence when it differs from the slow one.
      next = { ...next, polling: next.config.desiredMinTxMs < SLOW_TX_MS };
      actions.push({ type: 'up' });
    }
    // A state change is told at once (and answers a Poll in the same packet).
    if (mayTransmit(next)) {
      actions.push({
        type: 'send',
        packet: controlPacketFor(next, packet.poll ? { final: true } : { poll: next.polling }),
      });
      sentNow = true;
    }
  }
  if (packet.poll && !sentNow) actions.push({ type: 'send', packet: controlPacketFor(next, { final: true }) });

  // Section 6.8.4: the detection timer restarts on every accepted packet (while there is a session to detect).
  if (next.name === 'Init' || next.name === 'Up' || next.name === 'Down') {
    actions.push({ type: 'startTimer', timer: 'detection', ms: detectionTimeMs(next) });
  }
  const intervalAfter = transmitIntervalMs(next);
  if (intervalAfter !== intervalBefore || sentNow)
    actions.push({ type: 'startTimer', timer: 'transmit', ms: intervalAfter });
  return { state: next, actions };
}
