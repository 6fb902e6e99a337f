// The next hops a BGP session announces: from the connection's local address and the node's interfaces.
import { familyOf, parseIp } from '../../core/ip/ip-address.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import type { NextHops } from './bgp-session.ts';
import { isLinkLocal, nodeAddresses } from './session-settings.ts';

/**
 * Next hops from the connection's local address: that address for its family, the same interface's for the other.
 * Over a link-local session the IPv6 next hop is a global address of that interface (else of the node; else the
 * link-local one) and the link-local address goes along as the second next hop (RFC 2545 section 3). Whether the
 * IPv4 next hop is on the session's interface decides, with extended next hop, between it and the IPv6 ones.
 */
export function nextHopsFrom(
  table: InterfaceTable,
  local: string | undefined,
  sessionInterface: string | undefined,
): NextHops {
  const parsed = local === undefined ? undefined : parseIp(local.replace(/^::ffff:(?=\d+\.)/, '').replace(/%.*$/, ''));
  const localIp = parsed?.ok ? parsed.value : undefined;
  const linkLocal = localIp !== undefined && familyOf(localIp) === 6 && isLinkLocal(localIp) ? localIp : undefined;
  // A link-local address may sit on several interfaces: a link-local session names its own.
  const iface =
    sessionInterface !== undefined
      ? table.interfaces.find((i) => i.name === sessionInterface)
      : localIp === undefined
        ? undefined
        : table.interfaces.find((i) => i.addresses.some((a) => a.address === localIp));
  const pick = (family: 4 | 6): bigint | undefined => {
    if (localIp !== undefined && familyOf(localIp) === family && linkLocal === undefined) return localIp;
    const global = nodeAddresses({ ...table, interfaces: iface ? [iface] : [] }, family)[0];
    return global ?? nodeAddresses(table, family)[0] ?? (family === 6 ? linkLocal : undefined);
  };
  const ipv4 = pick(4);
  const ipv6 = pick(6);
  const ipv4OnLink = ipv4 !== undefined && iface?.addresses.some((a) => a.address === ipv4) === true;
  return {
    ...(ipv4 === undefined ? {} : { ipv4, ipv4OnLink }),
    ...(ipv6 === undefined ? {} : { ipv6 }),
    ...(linkLocal === undefined || ipv6 === linkLocal ? {} : { ipv6LinkLocal: linkLocal }),
  };
}
