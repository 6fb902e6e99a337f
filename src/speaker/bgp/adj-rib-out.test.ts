// The Adj-RIB-Out alone: the first difference announces everything, later ones only what changed (a removed route
// is withdrawn, a route whose attributes changed is announced again, an unchanged one is not sent), a session that
// went down starts from nothing, and a family without a next hop is not announced.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../core/ip/ip-address.ts';
import { createLogger } from '../../platform/logger.ts';
import { parseBgpPrefix, formatBgpPrefix, type BgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../protocol/bgp/update-message.ts';
import type { AddressFamily } from '../../protocol/bgp/address-family.ts';
import { AdjRibOut, type BgpRoute, type RibSession } from './adj-rib-out.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const prefix = (text: string): BgpPrefix => {
  const parsed = parseBgpPrefix(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
};
const route = (text: string, communities: number[] = []): BgpRoute => ({
  prefix: prefix(text),
  attributes: { communities, largeCommunities: [] },
});

const SESSION: RibSession = {
  families: ['ipv4-unicast', 'ipv6-unicast'],
  external: true,
  fourOctetAs: true,
  codec: { fourOctetAs: true, external: true },
  extendedNextHop: false,
};

const log = createLogger({ level: 'silent', component: 'adj-rib-out-test' });
const announced = (batches: UpdateMessage[][]): string[] =>
  batches.flat().flatMap(announcedPrefixes).map(formatBgpPrefix).sort();
const withdrawn = (batches: UpdateMessage[][]): string[] =>
  batches.flat().flatMap(withdrawnPrefixes).map(formatBgpPrefix).sort();

describe('AdjRibOut', () => {
  it('sends everything first, then only the difference', () => {
    const rib = new AdjRibOut(64512, log);
    rib.sessionEstablished({ ipv4: ip('198.51.100.10'), ipv6: ip('2001:db8:a::10') });
    rib.setDesired([route('203.0.113.1/32'), route('203.0.113.2/32'), route('2001:db8:b::1/128')]);
    const first = rib.difference(SESSION);
    assert.deepEqual(announced(first), ['2001:db8:b::1/128', '203.0.113.1/32', '203.0.113.2/32']);
    assert.equal(rib.advertisedCount, 3);

    rib.setDesired([route('203.0.113.1/32'), route('203.0.113.2/32', [0xffff0001]), route('203.0.113.3/32')]);
    const second = rib.difference(SESSION);
    assert.deepEqual(announced(second), ['203.0.113.2/32', '203.0.113.3/32']);
    assert.deepEqual(withdrawn(second), ['2001:db8:b::1/128']);
    assert.equal(rib.advertisedCount, 3);
    assert.deepEqual(rib.difference(SESSION).flat(), []);
  });

  it('starts from nothing after the session went down; announceAll gives one family', () => {
    const rib = new AdjRibOut(64512, log);
    rib.sessionEstablished({ ipv4: ip('198.51.100.10'), ipv6: ip('2001:db8:a::10') });
    rib.setDesired([route('203.0.113.1/32'), route('2001:db8:b::1/128')]);
    rib.difference(SESSION);
    rib.sessionDown();
    assert.equal(rib.advertisedCount, 0);
    rib.sessionEstablished({ ipv4: ip('198.51.100.10'), ipv6: ip('2001:db8:a::10') });
    assert.deepEqual(announced([rib.announceAll('ipv6-unicast', SESSION)]), ['2001:db8:b::1/128']);
    assert.equal(rib.advertisedCount, 1);
  });

  it('a family without a next hop is not announced, and counts as not advertised', () => {
    const rib = new AdjRibOut(64512, log);
    rib.sessionEstablished({ ipv4: ip('198.51.100.10') });
    rib.setDesired([route('203.0.113.1/32'), route('2001:db8:b::1/128')]);
    assert.deepEqual(announced(rib.difference(SESSION)), ['203.0.113.1/32']);
    assert.equal(rib.advertisedCount, 1);
  });

  it('extended next hop (RFC 8950): IPv4 routes in MP_REACH_NLRI with the IPv6 global and link-local next hops, withdrawn in MP_UNREACH_NLRI', () => {
    const rib = new AdjRibOut(64512, log);
    rib.sessionEstablished({ ipv6: ip('2001:db8:a::10'), ipv6LinkLocal: ip('fe80::10') });
    rib.setDesired([route('203.0.113.1/32'), route('2001:db8:b::1/128')]);
    const enhe: RibSession = { ...SESSION, extendedNextHop: true };
    const first = rib.difference(enhe).flat();
    assert.deepEqual(announced([first]), ['2001:db8:b::1/128', '203.0.113.1/32']);
    const v4 = first.find((u) =>
      u.pathAttributes.some((a) => a.type === 'mp-reach-nlri' && a.family === 'ipv4-unicast'),
    );
    assert.deepEqual(v4?.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('2001:db8:a::10'),
      linkLocalNextHop: ip('fe80::10'),
      nlri: [prefix('203.0.113.1/32')],
    });
    assert.ok(v4);
    assert.equal(v4.nlri.length, 0);
    assert.ok(!v4.pathAttributes.some((a) => a.type === 'next-hop'));

    rib.setDesired([route('2001:db8:b::1/128')]);
    const second = rib.difference(enhe).flat();
    assert.deepEqual(withdrawn([second]), ['203.0.113.1/32']);
    const [withdrawal] = second;
    assert.ok(withdrawal);
    assert.deepEqual(withdrawal.pathAttributes, [
      { type: 'mp-unreach-nlri', family: 'ipv4-unicast', withdrawnRoutes: [prefix('203.0.113.1/32')] },
    ]);
    assert.equal(withdrawal.withdrawnRoutes.length, 0);
  });

  it('extended next hop and an IPv4 address on the link: the IPv4 next hop as before; IPv4 only elsewhere on the node: the IPv6 ones', () => {
    const enhe: RibSession = { ...SESSION, extendedNextHop: true };
    const rib = new AdjRibOut(64512, log);
    rib.sessionEstablished({ ipv4: ip('198.51.100.10'), ipv4OnLink: true, ipv6: ip('fe80::10') });
    rib.setDesired([route('203.0.113.1/32')]);
    const [plain] = rib.difference(enhe).flat();
    assert.ok(plain);
    assert.deepEqual(plain.nlri, [prefix('203.0.113.1/32')]);
    assert.ok(plain.pathAttributes.some((a) => a.type === 'next-hop' && a.nextHop === ip('198.51.100.10')));
    rib.sessionDown();
    rib.sessionEstablished({ ipv4: ip('198.51.100.10'), ipv4OnLink: false, ipv6: ip('fe80::10') });
    const [update] = rib.difference(enhe).flat();
    assert.ok(update);
    assert.deepEqual(update.pathAttributes[0], {
      type: 'mp-reach-nlri',
      family: 'ipv4-unicast',
      nextHop: ip('fe80::10'),
      nlri: [prefix('203.0.113.1/32')],
    });
  });

  it('no IPv4 address and no extended next hop: IPv4 routes are not sent, and the handler hears why, once per session', () => {
    const calls: [AddressFamily, number, string][] = [];
    const rib = new AdjRibOut(64512, log, (family, routes, reason) => calls.push([family, routes, reason]));
    rib.sessionEstablished({ ipv6: ip('fe80::10') });
    rib.setDesired([route('203.0.113.1/32'), route('203.0.113.2/32'), route('2001:db8:b::1/128')]);
    assert.deepEqual(announced(rib.difference(SESSION)), ['2001:db8:b::1/128']);
    rib.setDesired([route('203.0.113.1/32'), route('2001:db8:b::1/128')]);
    rib.difference(SESSION);
    assert.equal(calls.length, 1);
    const [call] = calls;
    assert.ok(call);
    assert.deepEqual(call.slice(0, 2), ['ipv4-unicast', 2]);
    assert.match(call[2], /no IPv4 address .* did not negotiate extended next hop \(RFC 8950\)/);
    rib.sessionEstablished({ ipv6: ip('fe80::10') });
    rib.difference(SESSION);
    assert.equal(calls.length, 2, 'a new session reports again');
  });
});
