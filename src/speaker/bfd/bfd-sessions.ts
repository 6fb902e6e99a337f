// The node's BFD sessions (RFC 5881 single hop): one per (peer address, interface), shared by every client that
// tracks that peer (BGP sessions of several BGPPeers), started on the first track() and stopped with the last
// release(). Received datagrams are decoded and handed to the session they belong to (RFC 5880 section 6.8.6:
// by Your Discriminator, else by the sender's address). The receiving sockets (port 3784, TTL 255 enforced by the
// kernel) open with the first session of their family and stay open until stop(). A session whose sockets cannot be
// opened (port 3784 held by another BFD daemon) is tried again every RETRY_MS while it is tracked.
import type { Clock, Timer } from '../../core/clock.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BfdReceiver, BfdSender, BfdTransportError, ReceivedBfdDatagram } from '../../platform/bfd-transport.ts';
import { decodeBfdControlPacket, type BfdState } from '../../protocol/bfd/control-packet.ts';
import { detectionTimeMs, transmitIntervalMs, type BfdTransition } from '../../protocol/bfd/session-fsm.ts';
import { BfdSession, type BfdChange } from './bfd-session.ts';

export interface BfdTransport {
  openReceiver(
    family: 4 | 6,
    onDatagram: (datagram: ReceivedBfdDatagram) => void,
    onError: (error: Error) => void,
  ): Promise<Result<BfdReceiver, BfdTransportError>>;
  openSender(family: 4 | 6, localAddress: string | undefined): Promise<Result<BfdSender, BfdTransportError>>;
}

/** What a BGPPeer asks of BFD (core/config -> speaker): intervals in milliseconds. */
export interface BfdSettings {
  readonly desiredMinTxMs: number;
  readonly requiredMinRxMs: number;
  readonly detectMultiplier: number;
  readonly passive: boolean;
}

export interface BfdPath {
  /** Canonical text of the peer address (formatIp). */
  readonly peerAddress: string;
  readonly family: 4 | 6;
  /** The interface whose subnet holds the peer (single hop). */
  readonly interfaceName: string;
  /** Our address on it, the source of our packets. */
  readonly localAddress: string;
}

export interface BfdSessionStatus {
  readonly peerAddress: string;
  readonly interfaceName: string;
  readonly state: BfdState;
  readonly since: number;
  readonly localDiscriminator: number;
  readonly remoteDiscriminator: number;
  readonly transmitIntervalMs: number;
  readonly detectionTimeMs: number;
}

export interface BfdHandle {
  /** The session state now ('AdminDown' until its socket is open). */
  state(): BfdState;
  /** This client no longer needs the session; the last release stops it (AdminDown to the peer). */
  release(): void;
}

export interface BfdMetrics {
  sessionUp(peer: string, up: boolean): void;
  sessionDown(peer: string, reason: string): void;
  /** A datagram that did not become an event of a session: decode errors, unknown sessions, FSM discards. */
  packetDiscarded(reason: string): void;
}

export const noBfdMetrics: BfdMetrics = {
  sessionUp: () => undefined,
  sessionDown: () => undefined,
  packetDiscarded: () => undefined,
};

export interface BfdSessionsOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly transport: BfdTransport;
  readonly random?: () => number;
  readonly metrics?: BfdMetrics;
  /** A session changed state (status reporting). */
  readonly onTransition?: (path: BfdPath, transition: BfdTransition) => void;
  /** A socket could not be opened: the sentence names what and why. */
  readonly onError?: (path: BfdPath, message: string) => void;
}

interface Entry {
  readonly path: BfdPath;
  readonly settings: BfdSettings;
  readonly listeners: Set<(change: BfdChange) => void>;
  readonly errorListeners: Set<(message: string) => void>;
  /** Why the session cannot run (a socket could not be opened), once known. */
  error?: string | undefined;
  session?: BfdSession;
  /** The next attempt to open the sockets, after a failure. */
  retry?: Timer | undefined;
  stopped: boolean;
}

