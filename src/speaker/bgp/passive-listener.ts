// The one listener on port 179 that passive BGPPeers share: opened while some peer is passive, closed when none is.
// It carries each passive peer's TCP MD5 key, sends with TTL 1 when every passive peer is single-hop eBGP, and hands
// an accepted connection to the session of the peer at its address (the kernel told the peers apart by address).
import { formatIp, parseIp } from '../../core/ip/ip-address.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { BgpListener, BgpSocket, TransportError } from '../../platform/bgp-transport.ts';
import type { SessionSettings } from './session-settings.ts';

const PASSIVE_PORT = 179;

/** A running session as the listener sees it: its settings, and where an accepted connection goes. */
export interface ListeningSession {
  readonly settings: SessionSettings;
  readonly session: { accept(socket: BgpSocket): void };
}

/** What the listener needs of the BGP transport. */
export interface ListenerTransport {
  /** A listener for passive peers on this port (one per port), or an error sentence. */
  listen(port: number, onConnection: (socket: BgpSocket) => void): Promise<Result<BgpListener, TransportError>>;
  /** Applies a passive peer's socket options (the TTL) to a connection it opened, before anything is sent on it. */
  configureAccepted(socket: BgpSocket, ttl: number | undefined): Result<void, TransportError>;
}

export interface PassiveListenerOptions {
  readonly transport: ListenerTransport;
  /** Every running session, by BGPPeer name. */
  readonly sessions: () => Iterable<readonly [string, ListeningSession]>;
  /** A listener problem of one peer (ListenFailed), in a sentence that names this node. */
  readonly reportFailure: (peer: string, message: string) => void;
  readonly node: string;
  readonly log: Logger;
}

export class PassiveListener {
  readonly #transport: ListenerTransport;
  readonly #sessions: () => Iterable<readonly [string, ListeningSession]>;
  readonly #reportFailure: (peer: string, message: string) => void;
  readonly #node: string;
  readonly #log: Logger;
  #listener: BgpListener | undefined;
  /** The TTL last set on the listener. */
  #ttl: number | undefined;
  #opening: Promise<void> | undefined;
  #stopped = false;

  constructor(options: PassiveListenerOptions) {
    this.#transport = options.transport;
    this.#sessions = options.sessions;
    this.#reportFailure = options.reportFailure;
    this.#node = options.node;
    this.#log = options.log;
  }

  /** Opens port 179 unless it is open or opening; a failure is reported on every passive peer. */
  open(): void {
    if (this.#listener || this.#opening) return;
    this.#opening = this.#transport
      .listen(PASSIVE_PORT, (socket) => {
        this.#accept(socket);
      })
      .then((listener) => {
        if (!listener.ok) {
          const hint = /EACCES|permission/i.test(listener.error.message)
            ? ' (binding port 179 needs CAP_NET_BIND_SERVICE: add it to the speaker DaemonSet for passive peers)'
            : '';
          for (const [peer, { settings }] of this.#sessions()) {
            if (settings.config.passive)
              this.#reportFailure(peer, `node ${this.#node}: ${listener.error.message}${hint}`);
          }
          return;
        }
        this.#listener = listener.value;
        for (const [peer, { settings }] of this.#sessions()) {
          if (settings.config.passive) this.setKey(peer, settings.peerAddress, settings.md5Key);
        }
        this.#ttl = undefined;
        this.applyTtl();
        if (this.#stopped) void listener.value.close();
      })
      .finally(() => {
        this.#opening = undefined;
      });
  }

  /**
   * The kernel answers a passive peer's SYN from the listener, before the connection reaches #accept: when every
   * passive peer is single-hop eBGP, the listener sends with TTL 1 too, so even the SYN-ACK stays on the link;
   * otherwise with 255 (never less reach than a peer needs; accepted connections then get their peer's own TTL).
   */
  applyTtl(): void {
    if (!this.#listener) return;
    const passive = [...this.#sessions()].map(([, r]) => r).filter((r) => r.settings.config.passive);
    const ttl = passive.length > 0 && passive.every((r) => r.settings.ttl === 1) ? 1 : 255;
    if (ttl === this.#ttl) return;
    const set = this.#listener.setTtl(ttl);
    if (set.ok) this.#ttl = ttl;
    else this.#log.warn({ ttl, err: set.error.message }, 'cannot set the TTL of the BGP listener');
  }

  /** Sets (or removes) a passive peer's MD5 key on the listener; a failure is reported on the peer. */
  setKey(peer: string, address: string, key: Uint8Array | undefined): void {
    const set = this.#listener?.setKey(address, key);
    if (set !== undefined && !set.ok)
      this.#reportFailure(
        peer,
        `node ${this.#node}: cannot set the TCP MD5 key for ${address} on the listener: ${set.error.message}`,
      );
  }

  /** No passive peer is left: port 179 is given back (a later passive peer opens it again). */
  close(): void {
    if (this.#listener === undefined) return;
    void this.#listener.close();
    this.#listener = undefined;
    this.#ttl = undefined;
  }

  /** The speaker stops: the listener closes, also one still opening. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#listener?.close();
    this.#listener = undefined;
  }

  #accept(socket: BgpSocket): void {
    // A link-local peer comes with its zone (fe80::1%eth0): it must be the peer's interface.
    const [address, zone] = (socket.remoteAddress?.replace(/^::ffff:(?=\d+\.)/, '') ?? '').split('%');
    const parsed = address ? parseIp(address) : undefined;
    const running = parsed?.ok
      ? [...this.#sessions()]
          .map(([, r]) => r)
          .find(
            (r) =>
              r.settings.config.passive &&
              r.settings.peerAddress === formatIp(parsed.value) &&
              (r.settings.interface === undefined || zone === undefined || zone === r.settings.interface),
          )
      : undefined;
    const remote = socket.remoteAddress;
    if (!running) {
      this.#log.info({ remote }, 'refusing a BGP connection from an address that is not a passive peer of this node');
      socket.destroy();
      return;
    }
    // The same TTL as the active side (1 for single-hop eBGP, 255 for multihop) before the session sends its OPEN.
    const configured = this.#transport.configureAccepted(socket, running.settings.ttl);
    if (!configured.ok) {
      this.#log.warn(
        { remote, err: configured.error.message },
        'refusing a BGP connection whose socket options cannot be set',
      );
      socket.destroy();
      return;
    }
    running.session.accept(socket);
  }
}
