import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../core/ip/ip-address.ts';
import { parseBgpPrefix } from '../protocol/bgp/nlri-prefix.ts';
import { announcementRecords, recordText } from './announcement-records.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  assert.ok(parsed.ok);
  return parsed.value;
};
const prefix = (text: string) => {
  const parsed = parseBgpPrefix(text);
  assert.ok(parsed.ok);
  return parsed.value;
};

describe('announcementRecords', () => {
  it('gives each Service its layer-2 addresses with their interfaces and its BGP prefixes with their peers', () => {
    const owned = new Map([
      [ip('198.51.100.70'), { interfaces: ['eth0'], services: ['web/a', 'web/shared'] }],
      [ip('2001:db8:a::170'), { interfaces: ['eth1'], services: ['web/a'] }],
    ]);
    const records = announcementRecords(owned, [
      { peer: 'r2', routes: [{ prefix: prefix('203.0.113.0/24'), services: ['web/b', 'web/shared'] }] },
      {
        peer: 'r1',
        routes: [
          { prefix: prefix('203.0.113.0/24'), services: ['web/b'] },
          { prefix: prefix('203.0.113.9/32'), services: ['web/b'] },
        ],
      },
    ]);
    assert.deepEqual([...records.keys()], ['web/a', 'web/b', 'web/shared']);
    assert.deepEqual(records.get('web/a'), {
      layer2: { addresses: ['198.51.100.70', '2001:db8:a::170'], interfaces: ['eth0', 'eth1'] },
    });
    assert.deepEqual(records.get('web/b'), {
      bgp: { prefixes: ['203.0.113.0/24', '203.0.113.9/32'], peers: ['r1', 'r2'] },
    });
    assert.deepEqual(records.get('web/shared'), {
      layer2: { addresses: ['198.51.100.70'], interfaces: ['eth0'] },
      bgp: { prefixes: ['203.0.113.0/24'], peers: ['r2'] },
    });
  });

  it('announces nothing: no records', () => {
    assert.equal(announcementRecords(new Map(), [{ peer: 'r1', routes: [] }]).size, 0);
  });

  it('recordText is the same for the same content in any order, and differs for other content', () => {
    const a = { layer2: { addresses: ['198.51.100.1', '198.51.100.2'], interfaces: ['eth0'] } };
    const b = { layer2: { addresses: ['198.51.100.2', '198.51.100.1'], interfaces: ['eth0'] } };
    assert.equal(recordText(a), recordText(b));
    assert.notEqual(recordText(a), recordText({ layer2: { addresses: ['198.51.100.1'], interfaces: ['eth0'] } }));
    assert.notEqual(recordText(a), recordText({ ...a, bgp: { prefixes: [], peers: [] } }));
    assert.equal(recordText(undefined), '');
  });
});
