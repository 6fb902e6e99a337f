// update() told which addresses changed (ADR 0037) has the same effect as update() with everything: the same
// sockets open, the same solicited-node groups joined, the same announcements sent.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { OwnedAddress } from './layer2-announcer.ts';
import { ip, rig, V4, V4_B, V6, V6_B, type Rig } from '../../test-support/packet-announcer-rig.ts';

/** Shares its solicited-node group (the low 24 bits) with V6. */
const V6_SAME_GROUP = ip('2001:db8:b::110');
const ADDRESSES = [V4, V4_B, V6, V6_B, V6_SAME_GROUP];

function observed(r: Rig): unknown {
  const channels = r.channels.opened.filter((c) => !c.closed);
  return {
    open: r.channels.openChannels(),
    groups: channels.map((c) => `${c.iface.name}/${c.kind}: ${[...c.memberships].sort().join(' ')}`).sort(),
    sent: ['eth0', 'eth1'].flatMap((name) =>
      (['arp', 'ndp'] as const).map((kind) =>
        r.channels
          .sentOn(name, kind)
          .map((frame) => Buffer.from(frame).toString('hex'))
          .sort(),
      ),
    ),
  };
}

describe('PacketAnnouncer.update with the changed addresses', () => {
  it('opens, joins and announces exactly as a full update does', () => {
    const owned = fc.array(
      fc.record({
        address: fc.constantFrom(...ADDRESSES),
        interfaces: fc.subarray(['eth0', 'eth1']),
      }),
      { maxLength: 5 },
    );
    fc.assert(
      fc.property(fc.array(owned, { maxLength: 12 }), (steps) => {
        const full = rig();
        const incremental = rig();
        let before = new Map<bigint, OwnedAddress>();
        for (const step of steps) {
          const now = new Map<bigint, OwnedAddress>(
            step.map(({ address, interfaces }) => [address, { interfaces, services: ['shop/web'] }]),
          );
          const changed = new Set<bigint>();
          for (const address of new Set([...before.keys(), ...now.keys()]))
            if (before.get(address)?.interfaces.join() !== now.get(address)?.interfaces.join()) changed.add(address);
          full.announcer.update(now);
          incremental.announcer.update(now, changed);
          full.clock.advance(2000);
          incremental.clock.advance(2000);
          assert.deepEqual(observed(incremental), observed(full));
          before = now;
        }
      }),
      { numRuns: 300, seed: 37 },
    );
  });
});
