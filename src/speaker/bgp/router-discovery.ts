// Router discovery for unnumbered BGP peers (BGPPeer with interface and no peerAddress, ADR 0035): per interface,
// a packet socket that reads IPv6 Router Advertisements (the router's link-local address is their source) and sends
// Router Solicitations at start (3, 4 s apart, RFC 4861 section 6.3.7) so that the router answers at once. The
// kernel's own RA handling is not used: with forwarding=1 (every Kubernetes node) it ignores RAs.
// It also sends RAs of its own (router lifetime 0: no host takes the node as default router; hop limit 0, no
// prefixes: other nodes' discovery tells them from a router's by that, isNodeAnnouncement) at once
// and every ADVERTISE_INTERVAL_MS, because the router learns the node's link-local address the same way: FRR
// refuses a connection on `neighbor IF interface` ("not configured") until an RA from the node has arrived.
// One router per interface, as FRR's `neighbor IF interface` assumes: a different source replaces the router once
// the current one has been silent for ROUTER_HOLD_MS (a renumbered or replaced router; two routers advertising on
// one link do not make the session flap between them).
import type { Clock, Timer } from '../../core/clock.ts';
import { formatIp } from '../../core/ip/ip-address.ts';
import type { Result } from '../../core/result.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import {
  decodeRouterAdvertisementFrame,
  encodeRouterAdvertisementFrame,
  encodeRouterSolicitationFrame,
  isIpv6LinkLocal,
  type RouterAdvertisement,
} from '../../protocol/ndp/router-discovery.ts';

export interface RouterDiscoveryChannel {
  send(frame: Uint8Array): Result<void>;
  close(): void;
}

export type OpenRouterDiscoveryChannel = (
  ifindex: number,
  onFrame: (frame: Uint8Array) => void,
  onError: (message: string) => void,
) => Result<RouterDiscoveryChannel>;

/** What is known of the router on one interface. */
export type RouterState =
  | { readonly kind: 'found'; readonly address: string }
  | { readonly kind: 'waiting'; readonly sinceMs: number }
  | { readonly kind: 'timed-out'; readonly afterMs: number }
  | { readonly kind: 'failed'; readonly message: string };

export interface RouterDiscoveryOptions {
  readonly clock: Clock;
  readonly log: Logger;
  readonly interfaceTable: () => InterfaceTable;
  readonly open: OpenRouterDiscoveryChannel;
  /** The router of an interface was found or changed, or the wait for one timed out: run a pass. */
  readonly onChange: () => void;
  /** How long to wait for a first RA before the state turns 'timed-out' (default 30 s: FRR sends every 10 s). */
  readonly timeoutMs?: number;
  readonly solicitIntervalMs?: number;
  readonly advertiseIntervalMs?: number;
}

export const DISCOVERY_TIMEOUT_MS = 30_000;
export const SOLICIT_INTERVAL_MS = 4_000;
/** RFC 4861 MAX_RTR_SOLICITATIONS. */
export const SOLICITATIONS = 3;
export const ROUTER_HOLD_MS = 10_000;
/** FRR's interval for interface-based neighbors (bgpd asks zebra for 10 s). */
export const ADVERTISE_INTERVAL_MS = 10_000;

interface Watched {
  readonly ifindex: number;
  readonly channel: RouterDiscoveryChannel | undefined;
  readonly startedMs: number;
  failure?: string;
  router?: bigint;
  lastHeardMs: number;
  timedOut: boolean;
  solicited: number;
  solicitTimer?: Timer | undefined;
  advertiseTimer?: Timer | undefined;
  timeoutTimer?: Timer | undefined;
}

/**
 * An RA that says nothing but "I am here" (router lifetime 0 and hop limit 0, unspecified): what another node's
 * speaker sends on a shared segment, as this one does. It names no router: routers send a hop limit (FRR 64).
 */
export function isNodeAnnouncement(ra: RouterAdvertisement): boolean {
  return ra.routerLifetime === 0 && ra.curHopLimit === 0;
}

export class RouterDiscovery {
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #interfaceTable: () => InterfaceTable;
  readonly #open: OpenRouterDiscoveryChannel;
  readonly #onChange: () => void;
  readonly #timeoutMs: number | undefined;
  readonly #solicitIntervalMs: number | undefined;
  readonly #advertiseIntervalMs: number | undefined;
  readonly #watched = new Map<string, Watched>();

  constructor(o: RouterDiscoveryOptions) {
    this.#clock = o.clock;
    this.#log = o.log;
    this.#interfaceTable = o.interfaceTable;
    this.#open = o.open;
    this.#onChange = o.onChange;
    this.#timeoutMs = o.timeoutMs;
    this.#solicitIntervalMs = o.solicitIntervalMs;
    this.#advertiseIntervalMs = o.advertiseIntervalMs;
  }

