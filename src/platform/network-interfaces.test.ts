// The interface table from rtnetlink messages: kernel-format bytes (laid out as include/uapi/linux/netlink.h,
// rtnetlink.h, if_link.h and if_addr.h define them, x86 byte order) decoded by the netlink package, turned into
// records (rtnetlink.ts) and into the table (network-interfaces.ts), with the meaning `ip -j` gave it before.
// The same reader against a real kernel, compared with `ip -j`, is e2e/rtnetlink-interfaces.test.ts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseMessages, rt } from 'netlink';
import { formatIp } from '../core/ip/ip-address.ts';
import { hardwareAddressText, interfaceTableFrom, type InterfaceTable } from './network-interfaces.ts';
import {
  addressRecord,
  changeOf,
  linkRecord,
  routeRecord,
  routeRecordFromBytes,
  type RtnetlinkDump,
} from './rtnetlink.ts';

const RTM_NEWLINK = 16;
const RTM_NEWADDR = 20;
const RTM_NEWROUTE = 24;
const NLM_F_MULTI = 2;
const IFF_UP = 0x1;
const IFF_LOOPBACK = 0x8;
const IFLA_ADDRESS = 1;
const IFLA_IFNAME = 3;
const IFLA_OPERSTATE = 16;
const IFA_ADDRESS = 1;
const IFA_LOCAL = 2;
const RTA_DST = 1;
const RTA_OIF = 4;
const RTA_GATEWAY = 5;
const RTA_TABLE = 15;
const RTA_VIA = 18;
const OPER = { UNKNOWN: 0, DOWN: 2, LOWERLAYERDOWN: 3, UP: 6 };
const SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254 };
const TABLE = { COMPAT: 252, MAIN: 254 };

/** One rtattr: u16 length, u16 type, the value, padding to 4 bytes. */
function attr(type: number, value: Uint8Array): Buffer {
  const out = Buffer.alloc(4 + Math.ceil(value.length / 4) * 4);
  out.writeUInt16LE(4 + value.length, 0);
  out.writeUInt16LE(type, 2);
  out.set(value, 4);
  return out;
}
const u8 = (n: number): Uint8Array => Uint8Array.of(n);
const u32 = (n: number): Uint8Array => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const text = (s: string): Uint8Array => Buffer.from(`${s}\0`);
const bytes = (...xs: number[]): Uint8Array => Uint8Array.from(xs);

/** struct nlmsghdr (16 bytes) around a payload. */
function message(type: number, payload: Buffer): Buffer {
  const header = Buffer.alloc(16);
  header.writeUInt32LE(16 + payload.length, 0);
  header.writeUInt16LE(type, 4);
  header.writeUInt16LE(NLM_F_MULTI, 6);
  header.writeUInt32LE(7, 8);
  return Buffer.concat([header, payload]);
}

/** RTM_NEWLINK: struct ifinfomsg (family, pad, type, index, flags, change) and attributes. */
function link(index: number, flags: number, ...attrs: Buffer[]): Buffer {
  const ifinfo = Buffer.alloc(16);
  ifinfo.writeUInt16LE(1, 2); // ARPHRD_ETHER
  ifinfo.writeInt32LE(index, 4);
  ifinfo.writeUInt32LE(flags, 8);
  return message(RTM_NEWLINK, Buffer.concat([ifinfo, ...attrs]));
}

/** RTM_NEWADDR: struct ifaddrmsg (family, prefixlen, flags, scope, index) and attributes. */
function address(family: number, prefixLength: number, scope: number, index: number, ...attrs: Buffer[]): Buffer {
  const ifaddr = Buffer.alloc(8);
  ifaddr.writeUInt8(family, 0);
  ifaddr.writeUInt8(prefixLength, 1);
  ifaddr.writeUInt8(scope, 3);
  ifaddr.writeUInt32LE(index, 4);
  return message(RTM_NEWADDR, Buffer.concat([ifaddr, ...attrs]));
}

/** RTM_NEWROUTE: struct rtmsg (family, dst_len, src_len, tos, table, protocol, scope, type, flags) and attributes. */
function route(family: number, dstLength: number, table: number, ...attrs: Buffer[]): Buffer {
  const rtmsg = Buffer.alloc(12);
  rtmsg.writeUInt8(family, 0);
  rtmsg.writeUInt8(dstLength, 1);
  rtmsg.writeUInt8(table, 4);
  rtmsg.writeUInt8(3, 5); // RTPROT_BOOT
  rtmsg.writeUInt8(1, 7); // RTN_UNICAST
  return message(RTM_NEWROUTE, Buffer.concat([rtmsg, ...attrs]));
}

/** An IPv4 RTM_NEWADDR with IFA_LOCAL (ours) and IFA_ADDRESS (the peer on a point-to-point link, else the same). */
function ipv4Address(prefixLength: number, scope: number, index: number, local: Uint8Array, peer = local): Buffer {
  return address(AF_INET, prefixLength, scope, index, attr(IFA_ADDRESS, peer), attr(IFA_LOCAL, local));
}

