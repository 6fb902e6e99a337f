// Writes IPPool status (usage per family, Ready, Overlap and Draining conditions) at most once per interval per pool
// and only when it differs from what the server has: never in the allocation path, never a write storm. A draining
// pool's condition names the Services that still hold its addresses; its start and its end (no address left) are
// Normal Events on the pool.
import type { Clock, Timer } from '../core/clock.ts';
import type { Condition, IPPool, IPPoolStatus } from '../core/config/api-types.generated.ts';
import type { ConfigProblem, ConfigProblemReason } from '../core/config/config-problem.ts';
import type { FamilyUsage } from '../core/ipam/allocation-table.ts';
import type { IpFamily } from '../core/ip/ip-address.ts';
import type { Logger } from '../platform/logger.ts';
import type { ControllerPorts } from './controller-ports.ts';
import type { ControllerMetrics } from './controller-metrics.ts';

export interface PoolStatusReporterOptions {
  ports: Pick<ControllerPorts, 'pools' | 'writePoolStatus' | 'recordPoolEvent'>;
  clock: Clock;
  metrics: ControllerMetrics;
  log: Logger;
  intervalMs: number;
  usage: (pool: string) => Record<IpFamily, FamilyUsage> | undefined;
  /** The Services holding addresses of a pool (asked only for draining pools). */
  holders: (pool: string, limit: number) => { count: number; first: readonly string[] };
  problems: () => readonly ConfigProblem[];
}

/** How many holders a Draining condition names before "and N more". */
const NAMED_HOLDERS = 10;

/** The Draining condition's status, reason and message for a pool. */
function drainingState(
  pool: IPPool,
  allocated: number,
  holders: { count: number; first: readonly string[] },
): { status: 'True' | 'False'; reason: string; message: string } {
  if (pool.spec.drain !== true)
    return { status: 'False', reason: 'NotDraining', message: 'the pool hands out addresses' };
  if (allocated === 0)
    return { status: 'True', reason: 'Drained', message: 'no address of the pool is in use: it can be deleted' };
  const named = holders.first.slice(0, NAMED_HOLDERS).join(', ');
  const more = holders.count > NAMED_HOLDERS ? ` and ${holders.count - NAMED_HOLDERS} more` : '';
  const plural = (n: number, one: string, many: string): string => `${n} ${n === 1 ? one : many}`;
  return {
    status: 'True',
    reason: 'Draining',
    message: `hands out no new addresses; ${plural(allocated, 'address', 'addresses')} still in use by ${plural(holders.count, 'Service', 'Services')}: ${named}${more}`,
  };
}

function condition(
  type: string,
  status: 'True' | 'False',
  reason: string,
  message: string,
  generation: number | undefined,
  previous: Condition[] | undefined,
  now: Date,
): Condition {
  const before = previous?.find((c) => c.type === type);
  return {
    type,
    status,
    reason,
    message,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    lastTransitionTime:
      before && before.status === status ? before.lastTransitionTime : now.toISOString().replace(/\.\d+Z$/, 'Z'),
  };
}

/**
 * A pool's Ready and Overlap conditions, typed: `problem` is set on the bad ones (Ready=False, Overlap=True), whose
 * reason is the configuration problem recorded as an Event; the good ones (Valid, NoOverlap) are never recorded.
 */
export type PoolCondition =
  | {
      readonly type: 'Ready' | 'Overlap';
      readonly problem: true;
      readonly reason: ConfigProblemReason;
      readonly message: string;
    }
  | {
      readonly type: 'Ready' | 'Overlap';
      readonly problem: false;
      readonly reason: 'Valid' | 'NoOverlap';
      readonly message: string;
    };

