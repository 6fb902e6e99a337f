import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { ipv4 } from '../../core/ip/ip-address.ts';
import { codecContext, ipv4Prefix, ipv6Prefix, pathAttributes, updateMessage } from '../testdata/bgp-arbitraries.ts';
import { toHex } from '../testdata/hex-bytes.ts';
import type { BgpPrefix } from './nlri-prefix.ts';
import type { PathAttribute } from './path-attribute.ts';
import { propagatedAttributes } from './route-propagation.ts';
import { announcedPrefixes, decodeUpdateMessage, encodeUpdateMessage } from './update-message.ts';
import { announcementUpdates, withdrawalUpdates } from './update-packing.ts';
import { FOUR, ip, prefix } from '../testdata/update-decoding.ts';

describe('UPDATE round trips and building', () => {
  it('property: decode(encode(update)) gives the update back (never a session reset) for well-formed attributes', () => {
    fc.assert(
      fc.property(
        codecContext.chain((context) => fc.tuple(fc.constant(context), updateMessage(context))),
        ([context, update]) => {
          const outcome = decodeUpdateMessage(encodeUpdateMessage(update, context), context);
          assert.notEqual(outcome.kind, 'session-reset');
          assert.notEqual(outcome.kind, 'attribute-discard');
          if (outcome.kind === 'session-reset') return;
          assert.deepEqual(outcome.update, update);
        },
      ),
      { numRuns: 1_000 },
    );
  });

  it('property: announcementUpdates packs any number of prefixes into UPDATEs of at most 4096 bytes that announce exactly them', () => {
    const announcement = fc.oneof(
      fc.tuple(fc.constant('ipv4-unicast' as const), fc.array(ipv4Prefix, { maxLength: 2000 })),
      fc.tuple(fc.constant('ipv6-unicast' as const), fc.array(ipv6Prefix, { maxLength: 1000 })),
    );
    // IPv4 with an IPv6 next hop (extended next hop, RFC 8950) goes in MP_REACH_NLRI like IPv6.
    const nextHopKind = fc.constantFrom('own', 'ipv6', 'ipv6+link-local');
    fc.assert(
      fc.property(announcement, pathAttributes(FOUR), nextHopKind, ([family, prefixes], attributes, kind) => {
        const nextHop = family === 'ipv4-unicast' && kind === 'own' ? ipv4(198, 51, 100, 11) : ip('2001:db8:1::11');
        const multiprotocol = family === 'ipv6-unicast' || kind !== 'own';
        const updates = announcementUpdates(
          {
            family,
            nextHop,
            attributes,
            prefixes,
            ...(kind === 'ipv6+link-local' ? { linkLocalNextHop: ip('fe80::11') } : {}),
          },
          FOUR,
        );
        const back: BgpPrefix[] = [];
        for (const update of updates) {
          const bytes = encodeUpdateMessage(update, FOUR);
          assert.ok(bytes.length <= 4096);
          const outcome = decodeUpdateMessage(bytes, FOUR);
          assert.notEqual(outcome.kind, 'session-reset');
          if (outcome.kind !== 'session-reset') back.push(...announcedPrefixes(outcome.update));
          if (multiprotocol) {
            assert.equal(update.pathAttributes[0]?.type, 'mp-reach-nlri', 'RFC 7606 section 5.1: MP_REACH_NLRI first');
            assert.equal(update.nlri.length, 0);
            assert.ok(!update.pathAttributes.some((a) => a.type === 'next-hop'), 'no NEXT_HOP with MP_REACH_NLRI');
          }
        }
        assert.deepEqual(back, prefixes);
        if (prefixes.length === 0) assert.equal(updates.length, 0);
      }),
      { numRuns: 100 },
    );
  });

  it('withdrawalUpdates: 1000 /32s fit in two UPDATEs (5 bytes each, 4073 bytes of room)', () => {
    const prefixes = Array.from({ length: 1000 }, (_, i) => ({
      family: 4 as const,
      address: ipv4(10, 0, i >> 8, i & 0xff),
      length: 32,
    }));
    const updates = withdrawalUpdates('ipv4-unicast', prefixes);
    assert.equal(updates.length, 2);
    assert.equal(updates[0]?.withdrawnRoutes.length, 814);
    assert.ok(updates.every((update) => encodeUpdateMessage(update, FOUR).length <= 4096));
    const v6 = withdrawalUpdates('ipv6-unicast', [prefix('2001:db8::1/128')]);
    assert.deepEqual(v6[0]?.pathAttributes, [
      { type: 'mp-unreach-nlri', family: 'ipv6-unicast', withdrawnRoutes: [prefix('2001:db8::1/128')] },
    ]);
  });

  it('RFC 4271 section 9: unrecognized optional transitive attributes go on with the Partial bit, non-transitive ones are dropped', () => {
    const attributes: PathAttribute[] = [
      { type: 'origin', origin: 'igp' },
      { type: 'other', code: 99, flags: 0xc0, value: Uint8Array.of(1) },
      { type: 'other', code: 98, flags: 0x80, value: Uint8Array.of(2) },
    ];
    assert.deepEqual(propagatedAttributes(attributes), [
      { type: 'origin', origin: 'igp' },
      { type: 'other', code: 99, flags: 0xe0, value: Uint8Array.of(1) },
    ]);
    const bytes = encodeUpdateMessage(
      { type: 'update', withdrawnRoutes: [], pathAttributes: propagatedAttributes(attributes), nlri: [] },
      FOUR,
    );
    assert.equal(toHex(bytes.subarray(23)), '40010100e0630101');
  });

  it('encoding refuses what the wire cannot carry (RangeError)', () => {
    const base = { type: 'update' as const, withdrawnRoutes: [], pathAttributes: [], nlri: [] };
    assert.throws(() => encodeUpdateMessage({ ...base, nlri: [prefix('2001:db8::/32')] }, FOUR), RangeError);
    assert.throws(
      () => encodeUpdateMessage({ ...base, nlri: Array.from({ length: 900 }, () => prefix('203.0.113.0/32')) }, FOUR),
      RangeError,
    );
    assert.throws(
      () =>
        encodeUpdateMessage(
          { ...base, pathAttributes: [{ type: 'as-path', segments: [{ type: 'sequence', asns: [] }] }] },
          FOUR,
        ),
      RangeError,
    );
    assert.throws(
      () => encodeUpdateMessage({ ...base, pathAttributes: [{ type: 'next-hop', nextHop: ip('2001:db8::1') }] }, FOUR),
      RangeError,
    );
  });
});
