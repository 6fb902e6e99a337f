// On which interfaces an address is announced: those its advertisements select by name or pattern (when up; the
// patterns are matched against this node's own interfaces), else every up interface with a subnet that contains the
// address, else the interface of the default route of its family.
import { familyOf, IPV4_MAPPED_BASE } from '../../core/ip/ip-address.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { interfaceMatches } from '../../core/config/interface-pattern.ts';

function inSubnet(address: bigint, base: bigint, prefixLength: number, family: 4 | 6): boolean {
  const bits = family === 4 ? 32 : 128;
  const offset = family === 4 ? IPV4_MAPPED_BASE : 0n;
  const shift = BigInt(bits - prefixLength);
  return (address - offset) >> shift === (base - offset) >> shift;
}

export function chooseInterfaces(
  address: bigint,
  named: readonly string[] | undefined,
  table: InterfaceTable,
): string[] {
  const up = table.interfaces.filter((i) => i.up && i.name !== 'lo');
  if (named) return up.filter((i) => named.some((entry) => interfaceMatches(entry, i.name))).map((i) => i.name);
  const family = familyOf(address);
  const bySubnet = up.filter((i) =>
    i.addresses.some((a) => a.family === family && inSubnet(address, a.address, a.prefixLength, family)),
  );
  if (bySubnet.length > 0) return bySubnet.map((i) => i.name);
  const fallback = table.defaultRoute[family];
  return fallback && up.some((i) => i.name === fallback) ? [fallback] : [];
}
