import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { speakerLeaseNode } from './heartbeat-lease.ts';

describe('speakerLeaseNode', () => {
  it('is the node in the Lease name (the name the admission policy ties to the writer), never holderIdentity', () => {
    assert.equal(speakerLeaseNode('beaconlb-speaker-node1'), 'node1');
    assert.equal(speakerLeaseNode('beaconlb-speaker-worker-a.example'), 'worker-a.example');
  });

  it('is undefined for any other Lease: the controller leader Lease, a bare prefix, no name', () => {
    assert.equal(speakerLeaseNode('beaconlb-controller'), undefined);
    assert.equal(speakerLeaseNode('beaconlb-speaker-'), undefined);
    assert.equal(speakerLeaseNode(undefined), undefined);
  });
});
