import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BGPPeer } from '../../core/config/api-types.generated.ts';
import { parseIp } from '../../core/ip/ip-address.ts';
import type { InterfaceTable, NetInterface } from '../../platform/network-interfaces.ts';
import { nodeAddresses, sessionSettings, type SettingsContext } from './session-settings.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  assert.ok(parsed.ok);
  return parsed.value;
};
/** An interface that is up, with its addresses given as address/prefix-length. */
const iface = (name: string, index: number, mac: string, cidrs: string[]): NetInterface => ({
  name,
  index,
  mac,
  up: true,
  addresses: cidrs.map((cidr) => {
    const [text = '', length = ''] = cidr.split('/');
    return { family: text.includes(':') ? 6 : 4, address: ip(text), prefixLength: Number(length) };
  }),
});
const table: InterfaceTable = {
  interfaces: [
    iface('lo', 1, '', ['127.0.0.1/8']),
    iface('eth0', 2, '02:00:00:00:00:01', ['198.51.100.11/25', 'fe80::1/64', '2001:db8:a::b/64']),
  ],
  defaultRoute: {},
};
const peer = (spec: Partial<BGPPeer['spec']> = {}): BGPPeer => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'BGPPeer',
  metadata: { name: 'router' },
  spec: { myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1', ...spec },
});
const context = (secrets: Record<string, string> = {}): SettingsContext => ({
  interfaces: table,
  password: (name, key) => secrets[`${name}/${key}`],
  restarting: true,
});

