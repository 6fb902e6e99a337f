// PacketAnnouncer: takeover announcements, the rate limit, close, and properties over random frames. Answers to ARP
// and NDP: packet-announcer-answers.test.ts; channels, multicast groups and interface changes: packet-announcer-channels.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { type ArpFrame } from '../../protocol/arp/arp-packet.ts';
import { BROADCAST_MAC, ZERO_MAC } from '../../protocol/ethernet/mac-address.ts';
import { IPV6_ALL_NODES, IPV6_UNSPECIFIED } from '../../protocol/ndp/ipv6-packet.ts';
import type { OwnedAddress } from './layer2-announcer.ts';
import {
  ip,
  ETH0_MAC,
  ETH1_MAC,
  V4,
  V4_B,
  V4_SEGMENT_B,
  V6,
  V6_B,
  BOTH_ON_ETH0,
  rig,
  owning,
  answering,
  openChannel,
  arpRequest,
  neighborSolicitation,
  decodedArp,
  decodedAdvertisements,
} from '../../test-support/packet-announcer-rig.ts';

describe('PacketAnnouncer', () => {
  describe('takeover announcements', () => {
    it('sends RFC 5227 gratuitous ARP announcements at the burst delays, then stops', () => {
      const r = rig();
      r.announcer.update(owning([[V4, ['eth0']]]));
      const sent = (): ArpFrame[] => decodedArp(r.channels.sentOn('eth0', 'arp'));
      assert.equal(sent().length, 1, 'the first at once');
      const [garp] = sent();
      assert.deepEqual(garp, {
        destination: BROADCAST_MAC,
        source: ETH0_MAC,
        packet: { op: 'request', senderMac: ETH0_MAC, senderIp: V4, targetMac: ZERO_MAC, targetIp: V4 },
      });
      r.clock.advance(249);
      assert.equal(sent().length, 1);
      r.clock.advance(1);
      assert.equal(sent().length, 2, 'the second at 250 ms');
      r.clock.advance(749);
      assert.equal(sent().length, 2);
      r.clock.advance(1);
      assert.equal(sent().length, 3, 'the third at 1000 ms');
      r.clock.advance(60_000);
      assert.equal(sent().length, 3, 'no periodic announcements when the interval is 0');
      for (const frame of sent()) assert.deepEqual(frame, garp);
      assert.equal(r.metrics.announcements.arp, 3);
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 0);
    });

    it('sends unsolicited Neighbor Advertisements (Override 1, Solicited 0) to all-nodes for an IPv6 address', () => {
      const r = rig();
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.clock.advance(1000);
      const sent = decodedAdvertisements(r.channels.sentOn('eth0', 'ndp'));
      assert.equal(sent.length, 3);
      for (const frame of sent) {
        assert.equal(frame.destination, '33:33:00:00:00:01');
        assert.equal(frame.source, ETH0_MAC);
        assert.equal(frame.message.destination, IPV6_ALL_NODES);
        assert.equal(frame.message.source, V6);
        assert.equal(frame.message.target, V6);
        assert.equal(frame.message.override, true);
        assert.equal(frame.message.solicited, false);
        assert.equal(frame.message.router, false);
        assert.equal(frame.message.targetLinkLayerAddress, ETH0_MAC);
      }
      assert.equal(r.metrics.announcements.ndp, 3);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0);
    });

    it('announces only newly owned addresses when the owned set grows', () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.channels.clearSent();
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V4_B, ['eth0']],
        ]),
      );
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth0', 'arp')).map((f) => f.packet.senderIp),
        [V4_B],
      );
    });

    it("announces an address owned on two interfaces on each, with that interface's MAC", () => {
      const r = rig({ burstMs: [0] });
      r.announcer.update(owning([[V4, ['eth0', 'eth1']]]));
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth0', 'arp')).map((f) => f.packet.senderMac),
        [ETH0_MAC],
      );
      assert.deepEqual(
        decodedArp(r.channels.sentOn('eth1', 'arp')).map((f) => f.packet.senderMac),
        [ETH1_MAC],
      );
    });

    it('re-announces every owned address every announceIntervalMs, until it is no longer owned', () => {
      const r = rig({ burstMs: [0], announceIntervalMs: 10_000 });
      r.announcer.update(owning(BOTH_ON_ETH0));
      r.channels.clearSent();
      r.clock.advance(9_999);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0);
      r.clock.advance(1);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 1);
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 1);
      r.clock.advance(20_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 3);
      r.announcer.update(owning([[V6, ['eth0']]]));
      r.channels.clearSent();
      r.clock.advance(30_000);
      assert.equal(r.channels.sentOn('eth0', 'arp').length, 0, 'the released address is not announced');
      assert.equal(r.channels.sentOn('eth0', 'ndp').length, 3);
    });
  });

  describe('rate limit', () => {
    it('answers at most the burst at once, then at the rate, per interface and protocol', () => {
      // 20 per second: a burst of max(16, 20 / 10) = 16, then one every 50 ms.
      const r = rig({ maxAnswersPerSecond: 20, burstMs: [0] });
      r.announcer.update(
        owning([
          [V4, ['eth0', 'eth1']],
          [V6, ['eth0']],
        ]),
      );
      r.channels.clearSent();
      const arp0 = openChannel(r, 'eth0', 'arp');
      for (let i = 0; i < 20; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
      assert.equal(r.metrics.answers.arp, 16);
      assert.equal(r.metrics.limited.arp, 4);
      // Other interfaces and the other protocol have buckets of their own.
      const arp1 = openChannel(r, 'eth1', 'arp');
      for (let i = 0; i < 16; i++) arp1.receive(arpRequest(V4));
      assert.equal(arp1.sent.length, 16);
      const ndp0 = openChannel(r, 'eth0', 'ndp');
      for (let i = 0; i < 16; i++) ndp0.receive(neighborSolicitation(V6));
      assert.equal(ndp0.sent.length, 16);
      // Refill: one token per 50 ms.
      r.clock.advance(49);
      arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
      r.clock.advance(1);
      arp0.receive(arpRequest(V4));
      arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 17);
      assert.equal(r.metrics.limited.arp, 6);
      // A second later the whole burst is back, no more.
      r.clock.advance(10_000);
      for (let i = 0; i < 20; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 17 + 16);
    });

    it('does not count takeover and periodic announcements against the answer budget', () => {
      const r = rig({
        maxAnswersPerSecond: 20,
        burstMs: [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19],
      });
      r.announcer.update(owning([[V4, ['eth0']]]));
      r.clock.advance(19);
      assert.equal(r.metrics.announcements.arp, 20);
      r.channels.clearSent();
      const arp0 = openChannel(r, 'eth0', 'arp');
      for (let i = 0; i < 16; i++) arp0.receive(arpRequest(V4));
      assert.equal(arp0.sent.length, 16);
    });
  });

  describe('close', () => {
    it('closes every channel, cancels pending announcements and ignores later updates', () => {
      const r = rig({ announceIntervalMs: 10_000 });
      r.announcer.update(
        owning([
          [V4, ['eth0']],
          [V6, ['eth1']],
        ]),
      );
      r.announcer.close();
      assert.deepEqual(r.channels.openChannels(), []);
      r.channels.clearSent();
      r.clock.advance(60_000);
      assert.equal(r.clock.pendingTimers, 0);
      r.announcer.update(owning([[V4_B, ['eth0']]]));
      r.announcer.interfacesChanged();
      assert.deepEqual(r.channels.openChannels(), []);
      assert.equal(
        r.channels.opened.reduce((n, c) => n + c.sent.length, 0),
        0,
      );
    });
  });

  describe('properties', () => {
    const v4Pool = [V4, V4_B, ip('198.51.100.12'), V4_SEGMENT_B];
    const v6Pool = [V6, V6_B, ip('2001:db8:b::110'), ip('2001:db8:b::5')];
    const ownedArb = fc.array(
      fc.tuple(fc.constantFrom(...v4Pool, ...v6Pool), fc.subarray(['eth0', 'eth1'], { minLength: 1 })),
      { maxLength: 6 },
    );
    const requestArb = fc.tuple(fc.constantFrom('eth0', 'eth1'), fc.constantFrom(...v4Pool, ...v6Pool), fc.boolean());

    it('answers a request exactly when its target is owned on the interface it arrived on', () => {
      fc.assert(
        fc.property(ownedArb, fc.array(requestArb, { maxLength: 12 }), (entries, requests) => {
          const r = rig({ burstMs: [0] });
          const owned = new Map<bigint, OwnedAddress>();
          for (const [address, interfaces] of entries) owned.set(address, { interfaces, services: ['shop/web'] });
          r.announcer.update(owned);
          for (const [name, target, withOption] of requests) {
            const v4 = v4Pool.includes(target);
            const channel = r.channels.channel(name, v4 ? 'arp' : 'ndp');
            const ownedHere = owned.get(target)?.interfaces.includes(name) ?? false;
            if (!channel) {
              assert.ok(!ownedHere, `${name} has an open channel for every family it owns`);
              continue;
            }
            const before = channel.sent.length;
            channel.receive(
              v4 ? arpRequest(target) : neighborSolicitation(target, withOption ? {} : { linkLayer: undefined }),
            );
            assert.equal(channel.sent.length - before, ownedHere ? 1 : 0);
            const mac = name === 'eth0' ? ETH0_MAC : ETH1_MAC;
            for (const frame of channel.sent.slice(before)) {
              if (v4) assert.equal(decodedArp([frame])[0]?.packet.senderMac, mac);
              else assert.equal(decodedAdvertisements([frame])[0]?.message.targetLinkLayerAddress, mac);
            }
          }
          r.announcer.close();
        }),
        { numRuns: 200 },
      );
    });

    it('never throws on damaged or random frames, and answers nothing but valid requests for an owned address', () => {
      const r = answering(BOTH_ON_ETH0);
      const arp = openChannel(r, 'eth0', 'arp');
      const ndp = openChannel(r, 'eth0', 'ndp');
      const valid = [
        arpRequest(V4),
        neighborSolicitation(V6),
        neighborSolicitation(V6, { source: IPV6_UNSPECIFIED, linkLayer: undefined }),
      ];
      // A valid request with one byte flipped and possibly cut short.
      const mutated = fc
        .tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 1, max: 255 }), fc.nat({ max: 40 }))
        .map(([frame, at, flip, cut]) => {
          const copy = Uint8Array.from(frame);
          const index = at % copy.length;
          copy[index] = (copy[index] ?? 0) ^ flip;
          return copy.subarray(0, copy.length - cut);
        });
      fc.assert(
        fc.property(fc.oneof(fc.uint8Array({ maxLength: 90 }), mutated), (bytes) => {
          arp.receive(bytes);
          ndp.receive(bytes);
          for (const frame of arp.sent) {
            const reply = decodedArp([frame])[0];
            assert.equal(reply?.packet.op, 'reply');
            assert.equal(reply.packet.senderIp, V4, 'any answer is for the owned address');
          }
          for (const frame of ndp.sent) assert.equal(decodedAdvertisements([frame])[0]?.message.target, V6);
        }),
        { numRuns: 500 },
      );
    });
  });
});
