import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ownersOf, rankNodes, rendezvousWeight } from './rendezvous-owner.ts';
import { ipv4 } from '../ip/ip-address.ts';
import { ip, shuffled, sequentialAddresses, anyAddress, anyNodeName } from '../../test-support/rendezvous-cases.ts';

const MASK_64 = (1n << 64n) - 1n;

/** FNV-1a 64 in BigInt, straight from the specification: the reference the fast 32-bit-halves code must match. */
function referenceFnv1a64(bytes: Uint8Array): bigint {
  let hash = 0xcbf29ce484222325n;
  for (const byte of bytes) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & MASK_64;
  return hash;
}

/** MurmurHash3 fmix64 in BigInt. */
function referenceFmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = (k * 0xff51afd7ed558ccdn) & MASK_64;
  k ^= k >> 33n;
  k = (k * 0xc4ceb9fe1a85ec53n) & MASK_64;
  return k ^ (k >> 33n);
}

/** The weight of node n for address a as the file comment defines it: fmix64(H(a) XOR H(n)). */
function referenceWeight(address: bigint, node: string): bigint {
  const addressBytes = new Uint8Array(16);
  for (let i = 0; i < 16; i++) addressBytes[i] = Number((address >> BigInt(8 * (15 - i))) & 0xffn);
  const hashOfAddress = referenceFmix64(referenceFnv1a64(addressBytes));
  const hashOfNode = referenceFmix64(referenceFnv1a64(new TextEncoder().encode(node)));
  return referenceFmix64(hashOfAddress ^ hashOfNode);
}

describe('rendezvousWeight', () => {
  it('uses FNV-1a 64 as published (reference check: "", "a", "foobar")', () => {
    const encode = (text: string): Uint8Array => new TextEncoder().encode(text);
    assert.equal(referenceFnv1a64(encode('')), 0xcbf29ce484222325n);
    assert.equal(referenceFnv1a64(encode('a')), 0xaf63dc4c8601ec8cn);
    assert.equal(referenceFnv1a64(encode('foobar')), 0x85944171f73967e8n);
  });

  it('equals fmix64(H(address) XOR H(node)) computed in BigInt', () => {
    fc.assert(
      fc.property(anyAddress, anyNodeName, (address, node) => {
        assert.equal(rendezvousWeight(address, node), referenceWeight(address, node));
      }),
    );
  });

  it('keeps its golden values: every speaker of a rolling upgrade must rank alike, so a change here is a protocol change', () => {
    assert.equal(rendezvousWeight(ipv4(192, 0, 2, 1), 'node-a'), 0xa6ff13f3e4900019n);
    assert.equal(rendezvousWeight(ip('2001:db8::1'), 'node-a'), referenceWeight(ip('2001:db8::1'), 'node-a'));
    assert.deepEqual(rankNodes(ipv4(192, 0, 2, 1), ['a', 'b', 'c', 'd']), ['c', 'b', 'a', 'd']);
  });

  it('hashes the address value, so an IPv4 address and its IPv4-mapped form are one address', () => {
    assert.equal(rendezvousWeight(ip('192.0.2.1'), 'n'), rendezvousWeight(ip('::ffff:192.0.2.1'), 'n'));
  });

  it('throws outside the 128-bit space (a bug)', () => {
    assert.throws(() => rendezvousWeight(-1n, 'n'), RangeError);
    assert.throws(() => rendezvousWeight(1n << 128n, 'n'), RangeError);
  });

  it('spreads sequential addresses evenly: first choices and whole rankings of 3 nodes pass a chi-square test', () => {
    // 6,000 consecutive addresses over 3 nodes: each of the 3 first choices and each of the 6 rankings should be
    // equally likely. Critical values at p = 0.001: 13.82 (2 degrees of freedom) and 20.52 (5).
    const nodes = ['node-a', 'node-b', 'node-c'];
    const addresses = sequentialAddresses(6000);
    const firsts = new Map<string, number>();
    const rankings = new Map<string, number>();
    for (const address of addresses) {
      const ranking = rankNodes(address, nodes);
      firsts.set(ranking[0]!, (firsts.get(ranking[0]!) ?? 0) + 1);
      rankings.set(ranking.join(), (rankings.get(ranking.join()) ?? 0) + 1);
    }
    const chiSquare = (counts: Map<string, number>, buckets: number): number => {
      const expected = addresses.length / buckets;
      assert.equal(counts.size, buckets);
      return [...counts.values()].reduce((sum, count) => sum + (count - expected) ** 2 / expected, 0);
    };
    assert.ok(chiSquare(firsts, 3) < 13.82, `first choices ${JSON.stringify([...firsts])}`);
    assert.ok(chiSquare(rankings, 6) < 20.52, `rankings ${JSON.stringify([...rankings])}`);
  });
});

describe('rankNodes', () => {
  it('ranks by weight, highest first, without duplicates', () => {
    fc.assert(
      fc.property(anyAddress, fc.array(anyNodeName, { maxLength: 12 }), (address, nodes) => {
        const ranked = rankNodes(address, nodes);
        assert.deepEqual(new Set(ranked), new Set(nodes));
        assert.equal(ranked.length, new Set(nodes).size);
        for (let i = 1; i < ranked.length; i++) {
          const higher = rendezvousWeight(address, ranked[i - 1]!);
          const lower = rendezvousWeight(address, ranked[i]!);
          assert.ok(higher > lower || (higher === lower && ranked[i - 1]! < ranked[i]!));
        }
      }),
    );
  });

  it('does not depend on the order of the nodes', () => {
    fc.assert(
      fc.property(anyAddress, fc.array(anyNodeName, { maxLength: 12 }), fc.integer(), (address, nodes, seed) => {
        assert.deepEqual(rankNodes(address, shuffled(nodes, seed)), rankNodes(address, nodes));
      }),
    );
  });

  it('breaks a tie of weights by name: names whose UTF-8 is the same (lone surrogates) hash alike', () => {
    // TextEncoder writes U+FFFD for a lone surrogate, so these two names have one hash and one weight.
    const low = '\udc00';
    const high = '\ud800';
    assert.equal(rendezvousWeight(1n, low), rendezvousWeight(1n, high));
    assert.deepEqual(rankNodes(1n, [low, high]), [high, low]);
    assert.deepEqual(
      ownersOf({ addresses: [{ address: 1n, eligible: [low, high] }], live: new Set([low, high]) }),
      new Map([[1n, high]]),
    );
  });

  it('ranks nothing for no nodes', () => {
    assert.deepEqual(rankNodes(1n, []), []);
  });
});
