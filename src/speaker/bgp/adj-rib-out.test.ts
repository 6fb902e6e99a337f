// The Adj-RIB-Out alone: the first difference announces everything, later ones only what changed (a removed route
// is withdrawn, a route whose attributes changed is announced again, an unchanged one is not sent), a session that
// went down starts from nothing, and a family without a next hop is not announced.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../../core/ip/ip-address.ts';
import { createLogger } from '../../platform/logger.ts';
import { parseBgpPrefix, formatBgpPrefix, type BgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import { announcedPrefixes, withdrawnPrefixes, type UpdateMessage } from '../../protocol/bgp/update-message.ts';
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
});
