import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  FUZZ_RUNS,
  assertDecodeResult,
  decodeErrorOf,
  decoded,
  mutatedFrom,
  randomBytes,
} from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex, toHex } from '../testdata/hex-bytes.ts';
import { icmpv6Checksum } from './icmpv6-checksum.ts';
import {
  decodeRouterAdvertisementFrame,
  encodeRouterAdvertisementFrame,
  encodeRouterSolicitationFrame,
  isIpv6LinkLocal,
} from './router-discovery.ts';

// Captured with tcpdump -U -w on a veth between two network namespaces (Linux 6.18, FRR 8.4.4 bgpd + zebra with
// `neighbor ul0 interface remote-as external` and no other configuration on the router side).
// 82:73:d9:55:ff:18 > 33:33:00:00:00:01: fe80::8073:d9ff:fe55:ff18 > ff02::1: router advertisement, hop limit 64,
// Flags [none], router lifetime 30s, source link-address option 82:73:d9:55:ff:18 (zebra, unsolicited and in
// answer to the solicitation below, 0.15 ms later: the same bytes).
const FRR_RA = fromHex(
  '3333000000018273d955ff1886dd600a544300183afffe800000000000008073d9fffe55ff18ff02000000000000000000000000000186' +
    '0088444000001e000000000000000001018273d955ff18',
);
// 16:ec:52:32:32:02 > 33:33:00:00:00:02: fe80::14ec:52ff:fe32:3202 > ff02::2: router solicitation, source
// link-address option 16:ec:52:32:32:02 (the kernel's, sent on link up with forwarding=0 and accept_ra=1).
const LINUX_RS = fromHex(
  '33330000000216ec5232320286dd6000000000103afffe8000000000000014ec52fffe323202ff0200000000000000000000000000028500' +
    '48ed00000000010116ec52323202',
);
const FRR_ROUTER = 0xfe80_0000_0000_0000_8073_d9ff_fe55_ff18n;
const NODE_LL = 0xfe80_0000_0000_0000_14ec_52ff_fe32_3202n;
const ICMP = 14 + 40;

/** FRR_RA with `edit` applied to its ICMPv6 message and the checksum recomputed (unless keepChecksum). */
function alteredRa(edit: (frame: Uint8Array) => void, keepChecksum = false): Uint8Array {
  const frame = FRR_RA.slice();
  edit(frame);
  if (!keepChecksum) {
    const view = new DataView(frame.buffer);
    view.setUint16(ICMP + 2, 0);
    const length = view.getUint16(14 + 4);
    const src = BigInt(`0x${toHex(frame.subarray(22, 38))}`);
    const dst = BigInt(`0x${toHex(frame.subarray(38, 54))}`);
    view.setUint16(ICMP + 2, icmpv6Checksum(src, dst, frame.subarray(ICMP, ICMP + length)));
  }
  return frame;
}

describe('Router Advertisement decoding (RFC 4861 section 6.1.2)', () => {
  it("FRR's RA: the router's link-local address, its MAC, lifetime and hop limit", () => {
    for (const bytes of [FRR_RA, atOffset(FRR_RA)]) {
      assert.deepEqual(decoded(decodeRouterAdvertisementFrame(bytes)), {
        router: FRR_ROUTER,
        sourceMac: '82:73:d9:55:ff:18',
        sourceLinkLayerAddress: '82:73:d9:55:ff:18',
        routerLifetime: 30,
        curHopLimit: 64,
        managed: false,
        otherConfig: false,
      });
    }
  });

  it('a router lifetime of 0 still names the router (a router that is not a default router)', () => {
    const ra = decoded(decodeRouterAdvertisementFrame(alteredRa((f) => f.fill(0, ICMP + 6, ICMP + 8))));
    assert.equal(ra.routerLifetime, 0);
    assert.equal(ra.router, FRR_ROUTER);
  });

  it('rejects a forwarded RA (hop limit 254), a global source, a bad checksum, code 1', () => {
    const hop = decodeErrorOf(decodeRouterAdvertisementFrame(alteredRa((f) => (f[14 + 7] = 254))));
    assert.equal(hop.reason, 'invalid');
    assert.match(hop.message, /hop limit 254/);
    const global = decodeErrorOf(
      decodeRouterAdvertisementFrame(
        alteredRa((f) => {
          f.set([0x20, 0x01, 0x0d, 0xb8], 14 + 8);
        }),
      ),
    );
    assert.match(global.message, /not a link-local/);
    const checksum = decodeErrorOf(decodeRouterAdvertisementFrame(alteredRa((f) => (f[ICMP + 4] = 63), true)));
    assert.match(checksum.message, /checksum/);
    const code = decodeErrorOf(decodeRouterAdvertisementFrame(alteredRa((f) => (f[ICMP + 1] = 1))));
    assert.match(code.message, /code 1/);
  });

  it('rejects an option of length 0 and one running past the message', () => {
    const zero = decodeErrorOf(decodeRouterAdvertisementFrame(alteredRa((f) => (f[ICMP + 17] = 0))));
    assert.equal(zero.reason, 'malformed');
    const long = decodeErrorOf(decodeRouterAdvertisementFrame(alteredRa((f) => (f[ICMP + 17] = 2))));
    assert.equal(long.reason, 'truncated');
  });

  it('a Router Solicitation, a non-IPv6 frame and a short RA are not taken', () => {
    assert.equal(decodeErrorOf(decodeRouterAdvertisementFrame(LINUX_RS)).reason, 'unsupported');
    const arp = FRR_RA.slice();
    arp.set([0x08, 0x06], 12);
    assert.equal(decodeErrorOf(decodeRouterAdvertisementFrame(arp)).reason, 'unsupported');
    assert.notEqual(decodeErrorOf(decodeRouterAdvertisementFrame(FRR_RA.subarray(0, 60))).reason, undefined);
  });

  it('random and mutated frames decode to a value or a typed error, never a throw', () => {
    fc.assert(
      fc.property(fc.oneof(randomBytes, mutatedFrom([FRR_RA, LINUX_RS])), (bytes) => {
        const result = decodeRouterAdvertisementFrame(bytes);
        assertDecodeResult(result);
        if (result.ok) assert.ok(isIpv6LinkLocal(result.value.router));
      }),
      { numRuns: FUZZ_RUNS },
    );
  });
});

