// NDP codec against frames captured from Linux (src/protocol/testdata/capture-linux-frames.sh).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { decoded } from '../testdata/decoder-fuzzing.ts';
import { captured, fromHex, toHex } from '../testdata/hex-bytes.ts';
import * as linux from '../testdata/linux-captures.ts';
import { IPV6_ALL_NODES } from './ipv6-packet.ts';
import {
  decodeNdpFrame,
  encodeNdpFrame,
  isNeighborSolicitationFrame,
  neighborAdvertisementFrameFor,
  unsolicitedNeighborAdvertisement,
  type NdpFrame,
  type NeighborAdvertisement,
  type NeighborSolicitation,
} from './neighbor-discovery.ts';

describe('NDP frames captured from Linux (capture-linux-frames.sh)', () => {
  const MAC_A = '02:bb:00:00:00:0a';
  const MAC_A_NEW = '02:bb:00:00:00:1a';
  const MAC_B = '02:bb:00:00:00:0b';
  const A = 0x2001_0db8_0100_0000_0000_0000_0000_000an;
  const B = 0x2001_0db8_0100_0000_0000_0000_0000_000bn;
  const SOLICITED_A = 0xff02_0000_0000_0000_0000_0001_ff00_000an;
  const SOLICITED_B = 0xff02_0000_0000_0000_0000_0001_ff00_000bn;
  const ns = (
    source: bigint,
    destination: bigint,
    target: bigint,
    sourceLinkLayerAddress?: string,
  ): NeighborSolicitation =>
    sourceLinkLayerAddress === undefined
      ? { type: 'neighbor-solicitation', source, destination, target }
      : { type: 'neighbor-solicitation', source, destination, target, sourceLinkLayerAddress };
  const na = (
    source: bigint,
    destination: bigint,
    flags: string,
    targetLinkLayerAddress?: string,
  ): NeighborAdvertisement => ({
    type: 'neighbor-advertisement',
    source,
    destination,
    target: source,
    router: flags.includes('R'),
    solicited: flags.includes('S'),
    override: flags.includes('O'),
    ...(targetLinkLayerAddress === undefined ? {} : { targetLinkLayerAddress }),
  });

  const cases: Array<[name: string, bytes: Uint8Array, expected: NdpFrame]> = [
    [
      'kernel solicitation (ping -6): to the solicited-node group, with a source link-layer address option',
      captured(linux.kernelPing6, 0),
      { destination: '33:33:ff:00:00:0b', source: MAC_A, message: ns(A, SOLICITED_B, B, MAC_A) },
    ],
    [
      'kernel answer to a multicast solicitation: unicast, S and O, target link-layer address option',
      captured(linux.kernelPing6, 1),
      { destination: MAC_A, source: MAC_B, message: na(B, A, 'SO', MAC_B) },
    ],
    [
      'ndisc6 solicitation: the same, but with a flow label',
      captured(linux.ndisc6Solicit, 0),
      {
        destination: '33:33:ff:00:00:0b',
        source: MAC_A,
        message: { ...ns(A, SOLICITED_B, B, MAC_A), flowLabel: 0x35cf6 },
      },
    ],
    [
      'kernel answer to a unicast solicitation: S only, no option (RFC 4861 7.2.4 "MAY be omitted")',
      captured(linux.injectedUnicastSolicit, 1),
      { destination: MAC_A, source: MAC_B, message: na(B, A, 'S') },
    ],
    [
      'python-built unicast solicitation without an option',
      captured(linux.injectedUnicastSolicitNoOption, 0),
      { destination: MAC_B, source: MAC_A, message: ns(A, B, B) },
    ],
    [
      'kernel resolving the soliciting address first before answering an option-less unicast solicitation',
      captured(linux.injectedUnicastSolicitNoOption, 1),
      { destination: '33:33:ff:00:00:0a', source: MAC_B, message: ns(B, SOLICITED_A, A, MAC_B) },
    ],
    [
      'python-built DAD solicitation from ::',
      captured(linux.injectedDadSolicit, 0),
      { destination: '33:33:ff:00:00:0b', source: MAC_A, message: ns(0n, SOLICITED_B, B) },
    ],
    [
      'kernel answer to DAD: to ff02::1, O only, from the target address',
      captured(linux.injectedDadSolicit, 1),
      { destination: '33:33:00:00:00:01', source: MAC_B, message: na(B, IPV6_ALL_NODES, 'O', MAC_B) },
    ],
    [
      'kernel unsolicited advertisement (ndisc_notify on a MAC change)',
      captured(linux.kernelNotify, 1),
      { destination: '33:33:00:00:00:01', source: MAC_A_NEW, message: na(A, IPV6_ALL_NODES, 'O', MAC_A_NEW) },
    ],
  ];
  for (const [name, bytes, expected] of cases) {
    it(`${name}: every field, and re-encoding gives the same bytes`, () => {
      assert.deepEqual(decoded(decodeNdpFrame(bytes)), expected);
      assert.equal(toHex(encodeNdpFrame(expected)), toHex(bytes));
    });
  }

  it('every captured NDP frame decodes and re-encodes to the same bytes', () => {
    const frames = Object.values(linux)
      .flat()
      .filter((hex) => hex.slice(24, 28) === '86dd');
    assert.equal(frames.length, 13);
    for (const hex of frames) assert.equal(toHex(encodeNdpFrame(decoded(decodeNdpFrame(fromHex(hex))))), hex);
  });

  it('neighborAdvertisementFrameFor answers multicast and DAD solicitations exactly as the Linux kernel did', () => {
    for (const [list, index] of [
      [linux.kernelPing6, 0],
      [linux.ndisc6Solicit, 0],
      [linux.injectedDadSolicit, 0],
    ] as const) {
      const request = decoded(decodeNdpFrame(captured(list, index)));
      assert.ok(isNeighborSolicitationFrame(request));
      assert.equal(
        toHex(encodeNdpFrame(neighborAdvertisementFrameFor(request, MAC_B, B))),
        toHex(captured(list, index + 1)),
      );
    }
  });

  it('unsolicitedNeighborAdvertisement is byte for byte the kernel announcement', () => {
    assert.equal(
      toHex(encodeNdpFrame({ source: MAC_A_NEW, message: unsolicitedNeighborAdvertisement(MAC_A_NEW, A) })),
      toHex(captured(linux.kernelNotify, 1)),
    );
  });

  it('to a unicast solicitation we answer with O set and our MAC where Linux leaves both out, and skip its extra resolution', () => {
    for (const list of [linux.injectedUnicastSolicit, linux.injectedUnicastSolicitNoOption]) {
      const request = decoded(decodeNdpFrame(captured(list, 0)));
      assert.ok(isNeighborSolicitationFrame(request));
      const ours = neighborAdvertisementFrameFor(request, MAC_B, B);
      const linuxAnswer = decoded(decodeNdpFrame(captured(list, list.length - 1)));
      assert.deepEqual(ours, {
        ...linuxAnswer,
        message: { ...linuxAnswer.message, override: true, targetLinkLayerAddress: MAC_B },
      });
    }
  });
});
