// Announces the addresses this node owns on the chosen interfaces: a burst of gratuitous ARPs / unsolicited NAs
// (Override=1) on takeover and then periodically, and keeps the packet sockets (and the solicited-node multicast
// groups) those addresses need; the frames they receive go to the interface's ARP and NDP responders
// (arp-responder.ts, ndp-responder.ts, with the rules of address-responder.ts), which answer requests for the owned
// addresses. An address that is no longer owned falls silent at once.
// A packet socket that reports a receive error is closed and opened again (at most once a second per interface and
// protocol); one that cannot be opened makes its interface broken (brokenInterfaces()) until an open succeeds again,
// retried every second, so the speaker can say it is not ready instead of owning addresses it cannot answer for.
import type { Clock, Timer } from '../../core/clock.ts';
import { familyOf, formatIp } from '../../core/ip/ip-address.ts';
import { encodeArpFrame, gratuitousArp } from '../../protocol/arp/arp-packet.ts';
import { ipv6MulticastMac } from '../../protocol/ethernet/mac-address.ts';
import {
  encodeNdpFrame,
  solicitedNodeMulticast,
  unsolicitedNeighborAdvertisement,
} from '../../protocol/ndp/neighbor-discovery.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import type { AddressResponder, ResponderOptions } from './address-responder.ts';
import { arpResponder } from './arp-responder.ts';
import type { ChannelKind, FrameChannel, OpenFrameChannel } from './frame-channel.ts';
import type { Layer2Announcer, OwnedAddress } from './layer2-announcer.ts';
import { ndpResponder } from './ndp-responder.ts';
import type { ResponderMetrics } from './responder-metrics.ts';

export interface PacketAnnouncerOptions {
  open: OpenFrameChannel;
  interfaceTable: () => InterfaceTable;
  clock: Clock;
  log: Logger;
  metrics: ResponderMetrics;
  /** Delays of the takeover burst, from the moment of takeover. */
  burstMs: readonly number[];
  /** Periodic re-announcement of every owned address; 0 disables it. */
  announceIntervalMs: number;
  /** Answers per second per interface and protocol (requests above it are dropped and counted). */
  maxAnswersPerSecond: number;
  /** An interface became broken or healed (brokenInterfaces() changed). */
  onHealthChange?: () => void;
}

/** Least time between two opens of one interface's socket of one protocol after errors. */
const REOPEN_SPACING_MS = 1000;

interface BrokenChannel {
  readonly iface: { name: string; index: number };
  readonly kind: ChannelKind;
  retry: Timer | undefined;
}

interface Binding {
  name: string;
  index: number;
  mac: string;
  v4: Set<bigint>;
  v6: Set<bigint>;
  arp: FrameChannel | undefined;
  ndp: FrameChannel | undefined;
  /** Solicited-node multicast MACs joined, with how many owned addresses need each. */
  groups: Map<string, number>;
  /** Answer the frames the sockets receive (each with its own rate limit). */
  readonly arpResponder: AddressResponder;
  readonly ndpResponder: AddressResponder;
}

export class PacketAnnouncer implements Layer2Announcer {
  readonly #openChannel: OpenFrameChannel;
  readonly #interfaceTable: () => InterfaceTable;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #metrics: ResponderMetrics;
  readonly #burstMs: readonly number[];
  readonly #announceIntervalMs: number;
  readonly #onHealthChange: (() => void) | undefined;
  /** What each interface's ARP and NDP responders are built with. */
  readonly #responderOptions: ResponderOptions;
  readonly #bindings = new Map<string, Binding>();
  readonly #burstTimers = new Set<Timer>();
  #periodic: Timer | undefined;
  #closed = false;
  /** Sockets that could not be opened, by `interface/kind`. */
  readonly #broken = new Map<string, BrokenChannel>();
  /** Reopens pending after receive errors, and when each last happened, by `interface/kind`. */
  readonly #reopening = new Map<string, Timer>();
  readonly #lastReopen = new Map<string, number>();

