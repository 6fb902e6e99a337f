// An independent oracle for the controller's allocation invariants, judged only from what the API server holds
// (Services, the pools the test created, namespace labels, Warning Events). It shares nothing with the allocator
// but address parsing:
//  - every address a Service holds is of one of its families, the requested one when it asks for one, and inside a
//    pool that is eligible for its request (pool annotation, selectors, autoAssign);
//  - an address held by two Services is legal sharing only (same allow-shared-ip key, disjoint ports, same
//    externalTrafficPolicy and, for Local, the same selector);
//  - a Service missing an address it asked for really could not get one (requested address outside its pools or
//    held, no pool for the family, unknown pool, every eligible address held), and a Warning Event says why;
//  - an address a Service held under one request epoch (an annotation the test bumps with every change of the
//    request) is never taken away while the epoch stays the same.
import { familyOf, parseIp, type IpFamily } from '../../src/core/ip/ip-address.ts';
import { parseIpRange, type IpRange } from '../../src/core/ip/ip-range.ts';
import type { ServiceObject } from '../../src/core/config/service-object.ts';

export const EPOCH_ANNOTATION = 'chaos.beaconlb.io/epoch';
export const POOL_ANNOTATION = 'beaconlb.io/ip-pool';
export const IPS_ANNOTATION = 'beaconlb.io/load-balancer-ips';
export const SHARING_ANNOTATION = 'beaconlb.io/allow-shared-ip';

export interface PoolSpec {
  name: string;
  addresses: string[];
  autoAssign?: boolean;
  priority?: number;
  namespaceLabels?: Record<string, string>;
  serviceLabels?: Record<string, string>;
}

/** The IPPool object for a PoolSpec. */
export function poolObjectSpec(p: PoolSpec): Record<string, unknown> {
  const allocation: Record<string, unknown> = {};
  if (p.priority !== undefined) allocation['priority'] = p.priority;
  if (p.namespaceLabels) allocation['namespaceSelector'] = { matchLabels: p.namespaceLabels };
  if (p.serviceLabels) allocation['serviceSelector'] = { matchLabels: p.serviceLabels };
  return {
    addresses: p.addresses,
    ...(p.autoAssign === false ? { autoAssign: false } : {}),
    ...(Object.keys(allocation).length ? { allocation } : {}),
  };
}

interface OraclePool {
  spec: PoolSpec;
  ranges: Record<IpFamily, IpRange[]>;
  size: Record<IpFamily, bigint>;
}

export function oraclePools(specs: readonly PoolSpec[]): Map<string, OraclePool> {
  const out = new Map<string, OraclePool>();
  for (const spec of specs) {
    const pool: OraclePool = { spec, ranges: { 4: [], 6: [] }, size: { 4: 0n, 6: 0n } };
    for (const text of spec.addresses) {
      const parsed = parseIpRange(text);
      if (!parsed.ok) throw new Error(`pool ${spec.name}: ${parsed.error}`);
      pool.ranges[parsed.value.family].push(parsed.value);
      pool.size[parsed.value.family] += parsed.value.last - parsed.value.first + 1n;
    }
    out.set(spec.name, pool);
  }
  return out;
}

const contains = (pool: OraclePool, address: bigint): boolean =>
  pool.ranges[familyOf(address)].some((r) => r.first <= address && address <= r.last);

const matches = (
  selector: Record<string, string> | undefined,
  labels: Readonly<Record<string, string>> | undefined,
): boolean => selector === undefined || Object.entries(selector).every(([k, v]) => labels?.[k] === v);

export interface OracleRequest {
  key: string;
  namespace: string;
  families: IpFamily[];
  policy: string;
  requested: Map<IpFamily, bigint>;
  poolNames: string[] | undefined;
  sharingKey: string | undefined;
  ports: string[];
  etp: string;
  selector: string;
  labels: Record<string, string>;
  epoch: string;
}

export const keyOf = (svc: ServiceObject): string => `${svc.metadata.namespace ?? ''}/${svc.metadata.name ?? ''}`;
export const ipsOf = (svc: ServiceObject): string[] =>
  (svc.status?.loadBalancer?.ingress ?? []).map((i) => i.ip ?? '').filter(Boolean);