/** A route in `table` (also given as RTA_TABLE) out of interface `oif`, with one attribute for its gateway or prefix. */
function routeVia(family: number, dstLength: number, table: number, hop: Buffer, oif: number): Buffer {
  return route(family, dstLength, table, attr(RTA_TABLE, u32(table)), hop, attr(RTA_OIF, u32(oif)));
}

/** The package's parseMessages gives the type as a number; its rtnetlink decoder takes its own enum. */
function messageType(type: number): rt.MessageType {
  // eslint-disable-next-line @typescript-eslint/no-unsafe-enum-assignment -- the same numbers (rtnetlink.h)
  return type;
}

/** The dump the package decodes from kernel-format bytes, as rtnetlink.ts records. */
function dumpOf(...messages: Buffer[]): RtnetlinkDump {
  const dump: RtnetlinkDump = { links: [], addresses: [], routes: [] };
  for (const m of parseMessages(Buffer.concat(messages))) {
    const parsed = rt.parseMessage(messageType(m.type), m.data);
    if (parsed.kind === 'link') dump.links.push(linkRecord(parsed));
    else if (parsed.kind === 'address') dump.addresses.push(addressRecord(parsed));
    else if (parsed.kind === 'route') dump.routes.push(routeRecord(parsed));
  }
  return dump;
}

