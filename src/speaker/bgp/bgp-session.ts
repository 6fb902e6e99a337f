// One BGP session with one peer: runs the pure FSM of protocol/bgp (step) and executes its actions with a socket
// and the injected clock, frames the TCP stream into messages, and sends what its Adj-RIB-Out (adj-rib-out.ts)
// says: a change of the routes the speaker wants advertised (setRoutes) sends only the difference. Received routes
// are not used (the speaker only advertises); they are decoded, checked per RFC 7606 and counted.
import type { Clock, Timer } from '../../core/clock.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BgpSocket, TransportError } from '../../platform/bgp-transport.ts';
import type { AddressFamily } from '../../protocol/bgp/address-family.ts';
import { encodeBgpMessage, decodeBgpMessage, type BgpMessage } from '../../protocol/bgp/bgp-message.ts';
import { describeNotification } from '../../protocol/bgp/notification-message.ts';
import { nextMessageLength } from '../../protocol/bgp/message-header.ts';
import type { BgpCodecContext } from '../../protocol/bgp/path-attribute.ts';
import {
  eventForInbound,
  initialSessionState,
  step,
  type SessionAction,
  type SessionEvent,
  type SessionState,
  type SessionStateName,
  type SessionTimer,
  type SessionTransition,
} from '../../protocol/bgp/session-fsm.ts';
import type { NegotiatedSession, SessionConfig } from '../../protocol/bgp/session-negotiation.ts';
import {
  endOfRib,
  announcedPrefixes,
  withdrawnPrefixes,
  type UpdateMessage,
} from '../../protocol/bgp/update-message.ts';
import { concatBytes } from '../../protocol/wire/byte-writer.ts';
import { AdjRibOut, type BgpRoute, type NextHops, type UnadvertisedHandler } from './adj-rib-out.ts';
import type { BgpMetrics } from './bgp-metrics.ts';
import { StepQueue } from '../step-queue.ts';
import { FsmTimers } from '../fsm-timers.ts';

export type { BgpRoute, NextHops, UnadvertisedHandler } from './adj-rib-out.ts';

export interface BgpSessionOptions {
  /** The BGPPeer name: labels logs, metrics and Events. */
  readonly peer: string;
  readonly config: SessionConfig;
  /** Opens the TCP connection (with MD5, TTL and source address already applied). */
  readonly connect: () => Result<BgpSocket, TransportError>;
  /** The next hops for our routes, from the local address of the connection. */
  readonly nextHops: (localAddress: string | undefined) => NextHops;
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: BgpMetrics;
  readonly onTransition: (transition: SessionTransition) => void;
  /**
   * Routes of a family could not be advertised on this session: no next hop of the family (an IPv4 route without an
   * IPv4 address and without extended next hop). Called once per family and session.
   */
  readonly onUnadvertised?: UnadvertisedHandler;
}

const EMPTY_CODEC: BgpCodecContext = { fourOctetAs: true };