/** The request of a Service as the test writes it (our annotations and spec.loadBalancerIP only). */
export function oracleRequest(svc: ServiceObject): OracleRequest {
  const annotations = svc.metadata.annotations ?? {};
  const families = (svc.spec?.ipFamilies ?? ['IPv4']).map((f): IpFamily => (f === 'IPv6' ? 6 : 4));
  const requested = new Map<IpFamily, bigint>();
  const requestText = annotations[IPS_ANNOTATION] ?? svc.spec?.loadBalancerIP;
  for (const text of (requestText ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)) {
    const parsed = parseIp(text);
    if (!parsed.ok) throw new Error(`${keyOf(svc)}: the test wrote an unparsable request ${text}`);
    requested.set(familyOf(parsed.value), parsed.value);
  }
  const pool = annotations[POOL_ANNOTATION];
  return {
    key: keyOf(svc),
    namespace: svc.metadata.namespace ?? '',
    families,
    policy: svc.spec?.ipFamilyPolicy ?? 'SingleStack',
    requested,
    poolNames:
      pool === undefined
        ? undefined
        : pool
            .split(',')
            .map((s) => s.trim())
            .filter(Boolean),
    sharingKey: annotations[SHARING_ANNOTATION]?.trim() || undefined,
    ports: (svc.spec?.ports ?? []).map((p) => `${p.protocol ?? 'TCP'}/${p.port}`),
    etp: svc.spec?.externalTrafficPolicy === 'Local' ? 'Local' : 'Cluster',
    selector: JSON.stringify(Object.entries(svc.spec?.selector ?? {}).sort(([a], [b]) => a.localeCompare(b))),
    labels: svc.metadata.labels ?? {},
    epoch: annotations[EPOCH_ANNOTATION] ?? '',
  };
}

/** Why two Services may not share an address (undefined: they may). */
export function sharingProblem(a: OracleRequest, b: OracleRequest): string | undefined {
  if (!a.sharingKey || !b.sharingKey) return 'not both sharing';
  if (a.sharingKey !== b.sharingKey) return `sharing keys ${a.sharingKey} and ${b.sharingKey}`;
  const clash = a.ports.filter((p) => b.ports.includes(p));
  if (clash.length > 0) return `both use ${clash.join(',')}`;
  if (a.etp !== b.etp) return 'different externalTrafficPolicy';
  if (a.etp === 'Local' && a.selector !== b.selector) return 'Local with different selectors';
  return undefined;
}

interface Eligible {
  pools: OraclePool[];
  unknown: string[];
}

function eligiblePools(
  req: OracleRequest,
  pools: ReadonlyMap<string, OraclePool>,
  nsLabels: ReadonlyMap<string, Record<string, string>>,
): Eligible {
  const allowed = (p: OraclePool): boolean =>
    matches(p.spec.namespaceLabels, nsLabels.get(req.namespace)) && matches(p.spec.serviceLabels, req.labels);
  if (req.poolNames) {
    return {
      unknown: req.poolNames.filter((n) => !pools.has(n)),
      pools: req.poolNames.flatMap((n) => {
        const p = pools.get(n);
        return p && allowed(p) ? [p] : [];
      }),
    };
  }
  const candidates = [...pools.values()].filter((p) => req.requested.size > 0 || p.spec.autoAssign !== false);
  return { unknown: [], pools: candidates.filter(allowed) };
}

export interface CheckInput {
  services: readonly ServiceObject[];
  pools: ReadonlyMap<string, OraclePool>;
  namespaceLabels: ReadonlyMap<string, Record<string, string>>;
  /** Warning Event reasons per Service key (namespace/name); the test never reuses a name. */
  warnings: ReadonlyMap<string, ReadonlySet<string>>;
}

export interface CheckResult {
  violations: string[];
  /** Services holding every address they asked for. */
  served: number;
  /** Services missing an address, for a reason the oracle confirms and an Event names. */
  explained: number;
  /** Addresses held by more than one Service (legally). */
  shared: number;
  /** Explanations by reason. */
  reasons: Record<string, number>;
}