/** A table with addresses as text, for readable comparisons. */
function readable(table: InterfaceTable): unknown {
  return {
    interfaces: table.interfaces.map((i) => ({
      ...i,
      addresses: i.addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength} v${a.family}`),
    })),
    defaultRoute: table.defaultRoute,
  };
}

const AF_INET = 2;
const AF_INET6 = 10;
const MAC = bytes(0x02, 0x00, 0x5e, 0x10, 0x00, 0x0a);
const LO = link(
  1,
  IFF_UP | IFF_LOOPBACK,
  attr(IFLA_IFNAME, text('lo')),
  attr(IFLA_ADDRESS, new Uint8Array(6)),
  attr(IFLA_OPERSTATE, u8(OPER.UNKNOWN)),
);
const ETH0 = link(
  2,
  IFF_UP,
  attr(IFLA_IFNAME, text('eth0')),
  attr(IFLA_ADDRESS, MAC),
  attr(IFLA_OPERSTATE, u8(OPER.UP)),
);
const LINK_LOCAL = bytes(0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x5e, 0xff, 0xfe, 0x10, 0x00, 0x0a);
const GLOBAL_V6 = bytes(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x0a);

describe('interface table from rtnetlink messages', () => {
  it('reads links, their MACs, up state and addresses; host-scope addresses are left out, link-local ones kept', () => {
    const table = interfaceTableFrom(
      dumpOf(
        LO,
        ETH0,
        ipv4Address(8, SCOPE.HOST, 1, bytes(127, 0, 0, 1)),
        ipv4Address(24, SCOPE.UNIVERSE, 2, bytes(198, 51, 100, 10)),
        address(AF_INET6, 128, SCOPE.HOST, 1, attr(IFA_ADDRESS, bytes(0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))),
        address(AF_INET6, 64, SCOPE.UNIVERSE, 2, attr(IFA_ADDRESS, GLOBAL_V6)),
        address(AF_INET6, 64, SCOPE.LINK, 2, attr(IFA_ADDRESS, LINK_LOCAL)),
      ),
    );
    assert.deepEqual(readable(table), {
      interfaces: [
        { name: 'lo', index: 1, mac: '00:00:00:00:00:00', up: true, addresses: [] },
        {
          name: 'eth0',
          index: 2,
          mac: '02:00:5e:10:00:0a',
          up: true,
          addresses: ['198.51.100.10/24 v4', '2001:db8::a/64 v6', 'fe80::5eff:fe10:a/64 v6'],
        },
      ],
      defaultRoute: {},
    });
  });

  it('is up when administratively up and not operationally DOWN (LOWERLAYERDOWN and UNKNOWN count as up, as before)', () => {
    const state = (flags: number, oper?: number): boolean | undefined =>
      interfaceTableFrom(
        dumpOf(
          link(
            3,
            flags,
            attr(IFLA_IFNAME, text('veth1')),
            ...(oper === undefined ? [] : [attr(IFLA_OPERSTATE, u8(oper))]),
          ),
        ),
      ).interfaces[0]?.up;
    assert.equal(state(IFF_UP, OPER.UP), true);
    assert.equal(state(IFF_UP, OPER.DOWN), false);
    assert.equal(state(0, OPER.UP), false);
    assert.equal(state(0), false);
    assert.equal(state(IFF_UP, OPER.LOWERLAYERDOWN), true);
    assert.equal(state(IFF_UP, OPER.UNKNOWN), true);
    assert.equal(state(IFF_UP), true);
  });

  it('takes IFA_LOCAL over IFA_ADDRESS (the peer on a point-to-point link)', () => {
    const table = interfaceTableFrom(
      dumpOf(ETH0, ipv4Address(32, SCOPE.UNIVERSE, 2, bytes(203, 0, 113, 1), bytes(203, 0, 113, 2))),
    );
    assert.deepEqual(
      table.interfaces[0]?.addresses.map((a) => formatIp(a.address)),
      ['203.0.113.1'],
    );
  });

  it('leaves out addresses of other links and addresses whose length does not fit their family', () => {
    const table = interfaceTableFrom(
      dumpOf(
        ETH0,
        address(AF_INET, 24, SCOPE.UNIVERSE, 9, attr(IFA_LOCAL, bytes(198, 51, 100, 1))),
        address(AF_INET6, 64, SCOPE.UNIVERSE, 2, attr(IFA_ADDRESS, bytes(1, 2, 3, 4))),
      ),
    );
    assert.deepEqual(table.interfaces[0]?.addresses, []);
  });

  it("names each family's default route by the output interface of the first main-table route of length 0", () => {
    const table = interfaceTableFrom(
      dumpOf(
        LO,
        ETH0,
        link(3, IFF_UP, attr(IFLA_IFNAME, text('eth1')), attr(IFLA_OPERSTATE, u8(OPER.UP))),
        // A default route in another table (policy routing), and one in a table above 255 (RTA_TABLE, rtm_table COMPAT).
        routeVia(AF_INET, 0, 100, attr(RTA_GATEWAY, bytes(198, 51, 100, 254)), 3),
        route(AF_INET, 0, TABLE.COMPAT, attr(RTA_TABLE, u32(1000)), attr(RTA_OIF, u32(3))),
        routeVia(AF_INET, 24, TABLE.MAIN, attr(RTA_DST, bytes(198, 51, 100, 0)), 3),
        routeVia(AF_INET, 0, TABLE.MAIN, attr(RTA_GATEWAY, bytes(198, 51, 100, 1)), 2),
        route(AF_INET, 0, TABLE.MAIN, attr(RTA_TABLE, u32(TABLE.MAIN)), attr(RTA_OIF, u32(3))),
        routeVia(AF_INET6, 0, TABLE.MAIN, attr(RTA_GATEWAY, LINK_LOCAL), 3),
      ),
    );
    assert.deepEqual(table.defaultRoute, { 4: 'eth0', 6: 'eth1' });
  });

  it('has no default route when the first one has no output interface (a multipath route), as `ip -j` gave none', () => {
    const table = interfaceTableFrom(
      dumpOf(
        ETH0,
        route(AF_INET, 0, TABLE.MAIN, attr(RTA_TABLE, u32(TABLE.MAIN))),
        route(AF_INET, 0, TABLE.MAIN, attr(RTA_TABLE, u32(TABLE.MAIN)), attr(RTA_OIF, u32(2))),
      ),
    );
    assert.deepEqual(table.defaultRoute, {});
  });

  it('reads a default route via an IPv6 next hop (RTA_VIA, RFC 8950: `0/0 via inet6 fe80::1 dev eth0`), on which the package throws', () => {
    const via = new Uint8Array(18);
    via[0] = AF_INET6; // struct rtvia: u16 family (host order), then the address
    via.set([0xfe, 0x80], 2);
    via[17] = 1;
    const bytes = routeVia(AF_INET, 0, TABLE.MAIN, attr(RTA_VIA, via), 2);
    // netlink@0.3.0 reads struct rtvia as 3 bytes: before routeRecordFromBytes every dump on such a node failed
    // ("rtnetlink dump: Unexpected length for RouteVia") and the speaker did not start.
    assert.throws(() => dumpOf(bytes), /Unexpected length for RouteVia/);
    const [m] = parseMessages(bytes);
    assert.ok(m);
    const record = routeRecordFromBytes(m.data);
    assert.deepEqual(record, { family: AF_INET, dstLength: 0, table: TABLE.MAIN, outputIndex: 2 });
    const table = interfaceTableFrom({ ...dumpOf(ETH0), routes: [record] });
    assert.deepEqual(table.defaultRoute, { 4: 'eth0' });
    assert.equal(routeRecordFromBytes(new Uint8Array(8)), undefined, 'shorter than struct rtmsg');
  });

  it('prints hardware addresses as `ip link` does for Ethernet, and as colon-joined hex otherwise', () => {
    assert.equal(hardwareAddressText(MAC), '02:00:5e:10:00:0a');
    assert.equal(hardwareAddressText(undefined), '');
    assert.equal(hardwareAddressText(bytes(0xa, 0xb, 0xc)), '0a:0b:0c');
  });
});

describe('rtnetlink notifications', () => {
  it('reports link and address changes, and route changes only for default routes', () => {
    const kinds = [
      ETH0,
      address(AF_INET, 24, SCOPE.UNIVERSE, 2, attr(IFA_LOCAL, bytes(198, 51, 100, 10))),
      route(AF_INET, 0, TABLE.MAIN, attr(RTA_OIF, u32(2))),
      route(AF_INET6, 64, TABLE.MAIN, attr(RTA_DST, GLOBAL_V6), attr(RTA_OIF, u32(2))),
    ].map((bytesOf) => {
      const [m] = parseMessages(bytesOf);
      assert.ok(m);
      return changeOf(rt.parseMessage(messageType(m.type), m.data));
    });
    assert.deepEqual(kinds, ['link', 'address', 'default-route', undefined]);
  });
});
