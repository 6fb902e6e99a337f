// fast-check arbitraries for the link layer, shared by the Ethernet, ARP and NDP property tests: any MAC address
// and any 802.1Q tag.
import fc from 'fast-check';
import { formatMac } from '../ethernet/mac-address.ts';

/** Any MAC address, unicast, multicast or broadcast, in its text form. */
export const anyMac: fc.Arbitrary<string> = fc
  .uint8Array({ minLength: 6, maxLength: 6 })
  .map((bytes) => formatMac(bytes));

/** Any 802.1Q tag: VLAN 0-4095, priority 0-7, drop-eligible or not. */
export const anyVlan: fc.Arbitrary<{ id: number; priority: number; dropEligible: boolean }> = fc
  .tuple(fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 0, max: 7 }), fc.boolean())
  .map(([id, priority, dropEligible]) => ({ id, priority, dropEligible }));
