import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { decodeErrorOf, decoded, roundTripCheck, fuzzDecoder } from '../testdata/decoder-fuzzing.ts';
import { atOffset, fromHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import {
  ETHERNET_MIN_FRAME_LENGTH,
  ETHERTYPE_ARP,
  ETHERTYPE_IPV6,
  decodeEthernetFrame,
  encodeEthernetFrame,
  type EthernetFrame,
} from './ethernet-frame.ts';
import { anyMac, anyVlan } from '../testdata/ethernet-arbitraries.ts';

const ALL_LINUX_FRAMES = Object.values(linux).flat().map(fromHex);

// An ARP request in Ethernet II framing (RFC 894 layout: destination, source, EtherType), unpadded.
const ARP_PAYLOAD = '0001 0800 06 04 0001 00005e005301 c6336401 000000000000 c6336402';
const UNTAGGED = fromHex(`ffffffffffff 00005e005301 0806 ${ARP_PAYLOAD}`);
// The same with an IEEE 802.1Q tag: TPID 0x8100, TCI = PCP 5, DEI 1, VID 100 = 0xb064.
const TAGGED = fromHex(`ffffffffffff 00005e005301 8100 b064 0806 ${ARP_PAYLOAD}`);

const anyEtherType = fc
  .integer({ min: 0x0600, max: 0xffff })
  .filter((type) => type !== 0x8100 && type !== 0x88a8 && type !== 0x9100);
const anyFrame: fc.Arbitrary<EthernetFrame> = fc
  .tuple(anyMac, anyMac, anyEtherType, fc.uint8Array({ maxLength: 100 }), fc.option(anyVlan, { nil: undefined }))
  .map(([destination, source, etherType, payload, vlan]) =>
    vlan === undefined
      ? { destination, source, etherType, payload }
      : { destination, source, etherType, payload, vlan },
  );

describe('decodeEthernetFrame', () => {
  it('RFC 894 Ethernet II: destination, source, EtherType, payload', () => {
    const frame = decoded(decodeEthernetFrame(UNTAGGED));
    assert.deepEqual(frame, {
      destination: 'ff:ff:ff:ff:ff:ff',
      source: '00:00:5e:00:53:01',
      etherType: ETHERTYPE_ARP,
      payload: fromHex(ARP_PAYLOAD),
    });
  });

  it('IEEE 802.1Q-2018 section 9.6: one VLAN tag, reported with its id, priority and drop eligibility', () => {
    const frame = decoded(decodeEthernetFrame(TAGGED));
    assert.deepEqual(frame, {
      destination: 'ff:ff:ff:ff:ff:ff',
      source: '00:00:5e:00:53:01',
      vlan: { id: 100, priority: 5, dropEligible: true },
      etherType: ETHERTYPE_ARP,
      payload: fromHex(ARP_PAYLOAD),
    });
  });

  it('keeps padding in the payload (the protocol inside knows its length)', () => {
    const padded = new Uint8Array(ETHERNET_MIN_FRAME_LENGTH);
    padded.set(UNTAGGED);
    const frame = decoded(decodeEthernetFrame(padded));
    assert.equal(frame.payload.length, 46);
    assert.deepEqual(frame.payload.subarray(0, 28), fromHex(ARP_PAYLOAD));
  });

  it('reads a frame at a byteOffset inside a larger buffer', () => {
    assert.deepEqual(decoded(decodeEthernetFrame(atOffset(TAGGED))), decoded(decodeEthernetFrame(TAGGED)));
  });

  it('reports truncated headers', () => {
    assert.equal(decodeErrorOf(decodeEthernetFrame(new Uint8Array(13))).reason, 'truncated');
    assert.equal(decodeErrorOf(decodeEthernetFrame(TAGGED.subarray(0, 17))).reason, 'truncated');
    assert.equal(decodeErrorOf(decodeEthernetFrame(new Uint8Array(0))).reason, 'truncated');
  });

  it('IEEE 802.3 clause 3.2.6: a length instead of an EtherType is unsupported (LLC frames)', () => {
    const llc = fromHex('0180c2000000 00005e005301 0026 424203000000');
    assert.deepEqual(decodeErrorOf(decodeEthernetFrame(llc)), {
      reason: 'unsupported',
      message: 'Ethernet: type/length field 0x0026 is an IEEE 802.3 length (LLC frame), not an EtherType',
    });
  });

  it('IEEE 802.1ad: service tags and stacked tags are unsupported', () => {
    const serviceTag = fromHex(`ffffffffffff 00005e005301 88a8 0064 8100 0065 0806 ${ARP_PAYLOAD}`);
    assert.equal(decodeErrorOf(decodeEthernetFrame(serviceTag)).reason, 'unsupported');
    const stacked = fromHex(`ffffffffffff 00005e005301 8100 0064 8100 0065 0806 ${ARP_PAYLOAD}`);
    assert.match(decodeErrorOf(decodeEthernetFrame(stacked)).message, /stacked tags are not supported/);
  });

  it('decodes every frame Linux built (capture-linux-frames.sh) and re-encodes it to the same bytes, unpadded', () => {
    assert.ok(ALL_LINUX_FRAMES.length >= 20);
    for (const bytes of ALL_LINUX_FRAMES) {
      const frame = decoded(decodeEthernetFrame(bytes));
      assert.ok(frame.etherType === ETHERTYPE_ARP || frame.etherType === ETHERTYPE_IPV6);
      assert.equal(frame.vlan, undefined);
      assert.deepEqual(encodeEthernetFrame(frame, { padToMinimum: false }), bytes);
    }
  });
});

describe('encodeEthernetFrame', () => {
  it('writes the RFC 894 and 802.1Q layouts, padding to 60 bytes by default and not when asked', () => {
    const untagged = {
      destination: 'ff:ff:ff:ff:ff:ff',
      source: '00:00:5e:00:53:01',
      etherType: ETHERTYPE_ARP,
      payload: fromHex(ARP_PAYLOAD),
    };
    assert.deepEqual(encodeEthernetFrame(untagged, { padToMinimum: false }), UNTAGGED);
    const padded = encodeEthernetFrame(untagged);
    assert.equal(padded.length, 60);
    assert.deepEqual(padded.subarray(0, UNTAGGED.length), UNTAGGED);
    assert.ok(padded.subarray(UNTAGGED.length).every((byte) => byte === 0));
    const tagged = { ...untagged, vlan: { id: 100, priority: 5, dropEligible: true } };
    assert.deepEqual(encodeEthernetFrame(tagged, { padToMinimum: false }), TAGGED);
    assert.equal(encodeEthernetFrame(tagged).length, 60);
  });

  it('does not pad frames that are long enough', () => {
    const payload = new Uint8Array(100).fill(7);
    assert.equal(
      encodeEthernetFrame({
        destination: '33:33:00:00:00:01',
        source: '02:bb:00:00:00:0a',
        etherType: ETHERTYPE_IPV6,
        payload,
      }).length,
      114,
    );
  });

  it('throws RangeError on bugs: tag types or lengths as EtherType, VLAN fields out of range, bad MAC text', () => {
    const frame = {
      destination: 'ff:ff:ff:ff:ff:ff',
      source: '00:00:5e:00:53:01',
      etherType: ETHERTYPE_ARP,
      payload: new Uint8Array(0),
    };
    assert.throws(() => encodeEthernetFrame({ ...frame, etherType: 0x8100 }), RangeError);
    assert.throws(() => encodeEthernetFrame({ ...frame, etherType: 0x05dc }), RangeError);
    assert.throws(() => encodeEthernetFrame({ ...frame, etherType: 0x10000 }), RangeError);
    assert.throws(
      () => encodeEthernetFrame({ ...frame, vlan: { id: 4096, priority: 0, dropEligible: false } }),
      RangeError,
    );
    assert.throws(
      () => encodeEthernetFrame({ ...frame, vlan: { id: 1, priority: 8, dropEligible: false } }),
      RangeError,
    );
    assert.throws(() => encodeEthernetFrame({ ...frame, source: 'FF:FF:FF:FF:FF:FF' }), RangeError);
  });

  it('round-trips any frame (property), unpadded exactly and padded up to the zero padding', () => {
    fc.assert(
      fc.property(anyFrame, (frame) => {
        assert.deepEqual(decoded(decodeEthernetFrame(encodeEthernetFrame(frame, { padToMinimum: false }))), frame);
        const padded = decoded(decodeEthernetFrame(encodeEthernetFrame(frame)));
        assert.deepEqual(padded.payload.subarray(0, frame.payload.length), frame.payload);
        assert.ok(padded.payload.subarray(frame.payload.length).every((byte) => byte === 0));
      }),
    );
  });
});

describe('decodeEthernetFrame fuzz', () => {
  /** A well-formed result, and a decoded frame re-encodes (unpadded) and decodes to itself. */
  const check = roundTripCheck(decodeEthernetFrame, (frame: EthernetFrame) =>
    encodeEthernetFrame(frame, { padToMinimum: false }),
  );
  fuzzDecoder('', check, [UNTAGGED, TAGGED, ...ALL_LINUX_FRAMES], 'frames');
});
