// Package decision benchmark (ADR 0021): our src/core/ip (bigint parse / format / prefix containment, as the speaker
// plan and the allocator use it) against the npm package ip-address@10.7.6 (a pinned devDependency, used only here).
// Prints one JSON object:
//   ops_per_s.<impl>.<op>   parse / format of IPv4 and IPv6 texts, and "is this address in the pool's prefix", over
//                           the texts of 5,000 Service addresses (half IPv4, half IPv6); best pass of --rounds, implementations interleaved
//   rss_delta_mb.<impl>     RSS growth (after GC) of a fresh process that loads the module and parses 50,000
//                           addresses into bigints it keeps (the allocator's working set): support/ip-parse-rss.ts
//   vectors.<impl>          disagreements with the vectors of src/core/ip/ip-address.test.ts: valid texts parsed to
//                           another value or rejected, invalid texts accepted, canonical texts formatted otherwise
// Usage: node --expose-gc bench/package-ip-address.ts [--services 5000] [--rounds 20]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Address4, Address6 } from 'ip-address';
import { IPV4_MAPPED_BASE, familyOf, formatIp, ipv4, parseIp } from '../src/core/ip/ip-address.ts';
import { parseIpRange } from '../src/core/ip/ip-range.ts';
import { CANONICAL_TEXTS, REJECTED_TEXTS, VALID_TEXTS } from '../src/core/ip/testdata/ip-address-vectors.ts';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '5000' },
    rounds: { type: 'string', default: '20' },
  },
});

/** One implementation seen through the operations we need, in our single 128-bit space (IPv4 = ::ffff:a.b.c.d). */
interface Impl {
  /** The value, or undefined when the text is rejected. */
  parse(text: string): bigint | undefined;
  format(value: bigint): string;
  /** A membership test for one CIDR, built once (as the speaker plan builds its pool ranges once). */
  contains(cidr: string): (text: string) => boolean;
}

const ours: Impl = {
  parse(text) {
    const r = parseIp(text);
    return r.ok ? r.value : undefined;
  },
  format: formatIp,
  contains(cidr) {
    const range = parseIpRange(cidr);
    if (!range.ok) throw new Error(range.error);
    // An IPv4 range lies in ::ffff:0:0/96 (one space), so the family needs no separate check.
    const { first, last } = range.value;
    return (text) => {
      const r = parseIp(text);
      return r.ok && r.value >= first && r.value <= last;
    };
  },
};

const pkg: Impl = {
  parse(text) {
    try {
      if (text.includes(':')) return new Address6(text).bigInt();
      return IPV4_MAPPED_BASE + new Address4(text).bigInt();
    } catch {
      return undefined;
    }
  },
  format(value) {
    if (familyOf(value) === 4) return Address4.fromBigInt(value - IPV4_MAPPED_BASE).correctForm();
    return Address6.fromBigInt(value).correctForm();
  },
  contains(cidr) {
    const subnet: Address4 | Address6 = cidr.includes(':') ? new Address6(cidr) : new Address4(cidr);
    return (text) => {
      try {
        const a: Address4 | Address6 = text.includes(':') ? new Address6(text) : new Address4(text);
        return a.v4 === subnet.v4 && a.isInSubnet(subnet);
      } catch {
        return false;
      }
    };
  },
};

const IMPLS = { ours, 'ip-address@10.7.6': pkg } as const;
const RSS_SCRIPT = join(import.meta.dirname, 'support/ip-parse-rss.ts');

/** The texts of n Service addresses: n/2 from 198.51.100.0/24 and 203.0.113.0/24, n/2 from 2001:db8::/32. */
function serviceTexts(n: number): { v4: string[]; v6: string[] } {
  const v4: string[] = [];
  const v6: string[] = [];
  for (let i = 0; i < n / 2; i++) {
    v4.push(formatIp(ipv4(i % 2 ? 198 : 203, i % 2 ? 51 : 0, i % 2 ? 100 : 113, i % 256)));
    v6.push(formatIp(0x20010db8_0000_0000_0000_0000_0000_0000n + (BigInt(i % 64) << 64n) + BigInt(i * 7919)));
  }
  return { v4, v6 };
}