/** How long a session that could not open its sockets waits before trying again. */
export const RETRY_MS = 5000;

const pathKey = (path: BfdPath): string => `${path.peerAddress}%${path.interfaceName}`;

export class BfdSessions {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #transport: BfdTransport;
  readonly #onTransition: ((path: BfdPath, transition: BfdTransition) => void) | undefined;
  readonly #onError: ((path: BfdPath, message: string) => void) | undefined;
  readonly #random: () => number;
  readonly #metrics: BfdMetrics;
  readonly #entries = new Map<string, Entry>();
  readonly #byDiscriminator = new Map<number, Entry>();
  readonly #receivers = new Map<4 | 6, Promise<BfdReceiver | undefined>>();

  constructor(o: BfdSessionsOptions) {
    this.#clock = o.clock;
    this.#log = o.log;
    this.#transport = o.transport;
    this.#onTransition = o.onTransition;
    this.#onError = o.onError;
    this.#random = o.random ?? Math.random;
    this.#metrics = o.metrics ?? noBfdMetrics;
  }

  /**
   * Starts (or joins) the session for this path; `listener` hears its up and down changes, `onError` why the session
   * cannot run (a socket that cannot be opened: port 3784 taken by another BFD daemon on the node, ...).
   */
  track(
    path: BfdPath,
    settings: BfdSettings,
    listener: (change: BfdChange) => void,
    onError?: (message: string) => void,
  ): BfdHandle {
    const key = pathKey(path);
    let entry = this.#entries.get(key);
    if (entry === undefined) {
      entry = { path, settings, listeners: new Set(), errorListeners: new Set(), stopped: false };
      this.#entries.set(key, entry);
      void this.#open(entry);
    } else if (JSON.stringify(entry.settings) !== JSON.stringify(settings)) {
      this.#log.warn(
        { peerAddress: path.peerAddress, interface: path.interfaceName },
        'another BGPPeer asks different BFD settings for this peer: the first ones stay',
      );
    }
    const current = entry;
    current.listeners.add(listener);
    if (onError) {
      current.errorListeners.add(onError);
      if (current.error !== undefined) onError(current.error);
    }
    return {
      state: () => current.session?.state ?? 'AdminDown',
      release: () => {
        current.listeners.delete(listener);
        if (onError) current.errorListeners.delete(onError);
        if (current.listeners.size === 0) this.#close(key, current);
      },
    };
  }

  sessions(): BfdSessionStatus[] {
    const result: BfdSessionStatus[] = [];
    for (const { path, session } of this.#entries.values()) {
      if (session === undefined) continue;
      const fsm = session.fsm;
      result.push({
        peerAddress: path.peerAddress,
        interfaceName: path.interfaceName,
        state: fsm.name,
        since: fsm.since,
        localDiscriminator: fsm.config.localDiscriminator,
        remoteDiscriminator: fsm.remoteDiscriminator,
        transmitIntervalMs: transmitIntervalMs(fsm),
        detectionTimeMs: detectionTimeMs(fsm),
      });
    }
    return result;
  }

  /** Every session to AdminDown (the peers take it as no failure), sockets closed. */
  async stop(): Promise<void> {
    for (const [key, entry] of this.#entries) this.#close(key, entry);
    const receivers = await Promise.all(this.#receivers.values());
    this.#receivers.clear();
    for (const receiver of receivers) receiver?.close();
  }

  async #open(entry: Entry): Promise<void> {
    const { path, settings } = entry;
    const receiver = await this.#receiver(path.family);
    if (receiver === undefined) {
      this.#failed(entry, `cannot receive BFD packets (UDP port 3784, IPv${path.family}): see the speaker log`);
      return;
    }
    const sender = await this.#transport.openSender(path.family, path.localAddress);
    if (entry.stopped) {
      if (sender.ok) sender.value.close();
      return;
    }
    if (!sender.ok) {
      this.#log.warn({ peerAddress: path.peerAddress, err: sender.error.message }, 'cannot open the BFD socket');
      this.#failed(entry, sender.error.message);
      return;
    }
    const discriminator = this.#newDiscriminator();
    const log = this.#log.child({ peerAddress: path.peerAddress, interface: path.interfaceName });
    const session = new BfdSession({
      peerAddress: path.peerAddress,
      config: { ...settings, localDiscriminator: discriminator },
      sender: sender.value,
      clock: this.#clock,
      random: this.#random,
      log,
      onTransition: (transition) => {
        this.#metrics.sessionUp(path.peerAddress, transition.to === 'Up');
        if (transition.from === 'Up') this.#metrics.sessionDown(path.peerAddress, transition.reason);
        this.#onTransition?.(path, transition);
      },
      onChange: (change) => {
        for (const listener of [...entry.listeners]) listener(change);
      },
      onDiscard: (reason) => {
        this.#metrics.packetDiscarded(reason);
      },
    });
    entry.session = session;
    entry.error = undefined;
    this.#byDiscriminator.set(discriminator, entry);
    log.info(
      { localDiscriminator: discriminator, sourcePort: sender.value.port, localAddress: path.localAddress },
      'BFD session started',
    );
    session.start();
  }

  #failed(entry: Entry, message: string): void {
    if (entry.stopped) return;
    if (entry.error !== message) {
      entry.error = message;
      this.#onError?.(entry.path, message);
      for (const listener of [...entry.errorListeners]) listener(message);
    }
    entry.retry ??= this.#clock.after(RETRY_MS, () => {
      entry.retry = undefined;
      if (!entry.stopped) void this.#open(entry);
    });
  }

  #close(key: string, entry: Entry): void {
    if (entry.stopped) return;
    entry.stopped = true;
    entry.retry?.cancel();
    this.#entries.delete(key);
    if (entry.session !== undefined) {
      this.#byDiscriminator.delete(entry.session.localDiscriminator);
      entry.session.stop();
      this.#metrics.sessionUp(entry.path.peerAddress, false);
    }
  }

  #newDiscriminator(): number {
    for (;;) {
      const candidate = 1 + Math.floor(this.#random() * 0xffff_fffe);
      if (!this.#byDiscriminator.has(candidate)) return candidate;
    }
  }

  #receiver(family: 4 | 6): Promise<BfdReceiver | undefined> {
    let receiver = this.#receivers.get(family);
    if (receiver === undefined) {
      receiver = this.#transport
        .openReceiver(
          family,
          (datagram) => {
            this.#received(datagram);
          },
          (error) => {
            this.#log.warn({ err: error.message, family }, 'BFD receive socket error');
          },
        )
        .then((result) => {
          if (result.ok) return result.value;
          this.#log.error({ err: result.error.message }, 'cannot receive BFD packets');
          this.#receivers.delete(family); // the next session tries again
          return undefined;
        });
      this.#receivers.set(family, receiver);
    }
    return receiver;
  }

  #received(datagram: ReceivedBfdDatagram): void {
    const decoded = decodeBfdControlPacket(datagram.bytes);
    if (!decoded.ok) {
      this.#log.debug({ from: datagram.address, err: decoded.error.message }, 'BFD packet discarded');
      this.#metrics.packetDiscarded(decoded.error.reason);
      return;
    }
    const packet = decoded.value;
    // Section 6.8.6: Your Discriminator selects the session; when it is 0, the source address (single hop: the
    // peer is on a connected subnet, so its address names the path).
    const entry =
      packet.yourDiscriminator !== 0
        ? this.#byDiscriminator.get(packet.yourDiscriminator)
        : [...this.#entries.values()].find((e) => e.session !== undefined && e.path.peerAddress === datagram.address);
    if (entry?.session === undefined || entry.path.peerAddress !== datagram.address) {
      this.#metrics.packetDiscarded('no-session');
      return;
    }
    entry.session.receive(packet);
  }
}
