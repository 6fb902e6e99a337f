// A pool entry: a CIDR ("198.51.100.0/24", "2001:db8::/64") or an inclusive range ("198.51.100.10-198.51.100.20"),
// as its first and last address in the single 128-bit space of ip-address.ts. A range holds addresses of one family
// only: an IPv6 range may not reach into the IPv4-mapped block ::ffff:0:0/96.
import { err, ok, type Result } from '../result.ts';
import { IPV4_MAPPED_BASE, familyOf, formatIp, parseIp, type IpFamily } from './ip-address.ts';

export interface IpRange {
  family: IpFamily;
  first: bigint;
  last: bigint;
}

const IPV4_MAPPED_LAST = IPV4_MAPPED_BASE + 0xffffffffn;
const PREFIX_LENGTH = /^(0|[1-9][0-9]{0,2})$/;

/** The mask of the host bits below a prefix of length128 bits in the 128-bit space. */
function hostMask(length128: number): bigint {
  return (1n << BigInt(128 - length128)) - 1n;
}

/** Quotes untrusted text for an error message: escaped, and cut short when long. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** The family of the addresses first..last, or undefined when they straddle the IPv4-mapped block's edge. */
function familyOfSpan(first: bigint, last: bigint): IpFamily | undefined {
  if (first >= IPV4_MAPPED_BASE && last <= IPV4_MAPPED_LAST) return 4;
  if (last < IPV4_MAPPED_BASE || first > IPV4_MAPPED_LAST) return 6;
  return undefined;
}

/** Parses a pool entry: a CIDR `address/length` or an inclusive range `first-last` (spaces allowed around "-"). */
export function parseIpRange(text: string): Result<IpRange> {
  if (text.includes('/')) return parseCidr(text);
  if (text.includes('-')) return parseDashRange(text);
  const single = parseIp(text);
  if (!single.ok) {
    return err(`${single.error}; a pool entry is a CIDR (198.51.100.0/24) or a range (198.51.100.10-198.51.100.20)`);
  }
  const length = text.includes(':') ? 128 : 32;
  return err(`${text} is a single address, not a range; write ${text}/${length} to pool just that address`);
}

/** A CIDR; the prefix length counts IPv4 bits after dotted IPv4 text and IPv6 bits after IPv6 text. */
function parseCidr(text: string): Result<IpRange> {
  const slash = text.indexOf('/');
  if (text.includes('/', slash + 1)) return err(`${quoted(text)} is not a CIDR: it has more than one "/"`);
  const addressText = text.slice(0, slash);
  const lengthText = text.slice(slash + 1);
  const address = parseIp(addressText);
  if (!address.ok) return err(`${quoted(text)} is not a CIDR: ${address.error}`);
  const isIpv6Text = addressText.includes(':');
  const bits = isIpv6Text ? 128 : 32;
  if (!PREFIX_LENGTH.test(lengthText)) {
    return err(`${quoted(text)} is not a CIDR: prefix length ${quoted(lengthText)} is not a number 0-${bits}`);
  }
  const length = Number(lengthText);
  if (length > bits) {
    return err(
      `${text} is not a CIDR: prefix length ${length} is out of range for IPv${bits === 32 ? 4 : 6} (0-${bits})`,
    );
  }
  const mask = hostMask(isIpv6Text ? length : 96 + length);
  const network = address.value & ~mask;
  if (network !== address.value) {
    const suggested = isIpv6Text && familyOf(network) === 4 ? `::ffff:${formatIp(network)}` : formatIp(network);
    return err(`${text} has bits set past the prefix length; did you mean ${suggested}/${length}?`);
  }
  const last = network | mask;
  const family = familyOfSpan(network, last);
  if (family === undefined) {
    return err(`${text} includes the IPv4-mapped block ::ffff:0:0/96; pool IPv4 addresses as an IPv4 CIDR or range`);
  }
  return ok({ family, first: network, last });
}

/** An inclusive range `first-last` of one family, first <= last. */
function parseDashRange(text: string): Result<IpRange> {
  const dash = text.indexOf('-');
  if (text.includes('-', dash + 1)) return err(`${quoted(text)} is not a range: it has more than one "-"`);
  const firstText = text.slice(0, dash).replace(/ +$/, '');
  const lastText = text.slice(dash + 1).replace(/^ +/, '');
  if (firstText === '') return err(`${quoted(text)} is not a range: the first address is missing`);
  if (lastText === '') return err(`${quoted(text)} is not a range: the last address is missing`);
  const first = parseIp(firstText);
  if (!first.ok) return err(`${quoted(text)} is not a range: ${first.error}`);
  const last = parseIp(lastText);
  if (!last.ok) return err(`${quoted(text)} is not a range: ${last.error}`);
  const shown = `${firstText}-${lastText}`;
  if (familyOf(first.value) !== familyOf(last.value)) return err(`range ${shown} mixes IPv4 and IPv6`);
  if (first.value > last.value) return err(`range ${shown} is reversed; write ${lastText}-${firstText}`);
  const family = familyOfSpan(first.value, last.value);
  if (family === undefined) {
    return err(`range ${shown} includes the IPv4-mapped block ::ffff:0:0/96; pool IPv4 addresses as an IPv4 range`);
  }
  return ok({ family, first: first.value, last: last.value });
}

/** The number of addresses in a range. */
export function rangeSize(r: IpRange): bigint {
  return r.last - r.first + 1n;
}

/** The text of a range: CIDR form when it is exactly one prefix, else `first-last`. */
export function formatIpRange(r: IpRange): string {
  const size = rangeSize(r);
  const hostBits = size.toString(2).length - 1;
  const isOnePrefix = size > 0n && (size & (size - 1n)) === 0n && (r.first & (size - 1n)) === 0n;
  const bits = r.family === 4 ? 32 : 128;
  if (isOnePrefix && hostBits <= bits) return `${formatIp(r.first)}/${bits - hostBits}`;
  return `${formatIp(r.first)}-${formatIp(r.last)}`;
}

/** The aligned prefix of the given length containing addr; an IPv4 length (0-32) counts within the IPv4 space. */
export function prefixOf(addr: bigint, length: number, family: IpFamily): IpRange {
  const bits = family === 4 ? 32 : 128;
  if (!Number.isInteger(length) || length < 0 || length > bits) {
    throw new RangeError(`prefix length ${length} is out of range for IPv${family} (0-${bits})`);
  }
  if (familyOf(addr) !== family) throw new RangeError(`${formatIp(addr)} is not an IPv${family} address`);
  const mask = hostMask(family === 4 ? 96 + length : length);
  const first = addr & ~mask;
  return { family, first, last: first | mask };
}

/** Whether two ranges share at least one address. */
export function rangesOverlap(a: IpRange, b: IpRange): boolean {
  return a.first <= b.last && b.first <= a.last;
}
