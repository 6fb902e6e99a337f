// The cluster key of the failure detector (ADR 0019) as a ProbeKey: HMAC-SHA256 from node:crypto. The key id is
// the first byte of the key's SHA-256, so speakers tell the current key from the previous one without being told
// (the controller never makes a new key whose id equals the previous one's). The key bytes never leave this object.
import { createHash, createHmac } from 'node:crypto';
import type { ProbeKey } from '../protocol/probe/probe-datagram.ts';

export const PROBE_KEY_LENGTH = 32;

export function probeKeyId(key: Uint8Array): number {
  return createHash('sha256').update(key).digest()[0] ?? 0;
}

export function probeKey(key: Uint8Array): ProbeKey {
  if (key.length < PROBE_KEY_LENGTH)
    throw new RangeError(`a probe key of ${key.length} bytes; at least ${PROBE_KEY_LENGTH} are needed`);
  const secret = Buffer.from(key);
  return {
    id: probeKeyId(key),
    mac: (bytes) => new Uint8Array(createHmac('sha256', secret).update(bytes).digest()),
  };
}
