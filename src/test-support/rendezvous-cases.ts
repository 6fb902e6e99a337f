// What the rendezvous owner's tests share: addresses, node names and eligibility of generated and sequential cases,
// and seeded shuffles.
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DEFAULT_LOAD_FACTOR, type OwnerInput } from '../core/election/rendezvous-owner.ts';
import { IPV4_MAPPED_BASE, ipv4, parseIp } from '../core/ip/ip-address.ts';

/** The address of a text form, failing the test on an error. */
export function ip(text: string): bigint {
  const result = parseIp(text);
  if (!result.ok) assert.fail(result.error);
  return result.value;
}

/** A deterministic xorshift32 generator in [0, 1). */
export function randomFrom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

/** A copy of a list in an order picked by a seed (Fisher-Yates). */
export function shuffled<T>(items: readonly T[], seed: number): T[] {
  const random = randomFrom(seed);
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}

/** `count` distinct IPv4 addresses from 198.18.0.0 upwards (structured inputs are the hard case for a hash). */
export function sequentialAddresses(count: number): bigint[] {
  return Array.from({ length: count }, (_, i) => ipv4(198, 18, 0, 0) + BigInt(i));
}

/** `count` node names as a cluster would have them. */
export function nodeNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `worker-${i + 1}.rack-a.example.net`);
}

/** Input where every node is eligible for every address. */
export function allEligible(
  addresses: readonly bigint[],
  nodes: readonly string[],
  live: Iterable<string> = nodes,
): OwnerInput {
  return { addresses: addresses.map((address) => ({ address, eligible: nodes })), live: new Set(live) };
}

export const anyAddress = fc.oneof(
  fc.integer({ min: 0, max: 0xffffffff }).map((v) => IPV4_MAPPED_BASE + BigInt(v)),
  fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }),
);
export const anyNodeName = fc.oneof(
  fc.stringMatching(/^[a-z0-9]([-a-z0-9.]{0,20}[a-z0-9])?$/),
  fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }),
);

/** Random addresses with random eligibility over a set of nodes, some of them live. */
export const anyInput: fc.Arbitrary<OwnerInput> = fc
  .uniqueArray(anyNodeName, { minLength: 1, maxLength: 10 })
  .chain((nodes) =>
    fc.record({
      addresses: fc.array(
        fc.record({
          // Some addresses from a small set, so that repeated addresses (shared IPs) come up.
          address: fc.oneof(anyAddress, fc.constantFrom(1n, 2n, IPV4_MAPPED_BASE)),
          eligible: fc.array(fc.constantFrom(...nodes), { maxLength: nodes.length + 2 }),
        }),
        { maxLength: 60 },
      ),
      live: fc.subarray(nodes).map((live) => new Set(live)),
      loadFactor: fc.constantFrom(1, 1.1, DEFAULT_LOAD_FACTOR, 2),
    }),
  );

/** `n` short node names, worker-1 upwards. */
export function workerNames(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `worker-${i + 1}`);
}

/** `count` addresses from 198.51.100.0 upwards, each eligible on `eligible`. */
export function eligibleAddresses(
  count: number,
  eligible: readonly string[],
): Array<{ address: bigint; eligible: readonly string[] }> {
  return Array.from({ length: count }, (_, i) => ({ address: ipv4(198, 51, 100, 0) + BigInt(i), eligible }));
}