export class BgpSession {
  readonly #peer: string;
  readonly #config: SessionConfig;
  readonly #openSocket: () => Result<BgpSocket, TransportError>;
  readonly #nextHops: (localAddress: string | undefined) => NextHops;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: BgpMetrics;
  readonly #onTransition: (transition: SessionTransition) => void;
  #state: SessionState;
  #socket: BgpSocket | undefined;
  #buffer: Uint8Array = new Uint8Array(0);
  readonly #timers: FsmTimers<SessionTimer>;
  readonly #events = new StepQueue<SessionEvent>((event) => {
    this.#step(event);
  });
  readonly #ribOut: AdjRibOut;
  #prefixesReceived = 0;
  /** BFD went down: the session stays in Idle until BFD is up again (ADR 0018). */
  #heldByBfd = false;

  constructor(o: BgpSessionOptions) {
    this.#peer = o.peer;
    this.#config = o.config;
    this.#openSocket = o.connect;
    this.#nextHops = o.nextHops;
    this.#clock = o.clock;
    this.#log = o.log;
    this.#metrics = o.metrics;
    this.#onTransition = o.onTransition;
    this.#timers = new FsmTimers(o.clock);
    this.#state = initialSessionState(o.config, o.clock.now());
    this.#ribOut = new AdjRibOut(o.config.localAs, o.log, o.onUnadvertised);
  }

  get state(): SessionStateName {
    return this.#state.name;
  }

  get since(): number {
    return this.#state.since;
  }

  get negotiated(): NegotiatedSession | undefined {
    return this.#state.name === 'Established' ? this.#state.negotiated : undefined;
  }

  /** Extended next hop (RFC 8950) is negotiated: IPv4 routes go with IPv6 next hops. False unless Established. */
  get extendedNextHop(): boolean {
    return this.negotiated?.extendedNextHop === true;
  }

  get prefixesAdvertised(): number {
    return this.#ribOut.advertisedCount;
  }

  get prefixesReceived(): number {
    return this.#prefixesReceived;
  }

  get config(): SessionConfig {
    return this.#config;
  }

  start(): void {
    this.#events.feed({ type: 'ManualStart' });
  }

  /** A connection the peer opened to our listener (passive peers). Refused while another connection is in use. */
  accept(socket: BgpSocket): void {
    if (this.#socket !== undefined || (this.#state.name !== 'Active' && this.#state.name !== 'Connect')) {
      this.#log.debug({ state: this.#state.name }, 'refusing a second connection from the peer');
      socket.destroy();
      return;
    }
    this.#attach(socket);
    this.#events.feed({ type: 'TcpConnectionConfirmed' });
  }

  /**
   * The BFD session with the peer went down (a failure, not AdminDown): tear the session down at once (Cease / BFD
   * Down) and hold it in Idle until bfdUp().
   */
  bfdDown(): void {
    this.#heldByBfd = true;
    this.#timers.stop('idleHold');
    this.#events.feed({ type: 'BfdDown' });
  }

  /** BFD is up (again): a session held by bfdDown() starts. */
  bfdUp(): void {
    if (!this.#heldByBfd) return;
    this.#heldByBfd = false;
    this.#events.feed({ type: 'AutomaticStart' });
  }

  /** Replaces what is advertised; when Established, sends the difference at once. */
  setRoutes(routes: readonly BgpRoute[]): void {
    this.#ribOut.setDesired(routes);
    if (this.#state.name === 'Established') this.#sendDifference();
  }

  /**
   * Withdraws every route, sends Cease (Administrative Shutdown, with the RFC 9003 message) and closes; resolves
   * once the connection is closed or after `timeoutMs`.
   */
  async stop(communication: string, timeoutMs = 2000): Promise<void> {
    if (this.#state.name === 'Established') {
      this.#ribOut.setDesired([]);
      this.#sendDifference();
    }
    const socket = this.#socket;
    const closed = socket
      ? new Promise<void>((resolve) =>
          socket.once('close', () => {
            resolve();
          }),
        )
      : Promise.resolve();
    this.#events.feed({ type: 'ManualStop', communication });
    let timer: Timer | undefined;
    await Promise.race([closed, new Promise<void>((resolve) => (timer = this.#clock.after(timeoutMs, resolve)))]);
    timer?.cancel();
    socket?.destroy();
    this.#timers.stopAll();
  }

  // -------------------------------------------------------------------------------------------------------------

  #step(event: SessionEvent): void {
    const result = step(this.#state, event, this.#clock.now());
    this.#state = result.state;
    for (const action of result.actions) this.#execute(action);
  }

  #execute(action: SessionAction): void {
    switch (action.type) {
      case 'transition':
        this.#transition(action.transition);
        return;
      case 'connect':
        this.#connect();
        return;
      case 'disconnect':
        this.#disconnect();
        return;
      case 'send':
        this.#send(action.message);
        return;
      case 'startTimer': {
        const event = TIMER_EVENTS[action.timer];
        this.#timers.start(action.timer, action.ms, () => {
          if (action.timer === 'idleHold' && this.#heldByBfd) return; // bfdUp() restarts it
          this.#events.feed(event);
        });
        return;
      }
      case 'stopTimer':
        this.#timers.stop(action.timer);
        return;
      case 'established':
        this.#established();
        return;
      case 'down':
        this.#ribOut.sessionDown();
        this.#prefixesReceived = 0; // the peer's routes went with the session (they come again after Established)
        this.#metrics.prefixesAdvertised(this.#peer, 0);
        this.#metrics.sessionFlap(this.#peer);
        return;
      case 'deliverUpdate':
        this.#received(action.update, action.handling, action.reason);
        return;
      case 'deliverRouteRefresh':
        this.#log.info({ family: action.family }, 'peer asked for our routes again (route refresh)');
        this.#announceAll(action.family);
        return;
    }
  }

  #transition(transition: SessionTransition): void {
    const fields = {
      from: transition.from,
      to: transition.to,
      reason: transition.reason,
      ...(transition.detail === undefined ? {} : { detail: transition.detail }),
      ...(transition.sentNotification ? { sent: describeNotification(transition.sentNotification) } : {}),
      ...(transition.receivedNotification ? { received: describeNotification(transition.receivedNotification) } : {}),
    };
    const important =
      transition.to === 'Established' ||
      transition.from === 'Established' ||
      transition.sentNotification ||
      transition.receivedNotification;
    if (important) this.#log.info(fields, 'BGP session state');
    else this.#log.debug(fields, 'BGP session state');
    if (transition.sentNotification) this.#metrics.notification(this.#peer, 'sent');
    if (transition.receivedNotification) this.#metrics.notification(this.#peer, 'received');
    this.#metrics.sessionUp(this.#peer, transition.to === 'Established');
    this.#onTransition(transition);
  }

  #connect(): void {
    this.#disconnect();
    const socket = this.#openSocket();
    if (!socket.ok) {
      this.#log.warn({ err: socket.error.message }, 'cannot open a connection to the peer');
      queueMicrotask(() => {
        this.#events.feed({ type: 'TcpConnectionFails' });
      });
      return;
    }
    this.#attach(socket.value);
    socket.value.once('connect', () => {
      if (this.#socket === socket.value) this.#events.feed({ type: 'TcpConnectionRequestAcked' });
    });
  }

  #attach(socket: BgpSocket): void {
    this.#socket = socket;
    this.#buffer = new Uint8Array(0);
    socket.on('data', (chunk: Buffer) => {
      if (this.#socket === socket) this.#receive(chunk);
    });
    socket.on('error', (error: Error) => {
      if (this.#socket === socket) this.#log.debug({ err: error.message }, 'connection error');
    });
    socket.once('close', () => {
      if (this.#socket !== socket) return;
      this.#socket = undefined;
      this.#events.feed({ type: 'TcpConnectionFails' });
    });
  }

  /** Ends the connection after what was written (a NOTIFICATION) has gone out. */
  #disconnect(): void {
    const socket = this.#socket;
    if (socket === undefined) return;
    this.#socket = undefined;
    socket.end(() => socket.destroy());
    // A peer that never reads must not keep the socket forever.
    const timer = this.#clock.after(1000, () => socket.destroy());
    socket.once('close', () => {
      timer.cancel();
    });
  }

  #codec(): BgpCodecContext {
    return this.#state.negotiated?.codec ?? EMPTY_CODEC;
  }

  #send(message: BgpMessage): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed) return;
    socket.write(encodeBgpMessage(message, this.#codec()));
  }

  #sendUpdates(updates: readonly UpdateMessage[]): void {
    const socket = this.#socket;
    if (socket === undefined || socket.destroyed || updates.length === 0) return;
    const codec = this.#codec();
    const parts = updates.map((update) => encodeBgpMessage(update, codec));
    socket.write(Buffer.concat(parts));
    this.#metrics.updatesSent(this.#peer, updates.length);
  }

  #receive(chunk: Buffer): void {
    let buffer = this.#buffer.length === 0 ? new Uint8Array(chunk) : concatBytes([this.#buffer, chunk]);
    for (;;) {
      const length = nextMessageLength(buffer);
      if (!length.ok) {
        this.#log.warn({ err: length.error.message }, 'bad message header from the peer');
        this.#buffer = new Uint8Array(0);
        this.#events.feed({ type: 'BGPHeaderErr', notification: length.error.notification });
        return;
      }
      if (length.value === undefined || buffer.length < length.value) break;
      const message = buffer.subarray(0, length.value);
      buffer = buffer.subarray(length.value);
      const outcome = decodeBgpMessage(message, this.#codec());
      if (outcome.kind === 'session-reset')
        this.#log.warn({ err: outcome.error.message }, 'malformed message from the peer: resetting the session');
      this.#events.feed(eventForInbound(outcome));
      if (this.#socket === undefined) return;
    }
    this.#buffer = buffer.length === 0 ? new Uint8Array(0) : buffer.slice();
  }

  #received(
    update: UpdateMessage,
    handling: 'ok' | 'treat-as-withdraw' | 'attribute-discard',
    reason: string | undefined,
  ): void {
    if (handling !== 'ok') {
      this.#metrics.inboundError(this.#peer, handling);
      this.#log.warn({ handling, reason }, 'malformed UPDATE from the peer, handled per RFC 7606');
    }
    const announced = handling === 'treat-as-withdraw' ? 0 : announcedPrefixes(update).length;
    const withdrawn = withdrawnPrefixes(update).length;
    this.#prefixesReceived = Math.max(0, this.#prefixesReceived + announced - withdrawn);
  }

  #established(): void {
    const negotiated = this.#state.negotiated;
    if (negotiated === undefined) return;
    this.#ribOut.sessionEstablished(this.#nextHops(this.#socket?.localAddress));
    for (const family of negotiated.families) this.#announceAll(family);
    // End-of-RIB (RFC 4724 section 2) after the initial table: a graceful-restart peer drops our stale routes then.
    this.#sendUpdates(negotiated.families.map(endOfRib));
  }

  /** Every desired route of a family (initial table, route refresh). */
  #announceAll(family: AddressFamily): void {
    const negotiated = this.#state.negotiated;
    if (negotiated === undefined) return;
    this.#sendUpdates(this.#ribOut.announceAll(family, negotiated));
    this.#metrics.prefixesAdvertised(this.#peer, this.#ribOut.advertisedCount);
  }

  #sendDifference(): void {
    const negotiated = this.#state.negotiated;
    if (negotiated === undefined) return;
    for (const batch of this.#ribOut.difference(negotiated)) this.#sendUpdates(batch);
    this.#metrics.prefixesAdvertised(this.#peer, this.#ribOut.advertisedCount);
  }
}

const TIMER_EVENTS: Readonly<Record<SessionTimer, SessionEvent>> = {
  connectRetry: { type: 'ConnectRetryTimerExpires' },
  hold: { type: 'HoldTimerExpires' },
  keepalive: { type: 'KeepaliveTimerExpires' },
  idleHold: { type: 'IdleHoldTimerExpires' },
};
