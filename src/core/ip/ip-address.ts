// IP addresses as bigint in one 128-bit space. An IPv6 address is its 128-bit value; an IPv4 address is its
// IPv4-mapped IPv6 address (::ffff:a.b.c.d, RFC 4291 section 2.5.5.2), so "1.2.3.4" and "::ffff:1.2.3.4" are the
// same bigint and one interval set, one comparison and one map key serve both families.
import { err, ok, type Result } from '../result.ts';

export type IpFamily = 4 | 6;

/** The first address of the IPv4-mapped block ::ffff:0:0/96, where IPv4 address 0.0.0.0 lives. */
export const IPV4_MAPPED_BASE = 0xffff00000000n;

const IPV4_MAPPED_LAST = IPV4_MAPPED_BASE + 0xffffffffn;
const LARGEST_ADDRESS = (1n << 128n) - 1n;
// "ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255" is the longest text any IP address can take.
const LONGEST_TEXT = 45;
const DECIMAL = /^[0-9]+$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;
const HEX_DIGITS = /^[0-9a-fA-F]+$/;
const WHITESPACE = /\s/u;

/** Quotes untrusted text for an error message: escaped, and cut short when long. */
function quoted(text: string): string {
  return JSON.stringify(text.length > 64 ? `${text.slice(0, 64)}…` : text);
}

/** The family of an address: 4 iff it lies within ::ffff:0:0/96. */
export function familyOf(addr: bigint): IpFamily {
  return addr >= IPV4_MAPPED_BASE && addr <= IPV4_MAPPED_LAST ? 4 : 6;
}

/** The address a.b.c.d (each 0-255) in the single space; throws on an octet out of range (a bug). */
export function ipv4(a: number, b: number, c: number, d: number): bigint {
  for (const octet of [a, b, c, d]) {
    if (!Number.isInteger(octet) || octet < 0 || octet > 255) throw new RangeError(`IPv4 octet ${octet} is not 0-255`);
  }
  return IPV4_MAPPED_BASE + BigInt(a * 0x1000000 + b * 0x10000 + c * 0x100 + d);
}

/** Parses an IPv4 address in dotted-quad form or an IPv6 address in any RFC 4291 text form, strictly. */
export function parseIp(text: string): Result<bigint> {
  const reason = problemWithText(text);
  if (reason !== undefined) return err(`${quoted(text)} is not an IP address: ${reason}`);
  const parsed = text.includes(':') ? parseIpv6(text) : parseIpv4(text);
  if (!parsed.ok) return err(`${quoted(text)} is not an IP address: ${parsed.error}`);
  return parsed;
}

/** Why text can not be an address at all, before looking at its parts; undefined when it might be one. */
function problemWithText(text: string): string | undefined {
  if (text === '') return 'it is empty';
  if (WHITESPACE.test(text)) return 'it contains whitespace';
  if (text.includes('[') || text.includes(']')) return 'brackets are not part of an address; remove them';
  if (text.includes('%')) return 'zone ids (%name) are not allowed';
  if (text.length > LONGEST_TEXT) return `it is ${text.length} characters long, longer than any IP address`;
  if (!text.includes(':') && !text.includes('.')) return 'expected a dotted-quad IPv4 address or an IPv6 address';
  return undefined;
}

/** A dotted-quad IPv4 address in the single space; the error is the reason alone. */
function parseIpv4(text: string): Result<bigint> {
  const value = parseIpv4Value(text);
  return value.ok ? ok(IPV4_MAPPED_BASE + BigInt(value.value)) : value;
}

/** The 32-bit value of a dotted-quad IPv4 address; the error is the reason alone. */
function parseIpv4Value(text: string): Result<number> {
  const octets = text.split('.');
  if (octets.length !== 4) return err(`an IPv4 address has 4 dotted octets, this has ${octets.length}`);
  let value = 0;
  for (const octet of octets) {
    if (octet === '') return err('it has an empty octet');
    if (!DECIMAL.test(octet)) return err(`octet ${quoted(octet)} is not a decimal number`);
    if (octet.length > 1 && octet.startsWith('0')) return err(`octet ${octet} has a leading zero (octal or decimal?)`);
    const number = Number(octet);
    if (octet.length > 3 || number > 255) return err(`octet ${octet} is out of range`);
    value = value * 256 + number;
  }
  return ok(value);
}

