import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { uint32 } from '../testdata/bgp-arbitraries.ts';
import {
  WELL_KNOWN_COMMUNITIES,
  communityName,
  formatCommunity,
  formatLargeCommunity,
  parseCommunity,
  parseLargeCommunity,
} from './community.ts';

describe('communities (RFC 1997) and large communities (RFC 8092)', () => {
  it('RFC 1997: the well-known communities by name', () => {
    assert.equal(WELL_KNOWN_COMMUNITIES['no-export'], 0xffffff01);
    assert.equal(WELL_KNOWN_COMMUNITIES['no-advertise'], 0xffffff02);
    assert.equal(WELL_KNOWN_COMMUNITIES['no-export-subconfed'], 0xffffff03);
    assert.equal(communityName(0xffff029a), 'blackhole');
    assert.equal(formatCommunity(0xffff0000), 'graceful-shutdown');
    assert.equal(communityName(65000 * 65536 + 100), undefined);
  });

  it('RFC 1997: other values as asn:value', () => {
    assert.equal(formatCommunity(65000 * 65536 + 100), '65000:100');
    assert.deepEqual(parseCommunity('65000:100'), { ok: true, value: 65000 * 65536 + 100 });
    assert.deepEqual(parseCommunity('no-export'), { ok: true, value: 0xffffff01 });
    assert.equal(parseCommunity('65536:1').ok, false);
    assert.equal(parseCommunity('toString').ok, false);
    assert.equal(parseCommunity('1:2:3').ok, false);
  });

  it('RFC 8092: global:local1:local2, 32 bits each', () => {
    assert.deepEqual(parseLargeCommunity('4200000000:1:2'), {
      ok: true,
      value: { globalAdmin: 4200000000, localData1: 1, localData2: 2 },
    });
    assert.equal(formatLargeCommunity({ globalAdmin: 65000, localData1: 1, localData2: 2 }), '65000:1:2');
    assert.equal(parseLargeCommunity('4294967296:1:2').ok, false);
    assert.equal(parseLargeCommunity('1:2').ok, false);
  });

  it('property: format then parse gives the value back', () => {
    fc.assert(
      fc.property(uint32, uint32, uint32, (a, b, c) => {
        assert.deepEqual(parseCommunity(formatCommunity(a)), { ok: true, value: a });
        const large = { globalAdmin: a, localData1: b, localData2: c };
        assert.deepEqual(parseLargeCommunity(formatLargeCommunity(large)), { ok: true, value: large });
      }),
    );
  });
});
