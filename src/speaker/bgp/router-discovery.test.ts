import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ok, err } from '../../core/result.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { fromHex, toHex } from '../../protocol/testdata/hex-bytes.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import {
  ADVERTISE_INTERVAL_MS,
  DISCOVERY_TIMEOUT_MS,
  ROUTER_HOLD_MS,
  RouterDiscovery,
  SOLICIT_INTERVAL_MS,
} from './router-discovery.ts';

// FRR 8.4's Router Advertisement from fe80::8073:d9ff:fe55:ff18 (see src/protocol/ndp/router-discovery.test.ts).
const FRR_RA =
  '3333000000018273d955ff1886dd600a544300183afffe800000000000008073d9fffe55ff18ff02000000000000000000000000000186' +
  '0088444000001e000000000000000001018273d955ff18';
// The same RA from fe80::8073:d9ff:fe55:ff19 (source and checksum changed).
const OTHER_RA = FRR_RA.replace('d9fffe55ff18ff02', 'd9fffe55ff19ff02').replace('86008844', '86008843');
// The kernel's solicitation from fe80::14ec:52ff:fe32:3202 / 16:ec:52:32:32:02.
const LINUX_RS =
  '33330000000216ec5232320286dd6000000000103afffe8000000000000014ec52fffe323202ff0200000000000000000000000000028500' +
  '48ed00000000010116ec52323202';

const table: InterfaceTable = {
  defaultRoute: {},
  interfaces: [
    {
      name: 'un0',
      index: 7,
      mac: '16:ec:52:32:32:02',
      up: true,
      addresses: [{ family: 6, address: 0xfe80_0000_0000_0000_14ec_52ff_fe32_3202n, prefixLength: 64 }],
    },
  ],
};

function setUp(open: 'ok' | 'fail' = 'ok') {
  const clock = new ManualClock();
  const sent: string[] = [];
  const opened: number[] = [];
  let closed = 0;
  let deliver: (frame: Uint8Array) => void = () => undefined;
  let changes = 0;
  const discovery = new RouterDiscovery({
    clock,
    log: silentLogger(),
    interfaceTable: () => table,
    open: (ifindex, onFrame) => {
      opened.push(ifindex);
      if (open === 'fail') return err('EPERM: operation not permitted');
      deliver = onFrame;
      return ok({
        send: (frame) => {
          sent.push(toHex(frame));
          return ok(undefined);
        },
        close: () => {
          closed++;
        },
      });
    },
    onChange: () => {
      changes++;
    },
  });
  return {
    clock,
    discovery,
    /** Router Solicitations sent (ICMPv6 type 133 = 0x85 at byte 54). */
    solicitations: () => sent.filter((f) => f.slice(108, 110) === '85'),
    /** Our own Router Advertisements (type 134 = 0x86). */
    advertisements: () => sent.filter((f) => f.slice(108, 110) === '86'),
    opened,
    closed: () => closed,
    changes: () => changes,
    ra: (hex: string) => {
      deliver(fromHex(hex));
    },
  };
}

describe('RouterDiscovery', () => {
  it('solicits at once (the kernel solicitation byte for byte), three times 4 s apart, and takes the RA source', () => {
    const t = setUp();
    assert.equal(t.discovery.watch('un0').kind, 'waiting');
    assert.deepEqual(t.opened, [7]);
    assert.deepEqual(t.solicitations(), [LINUX_RS]);
    t.clock.advance(SOLICIT_INTERVAL_MS * 5);
    assert.equal(t.solicitations().length, 3, 'RFC 4861 MAX_RTR_SOLICITATIONS');
    t.ra(FRR_RA);
    assert.equal(t.changes(), 1);
    assert.deepEqual(t.discovery.watch('un0'), { kind: 'found', address: 'fe80::8073:d9ff:fe55:ff18' });
    t.ra(FRR_RA);
    assert.equal(t.changes(), 1, 'the same router again is no change');
  });

  it('advertises the node (router lifetime 0, from its link-local address) at once, periodically, and to a new router', () => {
    const t = setUp();
    t.discovery.watch('un0');
    assert.equal(t.advertisements().length, 1);
    const ra = t.advertisements()[0] ?? '';
    assert.equal(ra.slice(0, 12), '333300000001', 'to all nodes');
    assert.equal(ra.slice(44, 76), 'fe8000000000000014ec52fffe323202', 'from the link-local address');
    assert.equal(ra.slice(108 + 12, 108 + 16), '0000', 'router lifetime 0');
    t.clock.advance(ADVERTISE_INTERVAL_MS * 2);
    assert.equal(t.advertisements().length, 3);
    t.ra(FRR_RA);
    assert.equal(t.advertisements().length, 4, 'at once when the router appears');
    t.clock.advance(ADVERTISE_INTERVAL_MS - 1);
    assert.equal(t.advertisements().length, 4, 'the interval restarts');
  });

  it('no RA within the timeout: timed-out (and a pass); an RA afterwards still finds the router', () => {
    const t = setUp();
    t.discovery.watch('un0');
    t.clock.advance(DISCOVERY_TIMEOUT_MS - 1);
    assert.equal(t.discovery.watch('un0').kind, 'waiting');
    t.clock.advance(1);
    assert.deepEqual(t.discovery.watch('un0'), { kind: 'timed-out', afterMs: DISCOVERY_TIMEOUT_MS });
    assert.equal(t.changes(), 1);
    t.ra(FRR_RA);
    assert.equal(t.discovery.watch('un0').kind, 'found');
  });

  it('a second router is ignored while the first is heard, and replaces it once the first is silent', () => {
    const t = setUp();
    t.discovery.watch('un0');
    t.ra(FRR_RA);
    t.clock.advance(ROUTER_HOLD_MS - 1);
    t.ra(OTHER_RA);
    assert.deepEqual(t.discovery.watch('un0'), { kind: 'found', address: 'fe80::8073:d9ff:fe55:ff18' });
    t.clock.advance(1);
    t.ra(OTHER_RA);
    assert.deepEqual(t.discovery.watch('un0'), { kind: 'found', address: 'fe80::8073:d9ff:fe55:ff19' });
    assert.equal(t.changes(), 2);
  });

  it("another node's announcement (lifetime 0, hop limit 0) on a shared segment is not taken for the router", () => {
    const t = setUp();
    t.discovery.watch('un0');
    const own = t.advertisements()[0] ?? '';
    t.ra(own);
    assert.equal(t.discovery.watch('un0').kind, 'waiting');
    assert.equal(t.changes(), 0);
  });

  it('malformed frames are dropped; retain() closes the interfaces no peer needs', () => {
    const t = setUp();
    t.discovery.watch('un0');
    t.ra(LINUX_RS);
    t.ra(FRR_RA.slice(0, 100));
    assert.equal(t.discovery.watch('un0').kind, 'waiting');
    t.discovery.retain(new Set(['un0']));
    assert.equal(t.closed(), 0);
    t.discovery.retain(new Set());
    assert.equal(t.closed(), 1);
    assert.deepEqual(t.discovery.watching, []);
    assert.equal(t.clock.pendingTimers, 0, 'timers cancelled');
  });

  it('a missing interface or a socket that cannot open is a failure with the reason', () => {
    const t = setUp('fail');
    assert.deepEqual(t.discovery.watch('eth9'), {
      kind: 'failed',
      message: 'interface eth9 does not exist on this node',
    });
    const state = t.discovery.watch('un0');
    assert.ok(state.kind === 'failed');
    assert.match(state.message, /cannot open a packet socket: EPERM/);
  });
});
