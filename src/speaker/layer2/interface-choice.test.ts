import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { IPV4_MAPPED_BASE, parseIp, type IpFamily } from '../../core/ip/ip-address.ts';
import type { InterfaceAddress, InterfaceTable, NetInterface } from '../../platform/network-interfaces.ts';
import { chooseInterfaces } from './interface-choice.ts';

/** The address of a text form, failing the test on an error. */
function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
}

/** An interface from `address/prefix` texts. */
function iface(name: string, index: number, up: boolean, cidrs: string[]): NetInterface {
  return {
    name,
    index,
    mac: `02:00:00:00:00:${index.toString(16).padStart(2, '0')}`,
    up,
    addresses: cidrs.map((cidr) => {
      const [text = '', prefix = ''] = cidr.split('/');
      const address = ip(text);
      const family: IpFamily = text.includes(':') ? 6 : 4;
      return { family, address, prefixLength: Number(prefix) };
    }),
  };
}

/**
 * A node of the lab's segment A, plus a second uplink on segment B and a down interface:
 *   eth0  198.51.100.11/25, 2001:db8:a::11/64   (default route of both families)
 *   eth1  203.0.113.11/24,  2001:db8:b::11/64
 *   eth2  down, 198.51.100.200/25
 */
function labNode(overrides: Partial<InterfaceTable> = {}): InterfaceTable {
  return {
    interfaces: [
      iface('lo', 1, true, ['127.0.0.1/8', '::1/128']),
      iface('eth0', 2, true, ['198.51.100.11/25', '2001:db8:a::11/64', 'fe80::11/64']),
      iface('eth1', 3, true, ['203.0.113.11/24', '2001:db8:b::11/64']),
      iface('eth2', 4, false, ['198.51.100.200/25']),
    ],
    defaultRoute: { 4: 'eth0', 6: 'eth0' },
    ...overrides,
  };
}

