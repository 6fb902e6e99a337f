// The allocation table's safety property, as its property tests check it after every step: an address held by two
// Services is held only by Services that may share it (same sharing key, no port clash, compatible policies).
import assert from 'node:assert/strict';
import type { ServiceRequest } from '../core/config/service-request.ts';
import { sharingConflict } from '../core/ipam/sharing.ts';

/** Fails the test when two of the Services holding one address (holders by address) may not share it. */
export function assertOnlyLegalSharing(
  holdersByAddress: ReadonlyMap<bigint, readonly string[]>,
  requests: ReadonlyMap<string, ServiceRequest>,
): void {
  for (const [a, keys] of holdersByAddress) {
    for (const x of keys)
      for (const y of keys) {
        if (x === y) continue;
        const [first, second] = [requests.get(x), requests.get(y)];
        assert.ok(first && second, `${a} held by ${x} and ${y}, one of them without a request`);
        assert.equal(sharingConflict(first, second), undefined, `${a} held by ${x} and ${y}`);
      }
  }
}