/** The conditions a pool's own problems (`mine`) give it. */
export function poolConditions(mine: readonly ConfigProblem[]): [ready: PoolCondition, overlap: PoolCondition] {
  // A malformed pool (or one whose compilation failed) is not used at all; bad entries leave the rest in use.
  const unusable = mine.find((p) => p.reason === 'MalformedObject' || p.reason === 'ProcessingError');
  const invalid = unusable ? [unusable] : mine.filter((p) => p.reason === 'InvalidAddresses');
  const overlap = mine.find((p) => p.reason === 'Overlap');
  return [
    invalid.length === 0
      ? { type: 'Ready', problem: false, reason: 'Valid', message: 'the pool is valid and in use' }
      : {
          type: 'Ready',
          problem: true,
          reason: unusable ? unusable.reason : 'InvalidAddresses',
          message: invalid.map((p) => p.message).join('; '),
        },
    overlap
      ? { type: 'Overlap', problem: true, reason: 'Overlap', message: overlap.message }
      : { type: 'Overlap', problem: false, reason: 'NoOverlap', message: 'no address is shared with another pool' },
  ];
}

/** The status a pool should have. */
export function desiredPoolStatus(
  pool: IPPool,
  usage: Record<IpFamily, FamilyUsage> | undefined,
  problems: readonly ConfigProblem[],
  now: Date,
  holders: { count: number; first: readonly string[] } = { count: 0, first: [] },
): IPPoolStatus {
  const family = (f: IpFamily): { total: string; allocated: number; available: string } => ({
    total: String(usage?.[f].total ?? 0n),
    allocated: usage?.[f].allocated ?? 0,
    available: String(usage?.[f].available ?? 0n),
  });
  const generation = pool.metadata.generation;
  // The status of an object stored without the current schema may be anything.
  const previous = Array.isArray(pool.status?.conditions) ? pool.status.conditions : undefined;
  const ipv4 = family(4);
  const ipv6 = family(6);
  const draining = drainingState(pool, ipv4.allocated + ipv6.allocated, holders);
  // Ready is True and Overlap False when there is no problem.
  const status = (c: PoolCondition): 'True' | 'False' => ((c.type === 'Ready') === c.problem ? 'False' : 'True');
  return {
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
    allocated: ipv4.allocated + ipv6.allocated,
    available: String(BigInt(ipv4.available) + BigInt(ipv6.available)),
    ipv4,
    ipv6,
    conditions: [
      ...poolConditions(problems.filter((p) => p.name === pool.metadata.name)).map((c) =>
        condition(c.type, status(c), c.reason, c.message, generation, previous, now),
      ),
      condition('Draining', draining.status, draining.reason, draining.message, generation, previous, now),
    ],
  };
}

/** Status equality that ignores transition times (they only move when a status flips). */
function sameStatus(a: IPPoolStatus | undefined, b: IPPoolStatus): boolean {
  const strip = (s: IPPoolStatus | undefined): string =>
    JSON.stringify({
      ...s,
      conditions: Array.isArray(s?.conditions)
        ? s.conditions.map((c) => ({ ...c, lastTransitionTime: undefined }))
        : s?.conditions,
    });
  return strip(a) === strip(b);
}

export class PoolStatusReporter {
  readonly #ports: Pick<ControllerPorts, 'pools' | 'writePoolStatus' | 'recordPoolEvent'>;
  readonly #clock: Clock;
  readonly #metrics: ControllerMetrics;
  readonly #log: Logger;
  readonly #intervalMs: number;
  readonly #usage: (pool: string) => Record<IpFamily, FamilyUsage> | undefined;
  readonly #holders: (pool: string, limit: number) => { count: number; first: readonly string[] };
  readonly #problems: () => readonly ConfigProblem[];
  readonly #dirty = new Set<string>();
  readonly #lastWritten = new Map<string, number>();
  readonly #reported = new Map<string, string>();
  #timer: Timer | undefined;
  #running = false;
  #flushing = false;

  constructor(options: PoolStatusReporterOptions) {
    this.#ports = options.ports;
    this.#clock = options.clock;
    this.#metrics = options.metrics;
    this.#log = options.log;
    this.#intervalMs = options.intervalMs;
    this.#usage = options.usage;
    this.#holders = options.holders;
    this.#problems = options.problems;
  }

  start(): void {
    this.#running = true;
  }

  stop(): void {
    this.#running = false;
    this.#timer?.cancel();
    this.#timer = undefined;
  }

  mark(pool: string | undefined): void {
    if (!pool) return;
    this.#dirty.add(pool);
    this.#schedule();
  }