describe('chooseInterfaces', () => {
  describe('named by the advertisements', () => {
    it('returns the named interfaces that are up, whatever their subnets', () => {
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['eth1'], labNode()), ['eth1']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:a::20'), ['eth0', 'eth1'], labNode()), ['eth0', 'eth1']);
    });

    it('leaves out named interfaces that are down or absent, and does not fall back to subnets', () => {
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['eth2', 'eth9'], labNode()), []);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['eth2', 'eth1'], labNode()), ['eth1']);
    });

    it("matches patterns against this node's own interface names, with plain names alongside", () => {
      const table = labNode();
      table.interfaces.push(iface('enp3s0', 5, true, []), iface('enp3s0f1', 6, true, []), iface('bond0', 7, false, []));
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['enp*s0'], table), ['enp3s0']);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['eth[!0]', 'enp3s0f1'], table), ['eth1', 'enp3s0f1']);
      assert.deepEqual(
        chooseInterfaces(ip('198.51.100.20'), ['bond*'], table),
        [],
        'a matching interface that is down is left out',
      );
      assert.deepEqual(
        chooseInterfaces(ip('198.51.100.20'), ['*'], table),
        ['eth0', 'eth1', 'enp3s0', 'enp3s0f1'],
        'every up interface but lo',
      );
      // The same advertisement on a node whose NICs are named otherwise.
      const other: InterfaceTable = {
        interfaces: [iface('lo', 1, true, []), iface('ens5', 2, true, [])],
        defaultRoute: { 4: 'ens5' },
      };
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['eth*', 'ens*'], other), ['ens5']);
    });

    it('never returns lo, even when named', () => {
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['lo'], labNode()), []);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), ['lo', 'eth0'], labNode()), ['eth0']);
    });
  });

  describe('by subnet', () => {
    it('picks the up interface whose IPv4 subnet contains the address', () => {
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), undefined, labNode()), ['eth0']);
      assert.deepEqual(chooseInterfaces(ip('203.0.113.77'), undefined, labNode()), ['eth1']);
    });

    it('picks the up interface whose IPv6 subnet contains the address', () => {
      assert.deepEqual(chooseInterfaces(ip('2001:db8:a::20'), undefined, labNode()), ['eth0']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:b::ffff:1'), undefined, labNode()), ['eth1']);
    });

    it('respects the prefix boundary: the first and last address of a /25 are in, the next is not', () => {
      assert.deepEqual(chooseInterfaces(ip('198.51.100.0'), undefined, labNode()), ['eth0']);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.127'), undefined, labNode()), ['eth0']);
      // 198.51.100.128/25 is eth2's subnet, and eth2 is down: the default route decides.
      const table = labNode({ defaultRoute: { 4: 'eth1' } });
      assert.deepEqual(chooseInterfaces(ip('198.51.100.128'), undefined, table), ['eth1']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:a:0:ffff:ffff:ffff:ffff'), undefined, labNode()), ['eth0']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:a:1::'), undefined, labNode({ defaultRoute: {} })), []);
    });

    it('returns every up interface whose subnet contains the address, in table order', () => {
      const table = labNode();
      table.interfaces.push(iface('br0', 5, true, ['198.51.100.12/24']), iface('vlan7', 6, true, ['198.51.100.13/26']));
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), undefined, table), ['eth0', 'br0', 'vlan7']);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.100'), undefined, table), ['eth0', 'br0']);
    });

    it('matches host routes (/32, /128) exactly', () => {
      const table = labNode({ defaultRoute: {} });
      table.interfaces.push(iface('dummy0', 7, true, ['203.0.113.200/32', '2001:db8:c::200/128']));
      assert.deepEqual(chooseInterfaces(ip('203.0.113.200'), undefined, table), ['eth1', 'dummy0']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:c::200'), undefined, table), ['dummy0']);
      assert.deepEqual(chooseInterfaces(ip('2001:db8:c::201'), undefined, table), []);
    });

    it('compares only addresses of the same family', () => {
      // ::/0 on an interface holds every IPv6 value, including ::ffff:0:0/96 where IPv4 addresses live in the
      // single address space: an IPv4 address must still not match it.
      const table: InterfaceTable = {
        interfaces: [iface('eth0', 2, true, ['2001:db8:a::11/0']), iface('eth1', 3, true, ['203.0.113.11/24'])],
        defaultRoute: { 4: 'eth1' },
      };
      assert.deepEqual(
        chooseInterfaces(ip('198.51.100.20'), undefined, table),
        ['eth1'],
        'default route, not the IPv6 ::/0',
      );
      assert.deepEqual(chooseInterfaces(ip('2001:db8:ffff::1'), undefined, table), ['eth0']);
    });

    it('does not count lo or down interfaces', () => {
      const table: InterfaceTable = {
        interfaces: [
          iface('lo', 1, true, ['198.51.100.1/24']),
          iface('eth2', 4, false, ['198.51.100.200/24']),
          iface('eth1', 3, true, ['203.0.113.11/24']),
        ],
        defaultRoute: { 4: 'eth1' },
      };
      assert.deepEqual(chooseInterfaces(ip('198.51.100.20'), undefined, table), ['eth1']);
    });
  });

  describe('by default route', () => {
    it('falls back to the default-route interface of the address family', () => {
      const table = labNode({ defaultRoute: { 4: 'eth1', 6: 'eth0' } });
      assert.deepEqual(
        chooseInterfaces(ip('198.51.100.250'), undefined, table),
        ['eth1'],
        'IPv4 outside every up subnet',
      );
      assert.deepEqual(chooseInterfaces(ip('2001:db8:ff::1'), undefined, table), ['eth0'], 'IPv6 outside every subnet');
    });

    it('returns nothing when the family has no default route, or its interface is down or lo', () => {
      assert.deepEqual(chooseInterfaces(ip('2001:db8:ff::1'), undefined, labNode({ defaultRoute: { 4: 'eth0' } })), []);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.250'), undefined, labNode({ defaultRoute: { 4: 'eth2' } })), []);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.250'), undefined, labNode({ defaultRoute: { 4: 'lo' } })), []);
      assert.deepEqual(chooseInterfaces(ip('198.51.100.250'), undefined, labNode({ defaultRoute: { 4: 'eth9' } })), []);
    });
  });

  it('property: returns up interfaces other than lo, and exactly the containing ones when some contain the address', () => {
    const names = ['lo', 'eth0', 'eth1', 'eth2', 'br0'];
    const v4 = fc
      .integer({ min: 0, max: 255 })
      .chain((host) =>
        fc
          .constantFrom(198, 203)
          .map((net) => (net === 198 ? IPV4_MAPPED_BASE + 0xc6336400n : IPV4_MAPPED_BASE + 0xcb007100n) + BigInt(host)),
      );
    const v6 = fc.bigInt({ min: 0n, max: (1n << 96n) - 1n }).map((low) => (0x20010db8n << 96n) | low);
    const address = fc.oneof(v4, v6);
    const ifaceArb = fc.record({
      up: fc.boolean(),
      addresses: fc.array(
        fc.oneof(
          v4.chain((a) =>
            fc
              .integer({ min: 16, max: 32 })
              .map((prefixLength): InterfaceAddress => ({ family: 4, address: a, prefixLength })),
          ),
          v6.chain((a) =>
            fc
              .integer({ min: 32, max: 128 })
              .map((prefixLength): InterfaceAddress => ({ family: 6, address: a, prefixLength })),
          ),
        ),
        { maxLength: 3 },
      ),
    });
    const tableArb = fc
      .tuple(
        fc.array(ifaceArb, { minLength: names.length, maxLength: names.length }),
        fc.constantFrom(...names, undefined),
        fc.constantFrom(...names, undefined),
      )
      .map(([specs, route4, route6]): InterfaceTable => ({
        interfaces: specs.map((spec, i) => ({
          name: names[i] ?? `if${i}`,
          index: i + 1,
          mac: `02:00:00:00:00:0${i}`,
          ...spec,
        })),
        defaultRoute: { ...(route4 ? { 4: route4 } : {}), ...(route6 ? { 6: route6 } : {}) },
      }));
    const named = fc.option(fc.subarray(names), { nil: undefined });
    fc.assert(
      fc.property(address, named, tableArb, (addr, wanted, table) => {
        const chosen = chooseInterfaces(addr, wanted, table);
        const upNames = new Set(table.interfaces.filter((i) => i.up && i.name !== 'lo').map((i) => i.name));
        for (const name of chosen) assert.ok(upNames.has(name), `${name} is up and not lo`);
        assert.equal(new Set(chosen).size, chosen.length, 'no interface twice');
        if (wanted) {
          assert.deepEqual(
            chosen,
            [...upNames].filter((n) => wanted.includes(n)),
          );
          return;
        }
        const family = addr >= IPV4_MAPPED_BASE && addr < IPV4_MAPPED_BASE + (1n << 32n) ? 4 : 6;
        const bits = family === 4 ? 32n : 128n;
        const base = family === 4 ? IPV4_MAPPED_BASE : 0n;
        const containing = table.interfaces
          .filter((i) => upNames.has(i.name))
          .filter((i) =>
            i.addresses.some((a) => {
              if (a.family !== family) return false;
              const shift = bits - BigInt(a.prefixLength);
              return (addr - base) >> shift === (a.address - base) >> shift;
            }),
          )
          .map((i) => i.name);
        if (containing.length > 0) assert.deepEqual(chosen, containing);
        else {
          const route = table.defaultRoute[family];
          assert.deepEqual(chosen, route && upNames.has(route) ? [route] : []);
        }
      }),
      { numRuns: 300 },
    );
  });
});