/** Checks eligibility, sharing and explanations of one consistent list of Services. */
export function checkServices(input: CheckInput): CheckResult {
  const result: CheckResult = { violations: [], served: 0, explained: 0, shared: 0, reasons: {} };
  const requests = new Map<string, OracleRequest>();
  const holders = new Map<bigint, string[]>();
  const held = new Map<string, bigint[]>();
  for (const svc of input.services) {
    if (svc.spec?.type !== 'LoadBalancer' || svc.metadata.deletionTimestamp) continue;
    const req = oracleRequest(svc);
    requests.set(req.key, req);
    const addresses: bigint[] = [];
    for (const text of ipsOf(svc)) {
      const parsed = parseIp(text);
      if (!parsed.ok) {
        result.violations.push(`${req.key}: unparsable ingress ${text}`);
        continue;
      }
      addresses.push(parsed.value);
      holders.set(parsed.value, [...(holders.get(parsed.value) ?? []), req.key]);
    }
    held.set(req.key, addresses);
  }

  // Sharing: every pair of holders of one address must be allowed to share it.
  for (const [address, keys] of holders) {
    if (keys.length < 2) continue;
    result.shared++;
    for (let i = 0; i < keys.length; i++) {
      for (let j = i + 1; j < keys.length; j++) {
        const problem = sharingProblem(requests.get(keys[i]!)!, requests.get(keys[j]!)!);
        if (problem) result.violations.push(`address ${text(address)} held by ${keys[i]} and ${keys[j]}: ${problem}`);
      }
    }
  }

  const freeIn = (pool: OraclePool, family: IpFamily): bigint => {
    let used = 0n;
    for (const address of holders.keys()) if (familyOf(address) === family && contains(pool, address)) used++;
    return pool.size[family] - used;
  };

  for (const req of requests.values()) {
    const addresses = held.get(req.key) ?? [];
    const eligible = eligiblePools(req, input.pools, input.namespaceLabels);
    const byFamily = new Map<IpFamily, bigint>();
    for (const address of addresses) {
      const family = familyOf(address);
      if (!req.families.includes(family))
        result.violations.push(`${req.key} holds ${text(address)} but its ipFamilies lack IPv${family}`);
      if (byFamily.has(family)) result.violations.push(`${req.key} holds two IPv${family} addresses`);
      byFamily.set(family, address);
      const requested = req.requested.get(family);
      if (requested !== undefined && requested !== address)
        result.violations.push(`${req.key} holds ${text(address)} but requests ${text(requested)}`);
      if (!eligible.pools.some((p) => contains(p, address))) {
        result.violations.push(
          `${req.key} holds ${text(address)}, in no pool eligible for its request (pools ${eligible.pools.map((p) => p.spec.name).join(',') || 'none'})`,
        );
      }
    }

    // Why each missing family could not be served, as the oracle sees it (undefined: it could have been).
    const whyNot = (family: IpFamily): string | undefined => {
      const withFamily = eligible.pools.filter((p) => p.size[family] > 0n);
      const requested = req.requested.get(family);
      if (eligible.unknown.length > 0 && eligible.pools.length === 0) return 'UnknownPool';
      if (requested !== undefined) {
        if (!withFamily.some((p) => contains(p, requested))) return 'RequestedIPNotInPool';
        const blocked = (holders.get(requested) ?? []).some(
          (k) => k !== req.key && sharingProblem(req, requests.get(k)!) !== undefined,
        );
        return blocked ? (req.sharingKey ? 'SharingConflict' : 'IPInUse') : undefined;
      }
      if (withFamily.length === 0) return 'NoMatchingPool';
      if (withFamily.some((p) => freeIn(p, family) > 0n)) return undefined;
      // A legal share of an address already held under the same key would also do.
      for (const [address, keys] of holders) {
        if (familyOf(address) !== family || !req.sharingKey || !withFamily.some((p) => contains(p, address))) continue;
        if (keys.every((k) => k === req.key || sharingProblem(req, requests.get(k)!) === undefined)) return undefined;
      }
      return 'PoolExhausted';
    };

    const missing = req.families.filter((f) => !byFamily.has(f));
    if (missing.length === 0) {
      result.served++;
      continue;
    }
    if (req.policy === 'RequireDualStack' && byFamily.size > 0) {
      result.violations.push(`${req.key} (RequireDualStack) holds only ${addresses.map(text).join(',')}`);
      continue;
    }
    const reasons = new Map(missing.map((f) => [f, whyNot(f)] as const));
    const warned = input.warnings.get(req.key) ?? new Set<string>();
    // RequireDualStack holds nothing when one family fails; the others may have been possible on their own.
    const judged =
      req.policy === 'RequireDualStack' ? [...reasons].filter(([, why]) => why !== undefined) : [...reasons];
    if (judged.length === 0) {
      result.violations.push(`${req.key} holds nothing although the oracle finds every family possible`);
      continue;
    }
    // RequireDualStack: one impossible family explains holding nothing; an Event must name one such reason. (Another
    // family may have become impossible later, e.g. its pool filled up, without a new pass of this Service.)
    if (req.policy === 'RequireDualStack') {
      const named = judged.find(([, why]) => why !== undefined && warned.has(why));
      if (named) {
        result.explained++;
        result.reasons[named[1]!] = (result.reasons[named[1]!] ?? 0) + 1;
      } else {
        result.violations.push(
          `${req.key} (RequireDualStack) holds nothing and no Warning Event names why (${judged.map(([f, why]) => `IPv${f}: ${why}`).join(', ')}; has: ${[...warned].join(',') || 'none'})`,
        );
      }
      continue;
    }
    let ok = true;
    for (const [family, why] of judged) {
      if (why === undefined) {
        result.violations.push(`${req.key} lacks an IPv${family} address although one was available to it`);
        ok = false;
        continue;
      }
      // PreferDualStack leaves out a family no pool serves, silently.
      const silent = req.policy === 'PreferDualStack' && why === 'NoMatchingPool' && byFamily.size > 0;
      if (!silent && !warned.has(why)) {
        result.violations.push(
          `${req.key} lacks an IPv${family} address (${why}) and no ${why} Warning Event says so (has: ${[...warned].join(',') || 'none'})`,
        );
        ok = false;
      }
      result.reasons[why] = (result.reasons[why] ?? 0) + 1;
    }
    if (ok) result.explained++;
  }
  return result;
}

