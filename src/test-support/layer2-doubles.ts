// Test doubles for the layer-2 speaker and announcer tests: fake frame channels that record what is sent and which
// multicast groups are joined, and recording metrics. Nothing here touches a socket.
import type { ChannelKind, FrameChannel, FrameOrigin, OpenFrameChannel } from '../speaker/layer2/frame-channel.ts';
import type { Layer2Metrics } from '../speaker/layer2/layer2-speaker-options.ts';
import type {
  DroppedFrame,
  IgnoredRequest,
  Layer2Protocol,
  ResponderMetrics,
} from '../speaker/layer2/responder-metrics.ts';

/** One opened FrameChannel: what the announcer sent on it and which multicast groups it holds. */
export interface FakeFrameChannel extends FrameChannel {
  readonly iface: { readonly name: string; readonly index: number };
  readonly kind: ChannelKind;
  /** Every frame sent, in order. */
  readonly sent: Uint8Array[];
  /** Multicast MACs joined and not dropped. */
  readonly memberships: Set<string>;
  /** Every addMulticast and dropMulticast call, in order. */
  readonly membershipCalls: Array<{ op: 'add' | 'drop'; mac: string }>;
  readonly closed: boolean;
  /**
   * A frame arrives from the wire (ignored once the channel is closed, as a closed socket would); by default as a
   * broadcast on the channel's own interface.
   */
  receive(frame: Uint8Array, origin?: Partial<FrameOrigin>): void;
  /** The socket reports a receive error (ENETDOWN, ...), as the native addon's onError does. */
  fail(message: string): void;
}

/**
 * The OpenFrameChannel of a fake machine: every channel ever opened is kept, so a test can find the open one per
 * interface and kind, and see frames sent on channels closed since. Sending on a closed channel throws, as on a
 * closed socket.
 */
export class FakeFrameChannels {
  readonly opened: FakeFrameChannel[] = [];
  /** When it returns true for an interface and kind, open throws (a socket that cannot be opened). */
  failOpen: (iface: { name: string; index: number }, kind: ChannelKind) => boolean = () => false;
  /** When it returns true for an interface and kind, send throws, as packet-channels.ts does on ENOBUFS or ENETDOWN. */
  failSend: (iface: { name: string; index: number }, kind: ChannelKind) => boolean = () => false;

  readonly open: OpenFrameChannel = (iface, kind, onFrame, onError) => {
    if (this.failOpen(iface, kind)) throw new Error(`${iface.name}: cannot open a ${kind} socket (fake)`);
    let closed = false;
    const sent: Uint8Array[] = [];
    const memberships = new Set<string>();
    const membershipCalls: Array<{ op: 'add' | 'drop'; mac: string }> = [];
    const channel: FakeFrameChannel = {
      iface: { name: iface.name, index: iface.index },
      kind,
      sent,
      memberships,
      membershipCalls,
      get closed() {
        return closed;
      },
      send: (frame) => {
        if (closed) throw new Error(`${iface.name}: send on a closed ${kind} channel`);
        if (this.failSend(iface, kind)) throw new Error(`${iface.name}: No buffer space available (ENOBUFS, fake)`);
        sent.push(Uint8Array.from(frame));
      },
      addMulticast(mac) {
        if (closed) throw new Error(`${iface.name}: addMulticast on a closed ${kind} channel`);
        memberships.add(mac);
        membershipCalls.push({ op: 'add', mac });
      },
      dropMulticast(mac) {
        if (closed) throw new Error(`${iface.name}: dropMulticast on a closed ${kind} channel`);
        memberships.delete(mac);
        membershipCalls.push({ op: 'drop', mac });
      },
      close() {
        closed = true;
      },
      receive(frame, origin = {}) {
        if (!closed) onFrame(frame, { packetType: 'broadcast', ifindex: iface.index, ...origin });
      },
      fail(message) {
        if (!closed) onError(message);
      },
    };
    this.opened.push(channel);
    return channel;
  };

  /** The open channel of `kind` on interface `name`, if any. */
  channel(name: string, kind: ChannelKind): FakeFrameChannel | undefined {
    return this.opened.find((c) => c.iface.name === name && c.kind === kind && !c.closed);
  }

  /** Open channels, as `name/kind`, sorted. */
  openChannels(): string[] {
    return this.opened
      .filter((c) => !c.closed)
      .map((c) => `${c.iface.name}/${c.kind}`)
      .sort();
  }

  /** Every frame sent on interface `name` over channels of `kind`, open or closed since, in order of channel opening. */
  sentOn(name: string, kind: ChannelKind): Uint8Array[] {
    return this.opened.filter((c) => c.iface.name === name && c.kind === kind).flatMap((c) => c.sent);
  }

  /** Forgets the frames sent so far (memberships stay). */
  clearSent(): void {
    for (const channel of this.opened) channel.sent.length = 0;
  }
}

/** ResponderMetrics and Layer2Metrics that remember what they were told. */
export class RecordingMetrics implements ResponderMetrics, Layer2Metrics {
  readonly answers: Record<Layer2Protocol, number> = { arp: 0, ndp: 0 };
  readonly announcements: Record<Layer2Protocol, number> = { arp: 0, ndp: 0 };
  readonly limited: Record<Layer2Protocol, number> = { arp: 0, ndp: 0 };
  /** `protocol/reason` of every request ignored by rule, in order. */
  readonly ignoredRequests: string[] = [];
  /** `protocol/reason` of every frame dropped (DroppedFrame), in order. */
  readonly droppedFrames: string[] = [];
  /** Every value reported by owned(), in order. */
  readonly ownedCounts: number[] = [];
  readonly ownershipChanges: Record<'gained' | 'lost', number> = { gained: 0, lost: 0 };
  /** Every value reported by fenced(), in order (reported on change only). */
  readonly fencedChanges: boolean[] = [];
  /** Every readiness reported, in order (reported on change only). */
  readonly readyChanges: Array<{ ready: boolean; reason: string | undefined }> = [];

  answered(protocol: Layer2Protocol): void {
    this.answers[protocol]++;
  }

  announced(protocol: Layer2Protocol, count: number): void {
    this.announcements[protocol] += count;
  }

  rateLimited(protocol: Layer2Protocol): void {
    this.limited[protocol]++;
  }

  ignored(protocol: Layer2Protocol, reason: IgnoredRequest): void {
    this.ignoredRequests.push(`${protocol}/${reason}`);
  }

  dropped(protocol: Layer2Protocol, reason: DroppedFrame): void {
    this.droppedFrames.push(`${protocol}/${reason}`);
  }

  owned(count: number): void {
    this.ownedCounts.push(count);
  }

  ownershipChange(kind: 'gained' | 'lost'): void {
    this.ownershipChanges[kind]++;
  }

  fenced(fenced: boolean): void {
    this.fencedChanges.push(fenced);
  }

  ready(ready: boolean, reason?: string): void {
    this.readyChanges.push({ ready, reason });
  }

  /** The live-set size of the last ownership pass. */
  lastLiveSpeakers: number | undefined;

  liveSpeakers(count: number): void {
    this.lastLiveSpeakers = count;
  }
}