  /** The router on the interface (by name); starts listening and soliciting on first use. */
  watch(name: string): RouterState {
    const iface = this.#interfaceTable().interfaces.find((i) => i.name === name);
    if (iface === undefined) return { kind: 'failed', message: `interface ${name} does not exist on this node` };
    let w = this.#watched.get(name);
    if (w !== undefined && w.ifindex !== iface.index) {
      this.#release(name, w); // the interface was re-created
      w = undefined;
    }
    w ??= this.#start(name, iface.index);
    if (w.failure !== undefined) return { kind: 'failed', message: w.failure };
    if (w.router !== undefined) return { kind: 'found', address: formatIp(w.router) };
    if (w.timedOut) return { kind: 'timed-out', afterMs: this.#timeoutMs ?? DISCOVERY_TIMEOUT_MS };
    return { kind: 'waiting', sinceMs: w.startedMs };
  }

  /** Stops watching every interface not named. */
  retain(names: ReadonlySet<string>): void {
    for (const [name, w] of this.#watched) if (!names.has(name)) this.#release(name, w);
  }

  stop(): void {
    this.retain(new Set());
  }

  get watching(): readonly string[] {
    return [...this.#watched.keys()];
  }

  #start(name: string, ifindex: number): Watched {
    const log = this.#log.child({ interface: name });
    const opened = this.#open(
      ifindex,
      (frame) => {
        this.#frame(name, frame);
      },
      (message) => {
        log.warn({ err: message }, 'router discovery: receive error');
      },
    );
    const w: Watched = {
      ifindex,
      channel: opened.ok ? opened.value : undefined,
      startedMs: this.#clock.now(),
      lastHeardMs: 0,
      timedOut: false,
      solicited: 0,
      ...(opened.ok ? {} : { failure: `router discovery on ${name} cannot open a packet socket: ${opened.error}` }),
    };
    this.#watched.set(name, w);
    if (!opened.ok) return w;
    log.info('router discovery: listening for IPv6 Router Advertisements');
    this.#advertise(name, w);
    this.#solicit(name, w);
    w.timeoutTimer = this.#clock.after(this.#timeoutMs ?? DISCOVERY_TIMEOUT_MS, () => {
      w.timeoutTimer = undefined;
      if (w.router !== undefined || this.#watched.get(name) !== w) return;
      w.timedOut = true;
      log.warn('router discovery: no Router Advertisement yet');
      this.#onChange();
    });
    return w;
  }

  #solicit(name: string, w: Watched): void {
    w.solicitTimer = undefined;
    if (w.router !== undefined || w.solicited >= SOLICITATIONS || this.#watched.get(name) !== w) return;
    w.solicited++;
    this.#send(name, w, 'solicitation', (mac, linkLocal) =>
      encodeRouterSolicitationFrame({ sourceMac: mac, source: linkLocal ?? 0n }),
    );
    w.solicitTimer = this.#clock.after(this.#solicitIntervalMs ?? SOLICIT_INTERVAL_MS, () => {
      this.#solicit(name, w);
    });
  }

  /** Our own RA (router lifetime 0), so that the router learns this node's link-local address; then periodically. */
  #advertise(name: string, w: Watched): void {
    w.advertiseTimer?.cancel();
    w.advertiseTimer = undefined;
    if (this.#watched.get(name) !== w) return;
    this.#send(name, w, 'advertisement', (mac, linkLocal) =>
      linkLocal === undefined
        ? undefined
        : encodeRouterAdvertisementFrame({ sourceMac: mac, source: linkLocal, routerLifetime: 0, curHopLimit: 0 }),
    );
    w.advertiseTimer = this.#clock.after(this.#advertiseIntervalMs ?? ADVERTISE_INTERVAL_MS, () => {
      this.#advertise(name, w);
    });
  }

  #send(
    name: string,
    w: Watched,
    what: string,
    build: (mac: string, linkLocal: bigint | undefined) => Uint8Array | undefined,
  ): void {
    const iface = this.#interfaceTable().interfaces.find((i) => i.index === w.ifindex);
    if (iface === undefined || iface.mac === '') return;
    const linkLocal = iface.addresses.find((a) => a.family === 6 && isIpv6LinkLocal(a.address))?.address;
    let frame: Uint8Array | undefined;
    try {
      frame = build(iface.mac, linkLocal);
    } catch (error) {
      this.#log.warn({ interface: name, err: String(error) }, `router discovery: cannot build a ${what}`);
    }
    if (frame === undefined) {
      this.#log.debug({ interface: name }, `router discovery: no link-local address to send a ${what} from`);
      return;
    }
    const sent = w.channel?.send(frame);
    if (sent !== undefined && !sent.ok)
      this.#log.warn({ interface: name, err: sent.error }, `router discovery: cannot send a ${what}`);
  }

  #frame(name: string, frame: Uint8Array): void {
    const w = this.#watched.get(name);
    if (w === undefined) return;
    const ra = decodeRouterAdvertisementFrame(frame);
    if (!ra.ok) {
      this.#log.debug({ interface: name, err: ra.error.message }, 'router discovery: frame dropped');
      return;
    }
    if (isNodeAnnouncement(ra.value)) {
      this.#log.debug({ interface: name, from: formatIp(ra.value.router) }, 'router discovery: a node, not a router');
      return;
    }
    const now = this.#clock.now();
    const source = ra.value.router;
    if (w.router === source) {
      w.lastHeardMs = now;
      return;
    }
    if (w.router !== undefined && now - w.lastHeardMs < ROUTER_HOLD_MS) {
      this.#log.debug(
        { interface: name, router: formatIp(w.router), other: formatIp(source) },
        'router discovery: a second router advertises on this interface; keeping the first while it is heard',
      );
      return;
    }
    const previous = w.router;
    w.router = source;
    w.lastHeardMs = now;
    w.timedOut = false;
    this.#log.info(
      { interface: name, router: formatIp(source), ...(previous === undefined ? {} : { was: formatIp(previous) }) },
      'router discovery: router found by its Router Advertisement',
    );
    this.#advertise(name, w); // a new (or restarted) router learns our address now, not at the next interval
    this.#onChange();
  }

  #release(name: string, w: Watched): void {
    for (const t of [w.solicitTimer, w.advertiseTimer, w.timeoutTimer]) t?.cancel();
    w.channel?.close();
    this.#watched.delete(name);
  }
}
