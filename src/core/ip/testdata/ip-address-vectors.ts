// Test vectors for parseIp and formatIp, shared by src/core/ip/ip-address.test.ts and bench/package-ip-address.ts
// (which counts how often another implementation disagrees with them). Not part of the build.
import { IPV4_MAPPED_BASE, ipv4 } from '../ip-address.ts';

/** The address whose eight 16-bit groups are given, most significant first. */
export function fromGroups(groups: readonly number[]): bigint {
  return groups.reduce((value, group) => (value << 16n) | BigInt(group), 0n);
}

export const MAX_ADDRESS = (1n << 128n) - 1n;

/** Texts parseIp accepts, with the section they come from and their value in the single 128-bit space. */
export const VALID_TEXTS: ReadonlyArray<[section: string, text: string, value: bigint]> = [
  ['RFC 4291 2.2 (1) full form', 'ABCD:EF01:2345:6789:ABCD:EF01:2345:6789', 0xabcdef0123456789abcdef0123456789n],
  ['RFC 4291 2.2 (1) no leading zeros', '2001:DB8:0:0:8:800:200C:417A', 0x20010db80000000000080800200c417an],
  ['RFC 4291 2.2 (2) unicast compressed', '2001:DB8::8:800:200C:417A', 0x20010db80000000000080800200c417an],
  ['RFC 4291 2.2 (2) multicast', 'FF01:0:0:0:0:0:0:101', 0xff010000000000000000000000000101n],
  ['RFC 4291 2.2 (2) multicast compressed', 'FF01::101', 0xff010000000000000000000000000101n],
  ['RFC 4291 2.2 (2) loopback', '0:0:0:0:0:0:0:1', 1n],
  ['RFC 4291 2.2 (2) loopback compressed', '::1', 1n],
  ['RFC 4291 2.2 (2) unspecified', '0:0:0:0:0:0:0:0', 0n],
  ['RFC 4291 2.2 (2) unspecified compressed', '::', 0n],
  ['RFC 4291 2.2 (3) mixed', '0:0:0:0:0:0:13.1.68.3', 0x0d014403n],
  ['RFC 4291 2.2 (3) mixed compressed', '::13.1.68.3', 0x0d014403n],
  ['RFC 4291 2.2 (3) mixed mapped', '0:0:0:0:0:FFFF:129.144.52.38', ipv4(129, 144, 52, 38)],
  ['RFC 4291 2.2 (3) mixed mapped compressed', '::FFFF:129.144.52.38', ipv4(129, 144, 52, 38)],
  ['RFC 4291 2.5.5.2 IPv4-mapped is the IPv4 address', '::ffff:192.0.2.1', ipv4(192, 0, 2, 1)],
  ['RFC 4291 2.5.5.2 IPv4-mapped in hex', '::ffff:c000:201', ipv4(192, 0, 2, 1)],
  ['RFC 6052 2.1 well-known prefix, embedded IPv4', '64:ff9b::192.0.2.33', 0x64ff9b0000000000000000c0000221n],
  ['RFC 5952 2.1 all forms of one address (a)', '2001:db8:0:0:1:0:0:1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (b)', '2001:0db8:0:0:1:0:0:1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (c)', '2001:db8::1:0:0:1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (d)', '2001:db8::0:1:0:0:1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (e)', '2001:0db8::1:0:0:1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (f)', '2001:db8:0:0:1::1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (g)', '2001:db8:0000:0:1::1', 0x20010db8000000000001000000000001n],
  ['RFC 5952 2.1 all forms of one address (h)', '2001:DB8:0:0:1::1', 0x20010db8000000000001000000000001n],
  ['RFC 4291 2.2 "::" standing for one group at the end', '1:2:3:4:5:6:7::', 0x00010002000300040005000600070000n],
  ['RFC 4291 2.2 "::" standing for one group at the start', '::2:3:4:5:6:7:8', 0x00000002000300040005000600070008n],
  ['RFC 4291 2.2 six groups then IPv4', '1:2:3:4:5:6:10.0.0.1', 0x0001000200030004000500060a000001n],
  ['RFC 5737 IPv4 TEST-NET-1', '192.0.2.0', ipv4(192, 0, 2, 0)],
  ['RFC 5737 IPv4 TEST-NET-2', '198.51.100.7', ipv4(198, 51, 100, 7)],
  ['RFC 5737 IPv4 TEST-NET-3', '203.0.113.255', ipv4(203, 0, 113, 255)],
  ['RFC 791 IPv4 all zeros', '0.0.0.0', IPV4_MAPPED_BASE],
  ['RFC 919 IPv4 limited broadcast', '255.255.255.255', IPV4_MAPPED_BASE + 0xffffffffn],
];