/** An IPv6 address in any RFC 4291 section 2.2 text form; the error is the reason alone. */
function parseIpv6(text: string): Result<bigint> {
  if (text.includes(':::')) return err('it contains ":::"');
  const gap = text.indexOf('::');
  if (gap !== -1 && text.includes('::', gap + 1)) return err('"::" may appear only once');
  if (gap !== 0 && text.startsWith(':')) return err('it starts with a single ":"');
  if (gap !== text.length - 2 && text.endsWith(':')) return err('it ends with a single ":"');

  const head = gap === -1 ? text : text.slice(0, gap);
  const tail = gap === -1 ? '' : text.slice(gap + 2);
  const headWords = parseGroups(head, gap === -1);
  if (!headWords.ok) return headWords;
  const tailWords = parseGroups(tail, true);
  if (!tailWords.ok) return tailWords;

  const count = headWords.value.length + tailWords.value.length;
  if (gap === -1 && count !== 8)
    return err(`it has ${count} groups; an IPv6 address has 8, or "::" for a run of zeros`);
  if (gap !== -1 && count > 7) return err(`it has "::" and ${count} more groups; at most 7 fit beside "::"`);

  let value = 0n;
  for (const word of headWords.value) value = (value << 16n) | BigInt(word);
  value <<= BigInt(16 * (8 - count));
  for (const word of tailWords.value) value = (value << 16n) | BigInt(word);
  return ok(value);
}

/** The 16-bit words of colon-separated groups; an embedded dotted IPv4 address is allowed last if endsAddress. */
function parseGroups(text: string, endsAddress: boolean): Result<number[]> {
  if (text === '') return ok([]);
  const groups = text.split(':');
  const words: number[] = [];
  for (const [index, group] of groups.entries()) {
    if (group.includes('.')) {
      if (!endsAddress || index !== groups.length - 1) return err('an embedded IPv4 address must come last');
      const embedded = parseIpv4Value(group);
      if (!embedded.ok) return err(`embedded IPv4 address ${quoted(group)}: ${embedded.error}`);
      words.push(embedded.value >>> 16, embedded.value & 0xffff);
    } else if (HEX_GROUP.test(group)) {
      words.push(Number.parseInt(group, 16));
    } else if (group === '') {
      return err('it has an empty group');
    } else if (HEX_DIGITS.test(group)) {
      return err(`group ${group} has more than 4 hex digits`);
    } else {
      return err(`group ${quoted(group)} is not hexadecimal`);
    }
  }
  return ok(words);
}

/** The text of an address: dotted quad for IPv4, RFC 5952 canonical form for IPv6; throws outside 128 bits (a bug). */
export function formatIp(addr: bigint): string {
  if (addr < 0n || addr > LARGEST_ADDRESS) throw new RangeError(`${addr} is outside the 128-bit address space`);
  if (familyOf(addr) === 4) return formatIpv4(Number(addr - IPV4_MAPPED_BASE));
  return formatIpv6(addr);
}

/** Dotted quad of a 32-bit value. */
function formatIpv4(value: number): string {
  return `${value >>> 24}.${(value >>> 16) & 0xff}.${(value >>> 8) & 0xff}.${value & 0xff}`;
}

/** RFC 5952 section 4: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::", leftmost on tie. */
function formatIpv6(addr: bigint): string {
  const words: number[] = [];
  for (let shift = 112n; shift >= 0n; shift -= 16n) words.push(Number((addr >> shift) & 0xffffn));

  let bestStart = -1;
  let bestLength = 1;
  let runStart = -1;
  for (let index = 0; index <= 8; index++) {
    if (index < 8 && words[index] === 0) {
      if (runStart === -1) runStart = index;
    } else if (runStart !== -1) {
      if (index - runStart > bestLength) {
        bestStart = runStart;
        bestLength = index - runStart;
      }
      runStart = -1;
    }
  }

  const hex = words.map((word) => word.toString(16));
  if (bestStart === -1) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}