function text(address: bigint): string {
  if (familyOf(address) === 4) {
    const v = Number(address & 0xffffffffn);
    return `${v >>> 24}.${(v >>> 16) & 0xff}.${(v >>> 8) & 0xff}.${v & 0xff}`;
  }
  return `[${address.toString(16)}]`;
}

/**
 * Follows Services over time (from a watch and from lists), in resourceVersion order. An address is the
 * controller's decision for a request epoch once a status write lands while the Service is at that epoch (a write
 * carries a resourceVersion precondition, so it was computed from that very request), or once everything settled
 * with the Service at that epoch (`confirmAll`). A decided address must stay while the epoch does. Also counts
 * moments in which an address joined a status while another status showed it under a request that may not share it:
 *  - illegal sharing (`transientConflicts`): the other Service's request was already what it is when the joiner's
 *    status write was computed. A status write carries the joiner's resourceVersion v as precondition, and the
 *    controller's Service cache is one watch stream in resourceVersion order, so when it decided at v it had seen
 *    every change up to v: it could have known;
 *  - raced joins (`racedJoins`): the other's request changed after v (a client changed it while the joiner's write was
 *    in flight, or the controller's cache had not caught up). No controller can exclude these: the write of one
 *    object cannot be conditioned on another. Counted only where the watch saw both Services continuously (every
 *    version in order), else counted as illegal sharing.
 */
export class AddressHistory {
  readonly #seen = new Map<string, { epoch: string; current: Set<string>; decided: Set<string> }>();
  readonly #holders = new Map<string, Set<string>>();
  readonly #requests = new Map<string, OracleRequest>();
  /** Per Service: its last observed resourceVersion and stream, and the version at which its request took its form. */
  readonly #versions = new Map<
    string,
    { version: number; stream: number; requestSince: number; requestExact: boolean }
  >();
  /** Incremented whenever the watch stream broke (versions may have been missed until the relist). */
  #stream = 0;
  readonly violations: string[] = [];
  transientConflicts = 0;
  readonly transientExamples: string[] = [];
  racedJoins = 0;
  readonly racedExamples: string[] = [];
  /** Addresses given up to co-holders that changed their requests, where no majority says who is right. */
  contestedMoves = 0;
  readonly contestedExamples: string[] = [];
  observations = 0;

  /** The watch broke: until the relist, versions may have been missed. */
  streamBroken(): void {
    this.#stream++;
  }