describe('Router Solicitation encoding (RFC 4861 section 4.1)', () => {
  it("is byte for byte the Linux kernel's solicitation from the same addresses", () => {
    assert.equal(
      toHex(encodeRouterSolicitationFrame({ sourceMac: '16:ec:52:32:32:02', source: NODE_LL })),
      toHex(LINUX_RS),
    );
  });

  it('from :: (no link-local address yet) it carries no source link-layer address option', () => {
    const frame = encodeRouterSolicitationFrame({ sourceMac: '16:ec:52:32:32:02', source: 0n });
    assert.equal(frame.length, 14 + 40 + 8);
    const message = frame.subarray(ICMP);
    assert.equal(icmpv6Checksum(0n, 0xff02_0000_0000_0000_0000_0000_0000_0002n, message), 0);
  });
});

describe('Router Advertisement encoding (RFC 4861 section 4.2)', () => {
  it("with FRR's fields it is FRR's ICMPv6 message byte for byte (the IPv6 flow label aside), and decodes back", () => {
    const frame = encodeRouterAdvertisementFrame({
      sourceMac: '82:73:d9:55:ff:18',
      source: FRR_ROUTER,
      routerLifetime: 30,
      curHopLimit: 64,
    });
    assert.equal(toHex(frame.subarray(ICMP)), toHex(FRR_RA.subarray(ICMP)));
    assert.equal(toHex(frame.subarray(0, 14)), toHex(FRR_RA.subarray(0, 14)));
    assert.deepEqual(decoded(decodeRouterAdvertisementFrame(frame)), decoded(decodeRouterAdvertisementFrame(FRR_RA)));
  });

  it('the node announcing itself: router lifetime 0; a source that is not link-local is a bug', () => {
    const frame = encodeRouterAdvertisementFrame({
      sourceMac: '16:ec:52:32:32:02',
      source: NODE_LL,
      routerLifetime: 0,
      curHopLimit: 64,
    });
    const ra = decoded(decodeRouterAdvertisementFrame(frame));
    assert.deepEqual([ra.router, ra.routerLifetime], [NODE_LL, 0]);
    assert.throws(
      () =>
        encodeRouterAdvertisementFrame({
          sourceMac: '16:ec:52:32:32:02',
          source: 1n,
          routerLifetime: 0,
          curHopLimit: 64,
        }),
      RangeError,
    );
  });
});

describe('isIpv6LinkLocal', () => {
  it('is fe80::/10 only', () => {
    assert.ok(isIpv6LinkLocal(FRR_ROUTER));
    assert.ok(isIpv6LinkLocal(0xfebf_ffff_0000_0000_0000_0000_0000_0001n));
    assert.ok(!isIpv6LinkLocal(0xfec0_0000_0000_0000_0000_0000_0000_0001n));
    assert.ok(!isIpv6LinkLocal(0x2001_0db8_0000_0000_0000_0000_0000_0001n));
  });
});
