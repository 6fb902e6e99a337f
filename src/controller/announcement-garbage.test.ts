import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { garbageRecords, SpeakerPresence, type RecordRef } from './announcement-garbage.ts';

const record = (service: string, node: string, ownerUid: string | undefined = `uid-${service}`): RecordRef => ({
  namespace: 'web',
  name: `${service}.${node}`,
  service,
  node,
  ownerUid,
});

describe('SpeakerPresence', () => {
  it('a speaker is gone when its Lease has not changed for deadAfterMs on the controller clock', () => {
    const presence = new SpeakerPresence(0);
    presence.observe(
      [
        { node: 'node1', version: '1' },
        { node: 'node2', version: '5' },
      ],
      0,
    );
    presence.observe(
      [
        { node: 'node1', version: '2' },
        { node: 'node2', version: '5' },
      ],
      20_000,
    );
    assert.equal(presence.gone('node1', 30_000, 30_000), false);
    assert.equal(presence.gone('node2', 30_000, 30_000), true, 'unchanged since 0');
    assert.equal(presence.gone('node1', 50_000, 30_000), true, 'unchanged since 20 s');
  });

  it('a node with no Lease is gone only once the controller has watched for deadAfterMs', () => {
    const presence = new SpeakerPresence(1000);
    presence.observe([], 1000);
    assert.equal(presence.gone('node9', 20_000, 30_000), false, 'a controller just started knows too little');
    assert.equal(presence.gone('node9', 31_000, 30_000), true);
  });

  it('a deleted Lease makes its node gone after deadAfterMs', () => {
    const presence = new SpeakerPresence(0);
    presence.observe([{ node: 'node1', version: '1' }], 40_000);
    presence.observe([], 41_000);
    assert.equal(presence.gone('node1', 41_000, 30_000), true);
  });
});

describe('garbageRecords', () => {
  it('removes records of gone speakers and of gone or replaced Services, and nothing else', () => {
    const uids = new Map([
      ['web/a', 'uid-a'],
      ['web/b', 'uid-b2'],
    ]);
    const garbage = garbageRecords(
      [record('a', 'node1'), record('a', 'node3'), record('b', 'node1'), record('c', 'node1')],
      (node) => node === 'node3',
      (key) => uids.get(key),
    );
    assert.deepEqual(
      garbage.map((g) => `${g.record.name} ${g.reason}`),
      ['a.node3 SpeakerGone', 'b.node1 ServiceGone', 'c.node1 ServiceGone'],
    );
  });
});
