// The renumbering record (condition beaconlb.io/Renumbering): written and read back exactly, and a record that was
// edited into nonsense yields nothing rather than a wrong end (the rebuild then treats the address as not kept).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseIp } from '../ip/ip-address.ts';
import {
  conditionsWithRenumbering,
  RENUMBERING_CONDITION,
  recordedRenumbering,
  renumberingMatches,
  renumberingMessage,
} from './renumber-record.ts';
import type { ServiceCondition, ServiceObject } from './service-object.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  if (!parsed.ok) assert.fail(parsed.error);
  return parsed.value;
};
const withConditions = (conditions: ServiceCondition[]): ServiceObject => ({
  metadata: { name: 'web', namespace: 'shop' },
  status: { conditions },
});
const END = Date.parse('2026-12-07T22:00:00Z');

describe('the renumbering record', () => {
  it('round-trips both families, several windows, in whole seconds', () => {
    const retiring = [
      { address: ip('198.51.100.64'), until: END },
      { address: ip('2001:db8:a::40'), until: END + 1000 },
    ];
    assert.equal(
      renumberingMessage(retiring),
      '198.51.100.64 until 2026-12-07T22:00:00Z, 2001:db8:a::40 until 2026-12-07T22:00:01Z',
    );
    const conditions = conditionsWithRenumbering([{ type: 'Other', status: 'True' }], retiring, '2026-12-07T21:00:00Z');
    const svc = withConditions(conditions);
    assert.deepEqual(recordedRenumbering(svc), retiring);
    assert.ok(renumberingMatches(svc, retiring));
    assert.ok(!renumberingMatches(svc, retiring.slice(0, 1)));
    assert.equal(conditions[0]?.type, 'Other', 'other conditions are kept');
    // Unchanged: the transition time stays; none left: the condition goes.
    const again = conditionsWithRenumbering(conditions, retiring, '2026-12-07T21:30:00Z');
    assert.equal(again.find((c) => c.type === RENUMBERING_CONDITION)?.lastTransitionTime, '2026-12-07T21:00:00Z');
    assert.deepEqual(
      conditionsWithRenumbering(conditions, [], '2026-12-07T21:30:00Z').map((c) => c.type),
      ['Other'],
    );
    assert.ok(renumberingMatches(withConditions([]), []));
  });

  it('reads nothing from entries that do not parse, or from a record that is not True', () => {
    const record = (message: string, status = 'True'): ServiceObject =>
      withConditions([{ type: RENUMBERING_CONDITION, status, reason: 'Renumbering', message }]);
    assert.deepEqual(recordedRenumbering(record('198.51.100.64 until tomorrow')), []);
    assert.deepEqual(recordedRenumbering(record('not-an-ip until 2026-12-07T22:00:00Z')), []);
    assert.deepEqual(recordedRenumbering(record('198.51.100.64 until 2026-12-07T22:00:00Z', 'False')), []);
    assert.deepEqual(recordedRenumbering(record('garbage, 198.51.100.64 until 2026-12-07T22:00:00Z')), [
      { address: ip('198.51.100.64'), until: END },
    ]);
  });
});