/** Milliseconds of one pass of fn over items (a pass that computes nothing is a bug in the bench). */
function passMs<T>(items: readonly T[], fn: (item: T) => unknown): number {
  let computed = 0;
  const start = performance.now();
  for (const item of items) if (fn(item) !== undefined) computed++;
  const ms = performance.now() - start;
  if (computed === 0) throw new Error('nothing computed');
  return ms;
}

/** Disagreements with our test vectors, each named. */
function vectorDisagreements(impl: Impl): { count: number; cases: string[] } {
  const cases: string[] = [];
  for (const [section, text, value] of VALID_TEXTS) {
    const got = impl.parse(text);
    if (got !== value)
      cases.push(
        `parse ${JSON.stringify(text)} (${section}): ${got === undefined ? 'rejected' : `got ${formatIp(got)}`}`,
      );
  }
  for (const [text, reason] of REJECTED_TEXTS) {
    const got = impl.parse(text);
    if (got !== undefined)
      cases.push(`accepts ${JSON.stringify(text)} (should reject: ${reason}) as ${safeFormat(got)}`);
  }
  for (const [section, value, text] of CANONICAL_TEXTS) {
    let got: string;
    try {
      got = impl.format(value);
    } catch (error) {
      got = `threw ${(error as Error).message}`;
    }
    if (got !== text) cases.push(`format ${text} (${section}): got ${JSON.stringify(got)}`);
  }
  return { count: cases.length, cases };
}

function safeFormat(value: bigint): string {
  try {
    return formatIp(value);
  } catch {
    return String(value);
  }
}

const services = Number(values.services);
const rounds = Number(values.rounds);
const { v4, v6 } = serviceTexts(services);
const v4Values = v4.map((t) => ours.parse(t)!);
const v6Values = v6.map((t) => ours.parse(t)!);
const texts = [...v4, ...v6];
const result: Record<string, unknown> = { services, rounds, ops_per_s: {}, rss_delta_mb: {}, vectors: {} };
// Rounds interleave the implementations (the machine is shared: load hits both alike); best pass counts.
const ops = {
  parse_v4: [v4, (impl: Impl) => (t: string) => impl.parse(t)],
  parse_v6: [v6, (impl: Impl) => (t: string) => impl.parse(t)],
  format_v4: [v4Values, (impl: Impl) => (v: bigint) => impl.format(v)],
  format_v6: [v6Values, (impl: Impl) => (v: bigint) => impl.format(v)],
  contains: [
    texts,
    (impl: Impl) => {
      const inV4 = impl.contains('198.51.100.0/24');
      const inV6 = impl.contains('2001:db8::/32');
      return (t: string) => (t.includes(':') ? inV6(t) : inV4(t)) || undefined;
    },
  ],
} as const;
const best: Record<string, Record<string, number>> = {};
for (let r = 0; r < rounds; r++) {
  for (const [name, impl] of Object.entries(IMPLS)) {
    best[name] ??= {};
    for (const [op, [items, make]] of Object.entries(ops)) {
      const ms = passMs(items as readonly unknown[], make(impl) as (item: unknown) => unknown);
      best[name][op] = Math.min(best[name][op] ?? Infinity, ms);
    }
  }
}
for (const [name, impl] of Object.entries(IMPLS)) {
  (result['ops_per_s'] as Record<string, unknown>)[name] = Object.fromEntries(
    Object.entries(best[name]!).map(([op, ms]) => [
      op,
      Math.round((ops[op as keyof typeof ops][0].length / ms) * 1000),
    ]),
  );
  const child = spawnSync(process.execPath, ['--expose-gc', RSS_SCRIPT, name === 'ours' ? 'ours' : 'ip-address'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  try {
    (result['rss_delta_mb'] as Record<string, unknown>)[name] = (
      JSON.parse(child.stdout) as { rss_delta_mb: number }
    ).rss_delta_mb;
  } catch {
    (result['rss_delta_mb'] as Record<string, unknown>)[name] = {
      error: `exit ${child.status}: ${child.stderr.slice(-500)}`,
    };
  }
  (result['vectors'] as Record<string, unknown>)[name] = vectorDisagreements(impl);
}
result['vector_count'] = VALID_TEXTS.length + REJECTED_TEXTS.length + CANONICAL_TEXTS.length;
console.log(JSON.stringify(result, null, 2));
