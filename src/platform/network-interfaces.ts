// The node's interfaces, their addresses and default routes, built from rtnetlink dumps (rtnetlink.ts) with the
// meaning `ip -j addr show` and `ip -j route show default` gave them before (ADR 0022): an interface is up when
// it is administratively up and its operational state is not DOWN; host-scope addresses (127.0.0.1, ::1) are left
// out; an address is IFA_LOCAL, else IFA_ADDRESS; a family's default route is the first main-table route with
// prefix length 0 in the kernel's dump order, named by its output interface.
import { IPV4_MAPPED_BASE, type IpFamily } from '../core/ip/ip-address.ts';
import type { Result } from '../core/result.ts';
import { formatMac, MAC_LENGTH } from '../protocol/ethernet/mac-address.ts';
import {
  AF_INET,
  AF_INET6,
  IF_OPER_DOWN,
  RT_SCOPE_HOST,
  RT_TABLE_MAIN,
  type AddressRecord,
  type RtnetlinkDump,
  type RtnetlinkRequests,
} from './rtnetlink.ts';

export interface InterfaceAddress {
  family: IpFamily;
  address: bigint;
  prefixLength: number;
}

export interface NetInterface {
  name: string;
  index: number;
  mac: string;
  up: boolean;
  addresses: InterfaceAddress[];
}

export interface InterfaceTable {
  interfaces: NetInterface[];
  defaultRoute: Partial<Record<IpFamily, string>>;
}

const IPV4_LENGTH = 4;
const IPV6_LENGTH = 16;

/** A link-layer address as `ip link` prints it: a MAC in canonical form, other lengths as colon-joined hex. */
export function hardwareAddressText(bytes: Uint8Array | undefined): string {
  if (!bytes) return '';
  if (bytes.length === MAC_LENGTH) return formatMac(bytes);
  return [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
}

/** An address from rtnetlink bytes in our single 128-bit space, or undefined when its length fits no family. */
function addressValue(record: AddressRecord): InterfaceAddress | undefined {
  const bytes = record.local ?? record.address;
  const family: IpFamily | undefined = record.family === AF_INET ? 4 : record.family === AF_INET6 ? 6 : undefined;
  if (!bytes || family === undefined || bytes.length !== (family === 4 ? IPV4_LENGTH : IPV6_LENGTH)) return undefined;
  let value = 0n;
  for (const byte of bytes) value = (value << 8n) | BigInt(byte);
  return { family, address: family === 4 ? IPV4_MAPPED_BASE + value : value, prefixLength: record.prefixLength };
}

/** The interface table of one set of dumps. */
export function interfaceTableFrom(dump: RtnetlinkDump): InterfaceTable {
  const interfaces = dump.links.map((link): NetInterface => ({
    name: link.name,
    index: link.index,
    mac: hardwareAddressText(link.hardwareAddress),
    up: link.adminUp && link.operState !== IF_OPER_DOWN,
    addresses: dump.addresses.flatMap((record) => {
      if (record.index !== link.index || record.scope === RT_SCOPE_HOST) return [];
      const address = addressValue(record);
      return address ? [address] : [];
    }),
  }));
  const defaultDevice = (family: number): string | undefined => {
    const route = dump.routes.find((r) => r.family === family && r.dstLength === 0 && r.table === RT_TABLE_MAIN);
    return route?.outputIndex === undefined ? undefined : interfaces.find((i) => i.index === route.outputIndex)?.name;
  };
  const v4 = defaultDevice(AF_INET);
  const v6 = defaultDevice(AF_INET6);
  return { interfaces, defaultRoute: { ...(v4 ? { 4: v4 } : {}), ...(v6 ? { 6: v6 } : {}) } };
}

/** Reads the interface table over `requests` (one dump of links, addresses and routes). */
export async function readInterfaceTable(requests: RtnetlinkRequests): Promise<Result<InterfaceTable>> {
  const dump = await requests.dump();
  return dump.ok ? { ok: true, value: interfaceTableFrom(dump.value) } : dump;
}
