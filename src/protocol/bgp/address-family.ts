// Address families as BGP names them: an AFI (IANA "Address Family Numbers") and a SAFI (RFC 4760 section 6).
// The speaker handles unicast IPv4 and IPv6 only; other pairs are carried as numbers and left alone.
import type { IpFamily } from '../../core/ip/ip-address.ts';

/** The address families this implementation decodes and negotiates. */
export type AddressFamily = 'ipv4-unicast' | 'ipv6-unicast';

/** An AFI/SAFI pair as it appears on the wire, known to us or not. */
export interface AfiSafi {
  readonly afi: number;
  readonly safi: number;
}

export const AFI_IPV4 = 1;
export const AFI_IPV6 = 2;
export const SAFI_UNICAST = 1;

export const ADDRESS_FAMILIES: readonly AddressFamily[] = ['ipv4-unicast', 'ipv6-unicast'];

/** The family of an AFI/SAFI pair, or undefined when it is not one we handle. */
export function addressFamilyOf(afi: number, safi: number): AddressFamily | undefined {
  if (safi !== SAFI_UNICAST) return undefined;
  if (afi === AFI_IPV4) return 'ipv4-unicast';
  if (afi === AFI_IPV6) return 'ipv6-unicast';
  return undefined;
}

/** The AFI/SAFI pair of a family. */
export function afiSafiOf(family: AddressFamily): AfiSafi {
  return family === 'ipv4-unicast' ? { afi: AFI_IPV4, safi: SAFI_UNICAST } : { afi: AFI_IPV6, safi: SAFI_UNICAST };
}

/** The IP family whose prefixes a BGP address family carries. */
export function ipFamilyOf(family: AddressFamily): IpFamily {
  return family === 'ipv4-unicast' ? 4 : 6;
}

/** The unicast address family of an IP family. */
export function unicastFamilyOf(family: IpFamily): AddressFamily {
  return family === 4 ? 'ipv4-unicast' : 'ipv6-unicast';
}

/** "AFI 1 / SAFI 1 (ipv4-unicast)" for messages. */
export function describeAfiSafi(afi: number, safi: number): string {
  const family = addressFamilyOf(afi, safi);
  return `AFI ${afi} / SAFI ${safi}${family ? ` (${family})` : ''}`;
}
