// One BFD session with one peer on one interface: runs the pure FSM of protocol/bfd (stepBfd) and executes its
// actions: packets through the session's own UDP socket (source port fixed for its life, TTL 255), the transmit
// timer with RFC 5880 jitter and the detection timer on the injected clock, and up/down to its clients.
import type { Clock } from '../../core/clock.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BfdSender } from '../../platform/bfd-transport.ts';
import {
  describeDiagnostic,
  encodeBfdControlPacket,
  type BfdControlPacket,
  type BfdState,
} from '../../protocol/bfd/control-packet.ts';
import {
  initialBfdState,
  stepBfd,
  transmitDelayMs,
  type BfdAction,
  type BfdEvent,
  type BfdSessionConfig,
  type BfdSessionState,
  type BfdTimer,
  type BfdTransition,
  type BfdTransitionReason,
} from '../../protocol/bfd/session-fsm.ts';
import { StepQueue } from '../step-queue.ts';
import { FsmTimers } from '../fsm-timers.ts';

export type BfdChange =
  { readonly up: true } | { readonly up: false; readonly reason: BfdTransitionReason; readonly failure: boolean };

export interface BfdSessionOptions {
  readonly peerAddress: string;
  readonly config: BfdSessionConfig;
  readonly sender: BfdSender;
  readonly clock: Clock;
  /** [0, 1), for jitter. */
  readonly random: () => number;
  readonly log: Logger;
  readonly onTransition: (transition: BfdTransition) => void;
  readonly onChange: (change: BfdChange) => void;
  readonly onDiscard?: (reason: string) => void;
}

const TIMER_EVENTS: Readonly<Record<BfdTimer, BfdEvent>> = {
  transmit: { type: 'TransmitTimerExpired' },
  detection: { type: 'DetectionTimerExpired' },
};

export class BfdSession {
  readonly #peerAddress: string;
  readonly #config: BfdSessionConfig;
  readonly #sender: BfdSender;
  readonly #clock: Clock;
  readonly #random: () => number;
  readonly #log: Logger;
  readonly #onTransition: (transition: BfdTransition) => void;
  readonly #onChange: (change: BfdChange) => void;
  readonly #onDiscard: ((reason: string) => void) | undefined;
  #state: BfdSessionState;
  readonly #timers: FsmTimers<BfdTimer>;
  readonly #events = new StepQueue<BfdEvent>((event) => {
    this.#step(event);
  });

  constructor(o: BfdSessionOptions) {
    this.#peerAddress = o.peerAddress;
    this.#config = o.config;
    this.#sender = o.sender;
    this.#clock = o.clock;
    this.#random = o.random;
    this.#log = o.log;
    this.#onTransition = o.onTransition;
    this.#onChange = o.onChange;
    this.#onDiscard = o.onDiscard;
    this.#timers = new FsmTimers(o.clock);
    this.#state = initialBfdState(o.config, o.clock.now());
  }

  get state(): BfdState {
    return this.#state.name;
  }

  get localDiscriminator(): number {
    return this.#config.localDiscriminator;
  }

  get fsm(): BfdSessionState {
    return this.#state;
  }

  start(): void {
    this.#events.feed({ type: 'Start' });
  }

  receive(packet: BfdControlPacket): void {
    this.#events.feed({ type: 'PacketReceived', packet });
  }

  /** AdminDown to the peer (not a failure for it), timers stopped, socket closed. */
  stop(): void {
    this.#events.feed({ type: 'Stop' });
    this.#timers.stopAll();
    this.#sender.close();
  }

  #step(event: BfdEvent): void {
    const result = stepBfd(this.#state, event, this.#clock.now());
    this.#state = result.state;
    for (const action of result.actions) this.#execute(action);
  }

  #execute(action: BfdAction): void {
    switch (action.type) {
      case 'transition': {
        const t = action.transition;
        const fields = { from: t.from, to: t.to, reason: t.reason, diagnostic: describeDiagnostic(t.diagnostic) };
        if (t.from === 'Up' || t.to === 'Up') this.#log.info(fields, 'BFD session state');
        else this.#log.debug(fields, 'BFD session state');
        this.#onTransition(t);
        return;
      }
      case 'send':
        this.#sender.send(encodeBfdControlPacket(action.packet), this.#peerAddress);
        return;
      case 'startTimer': {
        const ms =
          action.timer === 'transmit'
            ? transmitDelayMs(action.ms, this.#config.detectMultiplier, this.#random())
            : action.ms;
        const event = TIMER_EVENTS[action.timer];
        this.#timers.start(action.timer, ms, () => {
          this.#events.feed(event);
        });
        return;
      }
      case 'stopTimer':
        this.#timers.stop(action.timer);
        return;
      case 'up':
        this.#onChange({ up: true });
        return;
      case 'down':
        this.#onChange({ up: false, reason: action.reason, failure: action.failure });
        return;
      case 'discard':
        this.#log.debug({ reason: action.reason }, 'BFD packet discarded');
        this.#onDiscard?.(action.reason);
        return;
    }
  }
}