  constructor(options: PacketAnnouncerOptions) {
    this.#openChannel = options.open;
    this.#interfaceTable = options.interfaceTable;
    this.#clock = options.clock;
    this.#log = options.log;
    this.#metrics = options.metrics;
    this.#burstMs = options.burstMs;
    this.#announceIntervalMs = options.announceIntervalMs;
    this.#onHealthChange = options.onHealthChange;
    this.#responderOptions = {
      clock: options.clock,
      log: options.log,
      metrics: options.metrics,
      maxAnswersPerSecond: options.maxAnswersPerSecond,
    };
    this.#schedulePeriodic();
  }

  update(owned: ReadonlyMap<bigint, OwnedAddress>, changed?: ReadonlySet<bigint>): void {
    if (this.#closed) return;
    if (changed) {
      this.#updateChanged(owned, changed);
      return;
    }
    const wanted = new Map<string, { v4: Set<bigint>; v6: Set<bigint> }>();
    for (const [address, entry] of owned) {
      for (const name of entry.interfaces) {
        const sets = wanted.get(name) ?? { v4: new Set<bigint>(), v6: new Set<bigint>() };
        (familyOf(address) === 4 ? sets.v4 : sets.v6).add(address);
        wanted.set(name, sets);
      }
    }
    const table = this.#interfaceTable();
    for (const name of new Set([...this.#bindings.keys(), ...wanted.keys()])) {
      const want = wanted.get(name) ?? { v4: new Set<bigint>(), v6: new Set<bigint>() };
      const binding = this.#binding(name, table, want.v4.size + want.v6.size > 0);
      if (!binding) continue;
      const added = [...want.v4, ...want.v6].filter((a) => !binding.v4.has(a) && !binding.v6.has(a));
      // Replace the sets first: a removed address falls silent before anything else happens.
      binding.v4 = want.v4;
      binding.v6 = want.v6;
      this.#syncChannels(binding);
      for (const address of added) this.#burst(binding, address);
      if (binding.v4.size + binding.v6.size === 0) this.#release(binding);
    }
  }

  /**
   * update() for a few changed addresses: only their bindings change, and a binding whose sockets stay open joins
   * and leaves only their solicited-node groups (the work is O(changed), not O(owned): ADR 0037).
   */
  #updateChanged(owned: ReadonlyMap<bigint, OwnedAddress>, changed: ReadonlySet<bigint>): void {
    const table = this.#interfaceTable();
    const touched = new Map<Binding, { added: bigint[]; removed: bigint[] }>();
    const touch = (binding: Binding) => {
      let change = touched.get(binding);
      if (!change) touched.set(binding, (change = { added: [], removed: [] }));
      return change;
    };
    // Removed first: an address no longer owned on an interface falls silent before anything else happens.
    for (const address of changed) {
      const want = owned.get(address)?.interfaces ?? [];
      const sets = familyOf(address) === 4 ? 'v4' : 'v6';
      for (const binding of this.#bindings.values())
        if (binding[sets].has(address) && !want.includes(binding.name)) {
          binding[sets].delete(address);
          touch(binding).removed.push(address);
        }
    }
    for (const address of changed) {
      const sets = familyOf(address) === 4 ? 'v4' : 'v6';
      for (const name of owned.get(address)?.interfaces ?? []) {
        const binding = this.#binding(name, table, true);
        if (!binding || binding[sets].has(address)) continue;
        binding[sets].add(address);
        touch(binding).added.push(address);
      }
    }
    for (const [binding, { added, removed }] of touched) {
      const arpSteady = binding.v4.size > 0 === (binding.arp !== undefined);
      const ndpSteady = binding.v6.size > 0 === (binding.ndp !== undefined);
      if (arpSteady && ndpSteady && binding.ndp) this.#changeGroups(binding, binding.ndp, added, removed);
      else if (!arpSteady || !ndpSteady) this.#syncChannels(binding);
      for (const address of added) this.#burst(binding, address);
      if (binding.v4.size + binding.v6.size === 0) this.#release(binding);
    }
  }

  /** Joins the solicited-node groups of added IPv6 addresses and leaves those no owned address needs any more. */
  #changeGroups(binding: Binding, ndp: FrameChannel, added: readonly bigint[], removed: readonly bigint[]): void {
    const macOf = (address: bigint) => ipv6MulticastMac(solicitedNodeMulticast(address));
    for (const address of added) {
      if (familyOf(address) !== 6) continue;
      const mac = macOf(address);
      const count = binding.groups.get(mac) ?? 0;
      if (count === 0) ndp.addMulticast(mac);
      binding.groups.set(mac, count + 1);
    }
    for (const address of removed) {
      if (familyOf(address) !== 6) continue;
      const mac = macOf(address);
      const count = (binding.groups.get(mac) ?? 0) - 1;
      if (count > 0) binding.groups.set(mac, count);
      else if (binding.groups.delete(mac)) ndp.dropMulticast(mac);
    }
  }

  /** Links or addresses changed: rebind interfaces whose index or MAC changed and announce everything again. */
  interfacesChanged(): void {
    const table = this.#interfaceTable();
    for (const binding of [...this.#bindings.values()]) {
      const now = table.interfaces.find((i) => i.name === binding.name);
      if (!now?.up) {
        this.#closeChannels(binding);
        continue;
      }
      if (now.index !== binding.index || now.mac !== binding.mac) {
        this.#closeChannels(binding);
        binding.index = now.index;
        binding.mac = now.mac;
      }
      this.#syncChannels(binding);
      for (const address of [...binding.v4, ...binding.v6]) this.#burst(binding, address);
    }
  }

  /** Interfaces with a packet socket that cannot be opened (sorted names). */
  brokenInterfaces(): ReadonlySet<string> {
    return new Set([...this.#broken.values()].map((b) => b.iface.name).sort());
  }

  close(): void {
    this.#closed = true;
    this.#periodic?.cancel();
    for (const timer of this.#burstTimers) timer.cancel();
    for (const timer of this.#reopening.values()) timer.cancel();
    for (const broken of this.#broken.values()) broken.retry?.cancel();
    this.#reopening.clear();
    this.#broken.clear();
    for (const binding of this.#bindings.values()) this.#closeChannels(binding);
    this.#bindings.clear();
  }

  #binding(name: string, table: InterfaceTable, create: boolean): Binding | undefined {
    const existing = this.#bindings.get(name);
    if (existing || !create) return existing;
    const iface = table.interfaces.find((i) => i.name === name);
    if (!iface) {
      this.#log.warn({ interface: name }, 'interface not found; cannot announce on it');
      return undefined;
    }
    const binding: Binding = {
      name,
      index: iface.index,
      mac: iface.mac,
      v4: new Set(),
      v6: new Set(),
      arp: undefined,
      ndp: undefined,
      groups: new Map(),
      arpResponder: arpResponder(this.#responderOptions),
      ndpResponder: ndpResponder(this.#responderOptions),
    };
    this.#bindings.set(name, binding);
    return binding;
  }

  /** Opens a channel, or logs why it cannot (each protocol on its own: one failing does not stop the other). */
  #open(binding: Binding, kind: 'arp' | 'ndp'): FrameChannel | undefined {
    const iface = { name: binding.name, index: binding.index };
    try {
      // The error callback runs later, from the socket, never during open().
      const channel: FrameChannel = this.#openChannel(
        iface,
        kind,
        (frame, origin) => {
          if (kind === 'arp') binding.arpResponder.receive(binding, binding.v4, binding.arp, frame, origin);
          else binding.ndpResponder.receive(binding, binding.v6, binding.ndp, frame, origin);
        },
        () => {
          this.#reopenLater(binding, kind, channel);
        },
      );
      this.#healed(iface, kind);
      return channel;
    } catch (error) {
      this.#log.error({ interface: binding.name, kind, err: (error as Error).message }, 'cannot open a packet socket');
      this.#markBroken(iface, kind);
      return undefined;
    }
  }

  /** After a receive error: close the socket and open a new one, outside the socket's callback, at most once a second. */
  #reopenLater(binding: Binding, kind: ChannelKind, channel: FrameChannel): void {
    const key = `${binding.name}/${kind}`;
    if (this.#reopening.has(key) || this.#closed) return;
    const now = this.#clock.now();
    const wait = Math.max(0, (this.#lastReopen.get(key) ?? Number.NEGATIVE_INFINITY) + REOPEN_SPACING_MS - now);
    this.#reopening.set(
      key,
      this.#clock.after(wait, () => {
        this.#reopening.delete(key);
        // Closed or replaced since (released, interface changed): nothing to do.
        if (this.#bindings.get(binding.name) !== binding || binding[kind] !== channel) return;
        this.#lastReopen.set(key, this.#clock.now());
        this.#log.warn({ interface: binding.name, kind }, 'packet socket reported an error; opening it again');
        channel.close();
        binding[kind] = undefined;
        if (kind === 'ndp') binding.groups.clear();
        this.#syncChannels(binding);
      }),
    );
  }

  #markBroken(iface: { name: string; index: number }, kind: ChannelKind): void {
    const key = `${iface.name}/${kind}`;
    if (this.#broken.has(key) || this.#closed) return;
    const broken: BrokenChannel = { iface, kind, retry: undefined };
    this.#broken.set(key, broken);
    this.#scheduleRetry(broken);
    this.#onHealthChange?.();
  }

  /** Tries again every REOPEN_SPACING_MS: on the binding that wants the socket, or a trial open if none does now. */
  #scheduleRetry(broken: BrokenChannel): void {
    broken.retry = this.#clock.after(REOPEN_SPACING_MS, () => {
      const key = `${broken.iface.name}/${broken.kind}`;
      if (this.#broken.get(key) !== broken) return;
      const binding = this.#bindings.get(broken.iface.name);
      const wanted = binding && (broken.kind === 'arp' ? binding.v4.size : binding.v6.size) > 0;
      if (binding && wanted) this.#syncChannels(binding);
      else {
        try {
          this.#openChannel(
            broken.iface,
            broken.kind,
            () => undefined,
            () => undefined,
          ).close();
          this.#healed(broken.iface, broken.kind);
        } catch {
          // Still broken.
        }
      }
      if (this.#broken.get(key) === broken) this.#scheduleRetry(broken);
    });
  }

  #healed(iface: { name: string }, kind: ChannelKind): void {
    const key = `${iface.name}/${kind}`;
    const broken = this.#broken.get(key);
    if (!broken) return;
    broken.retry?.cancel();
    this.#broken.delete(key);
    this.#log.info({ interface: iface.name, kind }, 'packet socket opened again');
    this.#onHealthChange?.();
  }

  #syncChannels(binding: Binding): void {
    if (binding.v4.size > 0 && !binding.arp) binding.arp = this.#open(binding, 'arp');
    else if (binding.v4.size === 0 && binding.arp) {
      binding.arp.close();
      binding.arp = undefined;
    }
    if (binding.v6.size > 0 && !binding.ndp) {
      binding.ndp = this.#open(binding, 'ndp');
      binding.groups.clear();
    } else if (binding.v6.size === 0 && binding.ndp) {
      binding.ndp.close();
      binding.ndp = undefined;
      binding.groups.clear();
    }
    if (!binding.ndp) return;
    const wantGroups = new Map<string, number>();
    for (const address of binding.v6) {
      const mac = ipv6MulticastMac(solicitedNodeMulticast(address));
      wantGroups.set(mac, (wantGroups.get(mac) ?? 0) + 1);
    }
    for (const mac of wantGroups.keys()) if (!binding.groups.has(mac)) binding.ndp.addMulticast(mac);
    for (const mac of binding.groups.keys()) if (!wantGroups.has(mac)) binding.ndp.dropMulticast(mac);
    binding.groups = wantGroups;
  }

  #closeChannels(binding: Binding): void {
    binding.arp?.close();
    binding.ndp?.close();
    binding.arp = undefined;
    binding.ndp = undefined;
    binding.groups.clear();
  }

  #release(binding: Binding): void {
    this.#closeChannels(binding);
    this.#bindings.delete(binding.name);
  }

  #announce(binding: Binding, address: bigint): void {
    if (!binding.v4.has(address) && !binding.v6.has(address)) return;
    try {
      if (familyOf(address) === 4 && binding.arp) {
        binding.arp.send(encodeArpFrame(gratuitousArp(binding.mac, address)));
        this.#metrics.announced('arp', 1);
      } else if (familyOf(address) === 6 && binding.ndp) {
        binding.ndp.send(
          encodeNdpFrame({ source: binding.mac, message: unsolicitedNeighborAdvertisement(binding.mac, address) }),
        );
        this.#metrics.announced('ndp', 1);
      }
    } catch (error) {
      this.#log.warn(
        { ip: formatIp(address), interface: binding.name, err: (error as Error).message },
        'announcement failed',
      );
    }
  }

  #burst(binding: Binding, address: bigint): void {
    for (const delay of this.#burstMs) {
      if (delay <= 0) {
        this.#announce(binding, address);
        continue;
      }
      const timer = this.#clock.after(delay, () => {
        this.#burstTimers.delete(timer);
        this.#announce(binding, address);
      });
      this.#burstTimers.add(timer);
    }
  }

  #schedulePeriodic(): void {
    if (this.#announceIntervalMs <= 0 || this.#closed) return;
    this.#periodic = this.#clock.after(this.#announceIntervalMs, () => {
      for (const binding of this.#bindings.values())
        for (const address of [...binding.v4, ...binding.v6]) this.#announce(binding, address);
      this.#schedulePeriodic();
    });
  }
}