/** Texts parseIp rejects, with a part of the reason its error must give. */
export const REJECTED_TEXTS: ReadonlyArray<[text: string, reason: string]> = [
  ['', 'it is empty'],
  ['198.51.100.256', 'octet 256 is out of range'],
  ['198.51.100.1000', 'octet 1000 is out of range'],
  ['198.51.100', 'has 3'],
  ['198.51.100.1.2', 'has 5'],
  ['198.051.100.1', 'octet 051 has a leading zero'],
  ['198.51..1', 'empty octet'],
  ['198.51.100.-1', 'octet "-1" is not a decimal number'],
  ['0x7f.0.0.1', 'octet "0x7f" is not a decimal number'],
  ['١٩٨.51.100.1', 'is not a decimal number'],
  ['198.51.100.1 ', 'whitespace'],
  [' ::1', 'whitespace'],
  ['fe80::1%eth0', 'zone ids'],
  ['fe80::1%25eth0', 'zone ids'],
  ['[2001:db8::1]', 'brackets'],
  ['2001:db8::1/64', 'not hexadecimal'],
  ['localhost', 'expected a dotted-quad IPv4 address or an IPv6 address'],
  ['1:2:3:4:5:6:7', 'it has 7 groups'],
  ['1:2:3:4:5:6:7:8:9', 'it has 9 groups'],
  ['1:2:3:4:5:6:7:8::', 'at most 7 fit beside "::"'],
  ['::1:2:3:4:5:6:7:8', 'at most 7 fit beside "::"'],
  ['1:2:3:4:5:6:7:1.2.3.4', 'it has 9 groups'],
  ['2001:db8::1::1', '"::" may appear only once'],
  [':::', 'it contains ":::"'],
  ['1:::2', 'it contains ":::"'],
  [':1:2:3:4:5:6:7', 'starts with a single ":"'],
  ['1:2:3:4:5:6:7:', 'ends with a single ":"'],
  ['1:2::3:', 'ends with a single ":"'],
  ['1::2:', 'ends with a single ":"'],
  ['12345::', 'group 12345 has more than 4 hex digits'],
  ['2001:db8::g', 'group "g" is not hexadecimal'],
  ['1.2.3.4::', 'an embedded IPv4 address must come last'],
  ['::1.2.3.4:5', 'an embedded IPv4 address must come last'],
  ['::1.2.3', 'embedded IPv4 address "1.2.3"'],
  ['::ffff:1.2.3.256', 'octet 256 is out of range'],
  ['::ffff:01.2.3.4', 'leading zero'],
  ['ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.2555', 'longer than any IP address'],
];

/** Values and their one canonical text (RFC 5952 for IPv6, dotted quad for IPv4-mapped). */
export const CANONICAL_TEXTS: ReadonlyArray<[section: string, value: bigint, text: string]> = [
  ['RFC 5952 4.1 leading zeros suppressed', fromGroups([0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]), '2001:db8::1'],
  ['RFC 5952 4.2.1 "::" used to its maximum', fromGroups([0x2001, 0xdb8, 0, 0, 0, 0, 2, 1]), '2001:db8::2:1'],
  [
    'RFC 5952 4.2.2 "::" not used for one 16-bit 0 field',
    fromGroups([0x2001, 0xdb8, 0, 1, 1, 1, 1, 1]),
    '2001:db8:0:1:1:1:1:1',
  ],
  ['RFC 5952 4.2.3 longest run compressed', fromGroups([0x2001, 0, 0, 1, 0, 0, 0, 1]), '2001:0:0:1::1'],
  ['RFC 5952 4.2.3 first run compressed on a tie', fromGroups([0x2001, 0xdb8, 0, 0, 1, 0, 0, 1]), '2001:db8::1:0:0:1'],
  ['RFC 5952 4.3 lowercase', 0x20010db8000000000000000000abcdefn, '2001:db8::ab:cdef'],
  [
    'RFC 5952 2.2 trailing 0001',
    fromGroups([0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0xeeee, 1]),
    '2001:db8:aaaa:bbbb:cccc:dddd:eeee:1',
  ],
  [
    'RFC 5952 2.2 one 0 field before 1',
    fromGroups([0x2001, 0xdb8, 0xaaaa, 0xbbbb, 0xcccc, 0xdddd, 0, 1]),
    '2001:db8:aaaa:bbbb:cccc:dddd:0:1',
  ],
  ['RFC 5952 4.2.1 unspecified', 0n, '::'],
  ['RFC 5952 4.2.1 loopback', 1n, '::1'],
  ['RFC 5952 4.2.1 run at the end', fromGroups([1, 0, 0, 0, 0, 0, 0, 0]), '1::'],
  ['RFC 5952 4.2.2 one 0 field at the end', fromGroups([1, 2, 3, 4, 5, 6, 7, 0]), '1:2:3:4:5:6:7:0'],
  ['RFC 5952 4.2.2 one 0 field at the start', fromGroups([0, 2, 3, 4, 5, 6, 7, 8]), '0:2:3:4:5:6:7:8'],
  ['RFC 5952 4.2.3 later run longer', fromGroups([1, 0, 0, 2, 0, 0, 0, 3]), '1:0:0:2::3'],
  ['RFC 5952 4 no zero group', MAX_ADDRESS, 'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'],
  ['RFC 4291 2.5.5.2 IPv4-mapped prints as IPv4', ipv4(192, 0, 2, 1), '192.0.2.1'],
  ['RFC 4291 2.5.5.2 IPv4-mapped first', IPV4_MAPPED_BASE, '0.0.0.0'],
  ['RFC 4291 2.5.5.2 below the mapped block is IPv6', IPV4_MAPPED_BASE - 1n, '::fffe:ffff:ffff'],
  ['RFC 4291 2.5.5.2 above the mapped block is IPv6', IPV4_MAPPED_BASE + 0x100000000n, '::1:0:0:0'],
  ['RFC 6052 2.1 well-known prefix prints in hex', 0x64ff9b0000000000000000c0000221n, '64:ff9b::c000:221'],
];
