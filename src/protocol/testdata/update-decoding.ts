// What the UPDATE tests decode with: the codec contexts (4-octet AS, 2-octet AS, external), parsers of addresses
// and prefixes, and readers of a decode outcome.
import { parseIp } from '../../core/ip/ip-address.ts';
import { parseBgpPrefix, type BgpPrefix } from '../bgp/nlri-prefix.ts';
import type { BgpCodecContext } from '../bgp/path-attribute.ts';
import { decodeUpdateMessage, type UpdateDecodeOutcome } from '../bgp/update-message.ts';

export const FOUR: BgpCodecContext = { fourOctetAs: true };
export const TWO: BgpCodecContext = { fourOctetAs: false };
export const EBGP: BgpCodecContext = { fourOctetAs: true, external: true };

export function ip(text: string): bigint {
  const parsed = parseIp(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export function prefix(text: string): BgpPrefix {
  const parsed = parseBgpPrefix(text);
  if (!parsed.ok) throw new Error(parsed.error);
  return parsed.value;
}

export function outcomeOf(bytes: Uint8Array, context: BgpCodecContext = FOUR): UpdateDecodeOutcome {
  return decodeUpdateMessage(bytes, context);
}

export function attributeTypes(outcome: UpdateDecodeOutcome): string[] {
  if (outcome.kind === 'session-reset') return [];
  return outcome.update.pathAttributes.map((attribute) => attribute.type);
}