  markAll(): void {
    for (const pool of this.#ports.pools()) this.#dirty.add(pool.metadata.name);
    this.#schedule();
  }

  #schedule(): void {
    if (!this.#running || this.#timer || this.#flushing) return;
    // Batch: a burst of allocations becomes one write per pool.
    this.#timer = this.#clock.after(50, () => {
      this.#timer = undefined;
      void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    const now = this.#clock.now();
    const pools = new Map(this.#ports.pools().map((p) => [p.metadata.name, p]));
    const writes: Array<Promise<void>> = [];
    for (const name of [...this.#dirty]) {
      const pool = pools.get(name);
      if (!pool) {
        this.#dirty.delete(name);
        this.#metrics.forgetPool(name);
        continue;
      }
      if (now - (this.#lastWritten.get(name) ?? -Infinity) < this.#intervalMs) continue;
      this.#dirty.delete(name);
      // One pool's failure (a bug) must not stop the reports of the others, nor leave #flushing set for good.
      writes.push(
        this.#report(pool, now).catch((error: unknown) => {
          this.#log.error({ pool: name, err: String(error) }, 'pool status report failed');
        }),
      );
    }
    await Promise.all(writes);
    this.#flushing = false;
    if (this.#dirty.size > 0 && this.#running) {
      this.#timer = this.#clock.after(this.#intervalMs, () => {
        this.#timer = undefined;
        void this.#flush();
      });
    }
  }

  async #report(pool: IPPool, now: number): Promise<void> {
    const name = pool.metadata.name;
    const usage = this.#usage(name);
    const holders = pool.spec.drain === true ? this.#holders(name, NAMED_HOLDERS) : { count: 0, first: [] };
    const problems = this.#problems();
    const status = desiredPoolStatus(pool, usage, problems, this.#clock.wallTime(), holders);
    this.#metrics.poolUsage(name, 'ipv4', status.ipv4?.allocated ?? 0, Number(status.ipv4?.available ?? 0));
    this.#metrics.poolUsage(name, 'ipv6', status.ipv6?.allocated ?? 0, Number(status.ipv6?.available ?? 0));
    for (const c of poolConditions(problems.filter((p) => p.name === name))) {
      const key = `${name}/${c.type}`;
      if (c.problem && this.#reported.get(key) !== c.message) {
        this.#reported.set(key, c.message);
        this.#log.warn({ pool: name, reason: c.reason }, c.message);
        this.#ports.recordPoolEvent(pool, 'Warning', c.reason, c.message);
      } else if (!c.problem) this.#reported.delete(key);
    }
    // A drain's start and end, once each (by reason: the count in the message changes with every release).
    const drain = status.conditions?.find((c) => c.type === 'Draining');
    const drainKey = `${name}/Draining`;
    if (drain?.status !== 'True') this.#reported.delete(drainKey);
    else if (this.#reported.get(drainKey) !== drain.reason) {
      this.#reported.set(drainKey, drain.reason);
      this.#log.info({ pool: name, reason: drain.reason }, drain.message);
      this.#ports.recordPoolEvent(
        pool,
        'Normal',
        drain.reason === 'Drained' ? 'DrainCompleted' : 'DrainStarted',
        drain.message,
      );
    }
    if (sameStatus(pool.status, status)) return;
    this.#lastWritten.set(name, now);
    const outcome = await this.#ports.writePoolStatus(pool, status);
    if (outcome === 'written' || outcome === 'gone') return;
    if (outcome !== 'conflict' && outcome.error.startsWith('HTTP 422')) {
      // The API server refuses every write to this object (its stored spec breaks the schema in a way validation
      // ratcheting does not forgive, such as a number where a string belongs): retrying would write forever. The
      // Event stands; the next change of the pool (or of any pool) tries again.
      this.#log.warn(
        { pool: name, err: outcome.error },
        'the API server refuses the pool status; not retrying until the pool changes',
      );
      return;
    }
    this.#log.debug({ pool: name, outcome }, 'pool status write deferred');
    this.#dirty.add(name);
  }
}