describe('sessionSettings', () => {
  it('defaults: node IPv4 as identifier, both families, TTL 1 for single-hop eBGP, 90 s hold, port 179', () => {
    const s = sessionSettings(peer(), context());
    assert.ok(s.ok);
    assert.equal(s.value.config.bgpIdentifier, ip('198.51.100.11'));
    assert.deepEqual(s.value.config.families, ['ipv4-unicast', 'ipv6-unicast']);
    assert.equal(s.value.ttl, 1);
    assert.equal(s.value.config.holdTime, 90);
    assert.equal(s.value.port, 179);
    assert.equal(s.value.md5Key, undefined);
  });

  it('an unnumbered peer (interface alone) connects to the discovered router: IPv6 only, the router in the identity', () => {
    const spec = { interface: 'eth*' };
    const unnumbered = (): BGPPeer => {
      const p = peer(spec);
      delete (p.spec as { peerAddress?: string }).peerAddress;
      return p;
    };
    assert.deepEqual(sessionSettings(unnumbered(), context()), {
      ok: false,
      error: 'no router found on interface eth* yet',
    });
    const found = sessionSettings(unnumbered(), { ...context(), discoveredPeer: 'fe80::8073:d9ff:fe55:ff18' });
    assert.ok(found.ok);
    assert.deepEqual(
      [found.value.peerAddress, found.value.interface, found.value.config.families],
      ['fe80::8073:d9ff:fe55:ff18', 'eth0', ['ipv4-unicast', 'ipv6-unicast']],
    );
    const moved = sessionSettings(unnumbered(), { ...context(), discoveredPeer: 'fe80::2' });
    assert.ok(moved.ok);
    assert.notEqual(moved.value.identity, found.value.identity, 'a new router address restarts the session');
    const both = sessionSettings(
      { ...unnumbered(), spec: { ...unnumbered().spec, addressFamilies: ['ipv6-unicast'] } },
      { ...context(), discoveredPeer: 'fe80::2' },
    );
    assert.ok(both.ok);
    assert.deepEqual(both.value.config.families, ['ipv6-unicast'], 'as asked');
    assert.equal(found.value.config.extendedNextHop, true, 'IPv4 routes go with IPv6 next hops (RFC 8950)');
  });

  it('a link-local peer needs an interface that exists on the node; the interface is part of the identity', () => {
    const ll = sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'eth0' }), context());
    assert.ok(ll.ok);
    assert.equal(ll.value.interface, 'eth0');
    assert.equal(ll.value.peerAddress, 'fe80::2');
    const other = sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'eth1' }), context());
    assert.deepEqual(other, { ok: false, error: 'interface eth1 does not exist on this node' });
    assert.deepEqual(sessionSettings(peer({ peerAddress: 'fe80::2' }), context()), {
      ok: false,
      error: 'peerAddress fe80::2 is link-local: set interface',
    });
    assert.deepEqual(sessionSettings(peer({ interface: 'eth0' }), context()), {
      ok: false,
      error: 'interface is only for a link-local peerAddress',
    });
  });

  it('extended next hop (RFC 8950, ADR 0034): offered over IPv6, link-local or global, never over IPv4; IPv4 unicast is offered over IPv6 on an IPv6-only node', () => {
    const offered = (spec: Partial<BGPPeer['spec']>, interfaces = table): [boolean, string[]] => {
      const s = sessionSettings(peer(spec), { ...context(), interfaces });
      assert.ok(s.ok, s.ok ? '' : s.error);
      return [s.value.config.extendedNextHop === true, [...s.value.config.families]];
    };
    const both = ['ipv4-unicast', 'ipv6-unicast'];
    assert.deepEqual(offered({ peerAddress: 'fe80::2', interface: 'eth0' }), [true, both]);
    assert.deepEqual(offered({ peerAddress: '2001:db8:a::1' }), [true, both]);
    assert.deepEqual(offered({}), [false, both]);
    const v6Only: InterfaceTable = {
      ...table,
      interfaces: table.interfaces.map((i) => ({ ...i, addresses: i.addresses.filter((a) => a.family === 6) })),
    };
    assert.deepEqual(offered({ peerAddress: 'fe80::2', interface: 'eth0', routerID: '198.51.100.11' }, v6Only), [
      true,
      both,
    ]);
  });

  it("a link-local peer's interface may be a pattern: it resolves to the one interface of this node it matches", () => {
    const resolved = sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'e*' }), context());
    assert.ok(resolved.ok);
    assert.equal(resolved.value.interface, 'eth0', 'the connection is scoped to the resolved name');
    const same = sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'eth0' }), context());
    assert.ok(same.ok);
    assert.equal(
      resolved.value.identity,
      same.value.identity,
      'a pattern resolving to eth0 is the same session as eth0',
    );
    assert.deepEqual(sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'enp*' }), context()), {
      ok: false,
      error: 'interface pattern enp* matches no interface on this node',
    });
    assert.deepEqual(
      sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'l?' }), context()),
      {
        ok: false,
        error: 'interface pattern l? matches no interface on this node',
      },
      'lo is never a peering interface',
    );
    const twoUplinks: InterfaceTable = {
      ...table,
      interfaces: [...table.interfaces, { name: 'eth1', index: 3, mac: '02:00:00:00:00:02', up: true, addresses: [] }],
    };
    assert.deepEqual(
      sessionSettings(peer({ peerAddress: 'fe80::2', interface: 'eth*' }), { ...context(), interfaces: twoUplinks }),
      {
        ok: false,
        error:
          'interface pattern eth* matches eth0, eth1 on this node: a link-local peer is reached over one interface; make the pattern match one',
      },
    );
  });

  it("sourceInterface: the session connects from that interface's address of the peer's family, which also names the BGP identifier", () => {
    const twoLinks: InterfaceTable = {
      ...table,
      interfaces: [
        ...table.interfaces,
        iface('bond0', 3, '02:00:00:00:00:03', ['fe80::3/64', '198.51.100.241/32', '2001:db8:f::3/128']),
      ],
    };
    const v4 = sessionSettings(peer({ sourceInterface: 'bond*' }), { ...context(), interfaces: twoLinks });
    assert.ok(v4.ok);
    assert.equal(v4.value.sourceAddress, '198.51.100.241');
    assert.equal(v4.value.config.bgpIdentifier, ip('198.51.100.241'));
    const same = sessionSettings(peer({ sourceAddress: '198.51.100.241' }), { ...context(), interfaces: twoLinks });
    assert.ok(same.ok);
    assert.equal(v4.value.identity, same.value.identity, 'the same session as sourceAddress of that address');
    const v6 = sessionSettings(peer({ peerAddress: '2001:db8:a::1', sourceInterface: 'bond0' }), {
      ...context(),
      interfaces: twoLinks,
    });
    assert.ok(v6.ok);
    assert.equal(v6.value.sourceAddress, '2001:db8:f::3', 'a global IPv6 address, not the link-local one');
    assert.deepEqual(sessionSettings(peer({ sourceInterface: 'bond*' }), context()), {
      ok: false,
      error: 'sourceInterface: interface pattern bond* matches no interface on this node',
    });
    const bare: InterfaceTable = {
      ...table,
      interfaces: [...table.interfaces, iface('bond0', 3, '', ['fe80::3/64'])],
    };
    assert.deepEqual(
      sessionSettings(peer({ peerAddress: '2001:db8:a::1', sourceInterface: 'bond0' }), {
        ...context(),
        interfaces: bare,
      }),
      {
        ok: false,
        error: 'sourceInterface: bond0 has no global IPv6 address to connect from',
      },
    );
  });

  it('dynamicASN: the session takes internal or external as its peer AS; external single-hop gets TTL 1', () => {
    const dynamic = (dynamicASN: 'internal' | 'external'): BGPPeer => {
      const spec: BGPPeer['spec'] = { ...peer({ dynamicASN }).spec };
      delete spec.peerASN;
      return { ...peer(), spec };
    };
    const external = sessionSettings(dynamic('external'), context());
    assert.ok(external.ok);
    assert.deepEqual([external.value.config.peerAs, external.value.ttl], ['external', 1]);
    const internal = sessionSettings(dynamic('internal'), context());
    assert.ok(internal.ok);
    assert.deepEqual([internal.value.config.peerAs, internal.value.ttl], ['internal', undefined]);
  });

  it('multihop eBGP gets TTL 255; iBGP keeps the kernel default', () => {
    const multihop = sessionSettings(peer({ ebgpMultiHop: true }), context());
    assert.ok(multihop.ok);
    assert.equal(multihop.value.ttl, 255);
    const ibgp = sessionSettings(peer({ myASN: 65000 }), context());
    assert.ok(ibgp.ok);
    assert.equal(ibgp.value.ttl, undefined);
  });

  it('reads the password from the Secret; a missing Secret is a problem that names it, never the password', () => {
    const withSecret = sessionSettings(
      peer({ passwordSecretRef: { name: 'bgp' } }),
      context({ 'bgp/password': 's3cret' }),
    );
    assert.ok(withSecret.ok);
    assert.deepEqual(withSecret.value.md5Key, new TextEncoder().encode('s3cret'));
    assert.ok(!withSecret.value.identity.includes('s3cret'));
    const changed = sessionSettings(peer({ passwordSecretRef: { name: 'bgp' } }), context({ 'bgp/password': 'other' }));
    assert.ok(changed.ok);
    assert.notEqual(changed.value.identity, withSecret.value.identity, 'a new password restarts the session');
    const missing = sessionSettings(peer({ passwordSecretRef: { name: 'bgp', key: 'pw' } }), context());
    assert.deepEqual(missing, { ok: false, error: 'the password Secret bgp (key pw) is missing' });
  });

  it('rejects what cannot work, in words', () => {
    assert.deepEqual(sessionSettings(peer({ holdTime: '2s' }), context()), {
      ok: false,
      error: 'holdTime must be 0 or 3s to 65535s',
    });
    assert.deepEqual(sessionSettings(peer({ routerID: '2001:db8::1' }), context()), {
      ok: false,
      error: 'routerID "2001:db8::1" is not an IPv4 address',
    });
    const noV4 = sessionSettings(peer({ peerAddress: '2001:db8:a::1' }), {
      ...context(),
      interfaces: { interfaces: [], defaultRoute: {} },
    });
    assert.deepEqual(noV4, { ok: false, error: 'the node has no IPv4 address to use as BGP identifier: set routerID' });
  });

  it('graceful restart: restart time and the R bit; the R bit does not change the identity', () => {
    const first = sessionSettings(peer({ gracefulRestart: { enabled: true, restartTime: '30s' } }), context());
    const later = sessionSettings(peer({ gracefulRestart: { enabled: true, restartTime: '30s' } }), {
      ...context(),
      restarting: false,
    });
    assert.ok(first.ok && later.ok);
    assert.deepEqual(first.value.config.gracefulRestart, { restartTime: 30, restarting: true, forwardingState: true });
    assert.equal(first.value.identity, later.value.identity);
  });

  it('nodeAddresses skips loopback and link-local', () => {
    assert.deepEqual(nodeAddresses(table, 6), [ip('2001:db8:a::b')]);
    assert.deepEqual(nodeAddresses(table, 4), [ip('198.51.100.11')]);
  });

  it('bfd: intervals in ms, multiplier and passive from spec.bfd (CRD defaults 300 ms x 3), on the interface whose subnet holds the peer', () => {
    const fast = sessionSettings(
      peer({ bfd: { transmitInterval: '100ms', receiveInterval: '150ms', detectMultiplier: 5, passive: true } }),
      context(),
    );
    assert.ok(fast.ok);
    assert.deepEqual(fast.value.bfd?.settings, {
      desiredMinTxMs: 100,
      requiredMinRxMs: 150,
      detectMultiplier: 5,
      passive: true,
    });
    assert.deepEqual(fast.value.bfd.path, {
      peerAddress: '198.51.100.1',
      family: 4,
      interfaceName: 'eth0',
      localAddress: '198.51.100.11',
    });
    const plain = sessionSettings(peer({ bfd: {}, peerAddress: '2001:db8:a::1' }), context());
    assert.ok(plain.ok);
    assert.deepEqual(plain.value.bfd?.settings, {
      desiredMinTxMs: 300,
      requiredMinRxMs: 300,
      detectMultiplier: 3,
      passive: false,
    });
    assert.equal(plain.value.bfd.path.localAddress, '2001:db8:a::b', 'the global address, not the link-local one');
    const none = sessionSettings(peer(), context());
    assert.ok(none.ok);
    assert.equal(none.value.bfd, undefined);
  });

  it('bfd: the BGP identity does not change with spec.bfd (BFD changes never restart the BGP session)', () => {
    const a = sessionSettings(peer({ bfd: { transmitInterval: '100ms' } }), context());
    const b = sessionSettings(peer({ bfd: { transmitInterval: '200ms' } }), context());
    assert.ok(a.ok && b.ok);
    assert.equal(a.value.identity, b.value.identity);
    assert.notEqual(a.value.bfd?.key, b.value.bfd?.key);
  });

  it('bfd: a router on no connected subnet (it would need multihop BFD) and a link-local peer are errors', () => {
    assert.deepEqual(sessionSettings(peer({ bfd: {}, peerAddress: '203.0.113.1' }), context()), {
      ok: false,
      error:
        "bfd: 203.0.113.1 is on no subnet of this node's interfaces; single-hop BFD (RFC 5881) needs a directly connected router",
    });
    const linkLocal = sessionSettings(peer({ bfd: {}, peerAddress: 'fe80::2', interface: 'eth0' }), context());
    assert.equal(linkLocal.ok, false);
  });
});
