// What the layer-2 speaker (layer2-speaker.ts) is built with: its peers' Leases as it reads them, its metrics and
// Event reasons, and the options that wire it to the Kubernetes API, the announcer and the failure detection.
import type { Clock } from '../../core/clock.ts';
import type { Layer2Inputs, PlanProblem } from '../../core/config/layer2-plan.ts';
import type { Logger } from '../../platform/logger.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import type { Layer2Announcer } from './layer2-announcer.ts';
import type { ProbeLiveness } from './probe-liveness.ts';

export interface PeerLeaseView {
  node: string;
  version: string;
  leaving: boolean;
  /** Why the peer says it must not own layer-2 addresses; undefined: ready. */
  layer2NotReady?: string;
  /** In its quiet period after (re)joining (ADR 0036). */
  rejoining?: boolean;
}

/** Why a speaker is not ready for layer 2; the code starts the text it writes into its Lease and its Events. */
export type Layer2NotReadyReason = 'StaleView' | 'LinkDown';

/** Every reason the layer-2 speaker records an Event on a Service with (docs/troubleshooting.md). */
export type Layer2EventReason = 'AddressAnnounced' | 'Layer2NotReady';

export interface Layer2Metrics {
  owned(count: number): void;
  ownershipChange(kind: 'gained' | 'lost'): void;
  fenced(fenced: boolean): void;
  /** Layer-2 readiness changed; `reason` when it became not ready. */
  ready(ready: boolean, reason?: Layer2NotReadyReason): void;
  /** Speakers this node counts live at the last ownership pass (itself included while ready and not fenced). */
  liveSpeakers(count: number): void;
}

/**
 * Read once when the speaker is built, except `renewIntervalMs`, `leaseDurationMs`, `fenceMarginMs` and `probes`:
 * they may be getters (the detection switch changes them) and are read on every use.
 */
export interface Layer2SpeakerOptions {
  node: string;
  clock: Clock;
  log: Logger;
  metrics: Layer2Metrics;
  inputs: () => Layer2Inputs;
  peers: () => PeerLeaseView[];
  /** Renews the own Lease (with the reason it is not ready for layer 2, if any); resolves with the resourceVersion written. */
  renew: (
    leaving: boolean,
    timeoutMs: number,
    layer2NotReady: string | undefined,
    rejoining: boolean,
  ) => Promise<string>;
  /** Caches layer 2 reads that are stale (no proof of completeness within the freshness bound), such as `services`. */
  staleViews: () => string[];
  /** Interfaces whose packet sockets failed and could not be reopened. */
  brokenInterfaces: () => ReadonlySet<string>;
  interfaceTable: () => InterfaceTable;
  announcer: Layer2Announcer;
  recordEvent: (service: string, type: 'Normal' | 'Warning', reason: Layer2EventReason, message: string) => void;
  /** An object left out of the plan (malformed, or planning it threw): reported once per message by the caller's Event. */
  recordProblem?: (problem: PlanProblem) => void;
  /** The view went stale (own renewals not seen through the watch): reconnect the watches. */
  onStaleView: () => void;
  renewIntervalMs: number;
  leaseDurationMs: number;
  /** Fence this long before peers could consider this node dead. */
  fenceMarginMs: number;
  /** How long a leaving speaker keeps answering after marking its Lease. */
  handoverOverlapMs: number;
  /** Observes the live set each ownership pass computes (itself included unless fenced): who reports cluster-wide Events, measurements. */
  onLiveNodes?: (live: ReadonlySet<string>) => void;
  /**
   * Failure detection by direct probes (ADR 0019). The Lease is then only the fence and the membership record:
   * `peers` is not read, the live set comes from the probes, owners from the preference order over the membership
   * (ownersByPreference), and `leaseDurationMs - fenceMarginMs` after the send time of the last renewal that
   * succeeded (with the membership read it includes) this node stops answering.
   */
  probes?: ProbeLiveness | undefined;
  /**
   * Ownership stickiness (ADR 0036): after a restart with a Lease of its own left from before, a Lease fence or a time
   * not ready, while a settled peer serves, this node is rejoining for this long: it writes
   * `beaconlb.io/layer2-rejoining` and owns only addresses no settled peer is eligible for. 0 or absent: off. With
   * probes the detector keeps the period (given the same value) and peers learn it from its REJOINING claims; the
   * speaker only tells it about the restart (`onRejoinAtStart`).
   */
  rejoinQuietMs?: number;
  /**
   * With a quiet period: called once at start when this node re-joins (its own Lease was left by an earlier run) while
   * a peer serves, before its first renewal; the command tells the probe detector (ProbeRunner.rejoin).
   */
  onRejoinAtStart?: () => void;
}