  observe(svc: ServiceObject, where: string): void {
    this.observations++;
    const key = keyOf(svc);
    const req = oracleRequest(svc);
    const ips = new Set(ipsOf(svc));
    const before = this.#seen.get(key);
    const version = Number(svc.metadata.resourceVersion ?? 0);
    const last = this.#versions.get(key);
    // The version this observation's status write (if it is one) was computed against, when the watch saw every
    // version of this Service since: the previous one.
    const computedAt = last && last.stream === this.#stream ? last.version : undefined;
    const newRequest = !last || before?.epoch !== req.epoch;
    this.#versions.set(key, {
      version,
      stream: this.#stream,
      requestSince: newRequest ? version : last.requestSince,
      // Exact: the watch delivered the very version at which the request took this form (its creation, or the change).
      requestExact: newRequest
        ? where === 'watch' && (last === undefined || last.stream === this.#stream)
        : last.requestExact,
    });
    if (before?.epoch !== req.epoch) {
      // A new request: what the Service holds was decided for the old one.
      this.#seen.set(key, { epoch: req.epoch, current: ips, decided: new Set() });
    } else if ([...ips].join() !== [...before.current].join()) {
      const lost = [...before.decided].filter((ip) => !ips.has(ip));
      const contested = lost.filter((ip) => this.#outvoted(req, ip));
      const unexcused = lost.filter((ip) => !contested.includes(ip));
      if (contested.length > 0) {
        this.contestedMoves++;
        if (this.contestedExamples.length < 5)
          this.contestedExamples.push(`${key} gave up ${contested.join(',')} to a co-holder whose request changed`);
      }
      if (unexcused.length > 0) {
        this.violations.push(
          `${key} lost ${unexcused.join(',')} (now ${[...ips].join(',') || 'nothing'}) without a change of its request (epoch ${req.epoch}, seen by ${where})`,
        );
      }
      before.current = ips;
      before.decided = new Set(ips);
    }
    this.#requests.set(key, req);
    this.#setHolders(key, ips, computedAt);
  }

  /**
   * Whether `req` holding `ip` was outvoted: co-holders whose (changed) requests now forbid sharing with it are at
   * least as many as the holders that agree with it (itself included). A controller that rebuilds its table from
   * statuses cannot tell which side changed its request then, and may keep either.
   */
  #outvoted(req: OracleRequest, ip: string): boolean {
    let agree = 1;
    let disagree = 0;
    for (const other of this.#holders.get(ip) ?? []) {
      if (other === req.key) continue;
      const otherRequest = this.#requests.get(other);
      if (!otherRequest) continue;
      if (sharingProblem(req, otherRequest) === undefined) agree++;
      else disagree++;
    }
    return disagree > 0 && disagree >= agree;
  }

  /** Everything settled: what each Service holds now is the controller's decision for its current request. */
  confirmAll(): void {
    for (const entry of this.#seen.values()) entry.decided = new Set(entry.current);
  }

  forget(key: string): void {
    this.#seen.delete(key);
    this.#requests.delete(key);
    this.#versions.delete(key);
    this.#setHolders(key, new Set(), undefined);
  }

  #setHolders(key: string, ips: ReadonlySet<string>, computedAt: number | undefined): void {
    for (const [ip, keys] of this.#holders) {
      if (!ips.has(ip) && keys.delete(key) && keys.size === 0) this.#holders.delete(ip);
    }
    for (const ip of ips) {
      const keys = this.#holders.get(ip) ?? new Set<string>();
      const fresh = !keys.has(key);
      keys.add(key);
      this.#holders.set(ip, keys);
      if (!fresh || keys.size < 2) continue;
      const mine = this.#requests.get(key)!;
      for (const other of keys) {
        if (other === key) continue;
        const problem = sharingProblem(mine, this.#requests.get(other)!);
        if (!problem) continue;
        const theirs = this.#versions.get(other);
        const raced =
          computedAt !== undefined &&
          theirs !== undefined &&
          theirs.requestExact &&
          theirs.stream === this.#stream &&
          theirs.requestSince > computedAt;
        const text = `${ip}: ${key} joined ${other} (${problem}; written against version ${computedAt ?? '?'}, ${other}'s request since ${theirs?.requestSince ?? '?'})`;
        if (raced) {
          this.racedJoins++;
          if (this.racedExamples.length < 5) this.racedExamples.push(text);
        } else {
          this.transientConflicts++;
          if (this.transientExamples.length < 5) this.transientExamples.push(text);
        }
      }
    }
  }
}
