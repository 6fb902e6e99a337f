// What answering ARP requests and Neighbor Solicitations has in common, whatever the protocol: a request for an
// owned address is answered at most `maxAnswersPerSecond` times a second per interface, only to a unicast hardware
// address, and only when it arrived for this host on the interface itself (docs/security.md). The protocol's reader
// (arp-responder.ts, ndp-responder.ts) turns the frame into an AddressRequest or says why it is dropped. Every frame
// that is not answered is counted with its reason, as MetalLB's responders name a dropReason: nothing returns
// silently.
import type { Clock } from '../../core/clock.ts';
import type { Result } from '../../core/result.ts';
import { formatIp } from '../../core/ip/ip-address.ts';
import { TokenBucket } from '../../core/token-bucket.ts';
import { ZERO_MAC, isGroupMac } from '../../protocol/ethernet/mac-address.ts';
import type { Logger } from '../../platform/logger.ts';
import type { FrameChannel, FrameOrigin } from './frame-channel.ts';
import type { DroppedFrame, IgnoredRequest, Layer2Protocol, ResponderMetrics } from './responder-metrics.ts';

/** The interface a responder answers on, as it is bound now (its index and MAC change when the link is recreated). */
export interface ResponderBinding {
  readonly name: string;
  readonly index: number;
  readonly mac: string;
}

/** A request for an address, read from a frame: what the rules judge and how to answer it. */
export interface AddressRequest {
  readonly target: bigint;
  /** The frame's Ethernet source. */
  readonly ethernetSource: string;
  /** The hardware address the answer would go to. */
  readonly replyTo: string;
  /** What the debug log line of a refused request names. */
  readonly detail: Readonly<Record<string, string>>;
  /** The answer's frame, from this interface's MAC. */
  answer(ownMac: string): Uint8Array;
}

/** Reads a received frame as a request, or names why it is no request to answer. */
export type RequestReader = (bytes: Uint8Array, binding: ResponderBinding) => Result<AddressRequest, DroppedFrame>;

export interface ResponderOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly metrics: ResponderMetrics;
  /** Answers per second per interface and protocol (requests above it are dropped and counted). */
  readonly maxAnswersPerSecond: number;
}

/** Answers the requests of one protocol on one interface; built by arpResponder or ndpResponder. */
export class AddressResponder {
  readonly #protocol: Layer2Protocol;
  readonly #read: RequestReader;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ResponderMetrics;
  readonly #bucket: TokenBucket;

  constructor(protocol: Layer2Protocol, read: RequestReader, options: ResponderOptions) {
    this.#protocol = protocol;
    this.#read = read;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#bucket = new TokenBucket(
      options.maxAnswersPerSecond,
      Math.max(16, Math.ceil(options.maxAnswersPerSecond / 10)),
      options.clock.now(),
    );
  }

  /**
   * A frame received on `binding`, whose owned addresses of this protocol's family are `owned`; the answer goes out
   * on `channel`.
   */
  receive(
    binding: ResponderBinding,
    owned: ReadonlySet<bigint>,
    channel: FrameChannel | undefined,
    bytes: Uint8Array,
    origin: FrameOrigin,
  ): void {
    const read = this.#read(bytes, binding);
    if (!read.ok) {
      this.#metrics.dropped(this.#protocol, read.error);
      return;
    }
    const request = read.value;
    if (!owned.has(request.target)) {
      this.#metrics.dropped(this.#protocol, 'not-owned');
      return;
    }
    const refusal = refusalOf(binding, origin, request);
    if (refusal) {
      this.#metrics.ignored(this.#protocol, refusal);
      this.#log.debug(
        { interface: binding.name, ip: formatIp(request.target), reason: refusal, ...request.detail },
        'request not answered',
      );
      return;
    }
    if (!this.#bucket.take(this.#clock.now())) {
      this.#metrics.rateLimited(this.#protocol);
      return;
    }
    // A failed send (ENOBUFS under a flood, ENETDOWN) is logged and counted, never thrown into the socket callback.
    try {
      if (!channel) throw new Error('no open socket');
      channel.send(request.answer(binding.mac));
      this.#metrics.answered(this.#protocol);
    } catch (error) {
      this.#metrics.dropped(this.#protocol, 'send-failed');
      this.#log.debug(
        { interface: binding.name, kind: this.#protocol, err: (error as Error).message },
        'answer not sent',
      );
    }
  }
}

/**
 * Why a request for an owned address must not be answered, judged by where the kernel says it came from and the
 * hardware addresses the answer would go to; undefined when it may be answered.
 */
function refusalOf(
  binding: ResponderBinding,
  origin: FrameOrigin,
  request: AddressRequest,
): IgnoredRequest | undefined {
  if (origin.packetType === 'outgoing') return 'outgoing';
  if (origin.packetType === 'otherhost') return 'other-host';
  if (origin.ifindex !== binding.index) return 'other-interface';
  if (isGroupMac(request.ethernetSource) || isGroupMac(request.replyTo) || request.replyTo === ZERO_MAC)
    return 'group-sender';
  return undefined;
}
