// Two nodes' BfdSessions talking to each other through an in-memory network on one manual clock: sessions come
// Up, detect a cut within Detect Mult x the interval, tell their clients, come back; packets are demultiplexed by
// discriminator and source; AdminDown on release is no failure for the peer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ok } from '../../core/result.ts';
import type { ReceivedBfdDatagram } from '../../platform/bfd-transport.ts';
import { encodeBfdControlPacket } from '../../protocol/bfd/control-packet.ts';
import { ManualClock, flushMicrotasks } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import type { BfdChange } from './bfd-session.ts';
import { BfdSessions, RETRY_MS, type BfdPath, type BfdSettings, type BfdTransport } from './bfd-sessions.ts';

const FAST: BfdSettings = { desiredMinTxMs: 100, requiredMinRxMs: 100, detectMultiplier: 3, passive: false };

/** Two hosts on one link; `cut` drops everything; every packet sent is recorded with its source port. */
function network(clock: ManualClock) {
  const receivers = new Map<string, (d: ReceivedBfdDatagram) => void>();
  const state = { cut: false, sent: [] as Array<{ from: string; port: number; bytes: Uint8Array }> };
  let ports = 49152;
  const transport = (self: string): BfdTransport => ({
    openReceiver: (_family, onDatagram) => {
      receivers.set(self, onDatagram);
      return Promise.resolve(ok({ close: () => receivers.delete(self) }));
    },
    openSender: (family) => {
      const port = ports++;
      return Promise.resolve(
        ok({
          port,
          send: (bytes: Uint8Array, to: string) => {
            state.sent.push({ from: self, port, bytes });
            if (state.cut) return;
            const deliver = receivers.get(to);
            // Delivered 1 ms later, like a wire.
            clock.after(1, () => deliver?.({ bytes, address: self, port, family }));
          },
          close: () => undefined,
        }),
      );
    },
  });
  return { state, transport, receivers };
}

const path = (peer: string, local: string): BfdPath => ({
  peerAddress: peer,
  family: 4,
  interfaceName: 'eth0',
  localAddress: local,
});

async function twoNodes(settings: { a?: BfdSettings; b?: BfdSettings } = {}) {
  const clock = new ManualClock(1000);
  const net = network(clock);
  let seed = 1;
  const random = (): number => (seed = (seed * 16807) % 2147483647) / 2147483647;
  const a = new BfdSessions({ clock, log: silentLogger(), transport: net.transport('198.51.100.11'), random });
  const b = new BfdSessions({ clock, log: silentLogger(), transport: net.transport('198.51.100.1'), random });
  const changes = { a: [] as BfdChange[], b: [] as BfdChange[] };
  const ha = a.track(path('198.51.100.1', '198.51.100.11'), settings.a ?? FAST, (c) => changes.a.push(c));
  const hb = b.track(path('198.51.100.11', '198.51.100.1'), settings.b ?? FAST, (c) => changes.b.push(c));
  for (let i = 0; i < 5; i++) await flushMicrotasks(); // sockets open
  return { clock, net, a, b, ha, hb, changes };
}

describe('BfdSessions', () => {
  it('two sessions come Up within a few slow-rate packets and then run at 100 ms (at most 100 ms apart, at least 75)', async () => {
    const t = await twoNodes();
    t.clock.advance(3000);
    assert.equal(t.ha.state(), 'Up');
    assert.equal(t.hb.state(), 'Up');
    assert.deepEqual(t.changes.a, [{ up: true }]);
    const [status] = t.a.sessions();
    assert.deepEqual([status?.transmitIntervalMs, status?.detectionTimeMs], [100, 300]);
    const from = t.net.state.sent.length;
    t.clock.advance(1000);
    const sentByA = t.net.state.sent.slice(from).filter((p) => p.from === '198.51.100.11').length;
    assert.ok(sentByA >= 10 && sentByA <= 14, `${sentByA} packets in 1 s`);
    assert.equal(
      new Set(t.net.state.sent.filter((p) => p.from === '198.51.100.11').map((p) => p.port)).size,
      1,
      'one source port for the session',
    );
  });

  it('a cut is detected within Detect Mult x 100 ms by both ends, a failure for the clients; healed, both come Up again', async () => {
    const t = await twoNodes();
    t.clock.advance(3000);
    t.net.state.cut = true;
    const cutAt = t.clock.now();
    let downAt = 0;
    for (let ms = 0; ms < 1000 && downAt === 0; ms += 5) {
      t.clock.advance(5);
      if (t.ha.state() === 'Down') downAt = t.clock.now();
    }
    assert.ok(downAt - cutAt > 200 && downAt - cutAt <= 305, `detected after ${downAt - cutAt} ms`);
    t.clock.advance(400);
    assert.deepEqual(t.changes.a.at(-1), { up: false, reason: 'detection-time-expired', failure: true });
    assert.deepEqual(t.changes.b.at(-1), { up: false, reason: 'detection-time-expired', failure: true });
    t.net.state.cut = false;
    t.clock.advance(4000);
    assert.deepEqual([t.ha.state(), t.hb.state()], ['Up', 'Up']);
  });

  it('release sends AdminDown: the peer goes Down without a failure (RFC 5882 section 3.2)', async () => {
    const t = await twoNodes();
    t.clock.advance(3000);
    t.ha.release();
    t.clock.advance(10);
    assert.deepEqual(t.changes.b.at(-1), { up: false, reason: 'peer-admin-down', failure: false });
    assert.deepEqual(t.a.sessions(), []);
  });

  it('packets from an address with no session and undecodable packets are discarded; a second client shares the session', async () => {
    const t = await twoNodes();
    t.clock.advance(3000);
    const deliver = t.net.receivers.get('198.51.100.11');
    assert.ok(deliver);
    const stranger = encodeBfdControlPacket({
      diagnostic: 0,
      state: 'Down',
      poll: false,
      final: false,
      controlPlaneIndependent: false,
      demand: false,
      detectMultiplier: 3,
      myDiscriminator: 7,
      yourDiscriminator: 0,
      desiredMinTxInterval: 1_000_000,
      requiredMinRxInterval: 1_000_000,
      requiredMinEchoRxInterval: 0,
    });
    deliver({ bytes: stranger, address: '198.51.100.99', port: 50000, family: 4 });
    deliver({ bytes: new Uint8Array(10), address: '198.51.100.1', port: 50000, family: 4 });
    assert.equal(t.ha.state(), 'Up');
    const second: BfdChange[] = [];
    const again = t.a.track(path('198.51.100.1', '198.51.100.11'), FAST, (c) => second.push(c));
    assert.equal(again.state(), 'Up', 'the running session');
    assert.equal(t.a.sessions().length, 1);
    t.ha.release();
    t.clock.advance(500);
    assert.equal(again.state(), 'Up', 'still needed by the second client');
  });

  it('a passive end sends nothing until it hears the peer, then comes Up', async () => {
    const t = await twoNodes({ a: { ...FAST, passive: true } });
    t.clock.advance(3000);
    assert.deepEqual([t.ha.state(), t.hb.state()], ['Up', 'Up']);
    const firstA = t.net.state.sent.findIndex((p) => p.from === '198.51.100.11');
    const firstB = t.net.state.sent.findIndex((p) => p.from === '198.51.100.1');
    assert.ok(firstB < firstA, 'the active end spoke first');
  });

  it('port 3784 taken: every client hears why the session cannot run, also one that joins later', async () => {
    const clock = new ManualClock(0);
    const errors: string[] = [];
    const sessions = new BfdSessions({
      clock,
      log: silentLogger(),
      transport: {
        openReceiver: () =>
          Promise.resolve({
            ok: false,
            error: { reason: 'bind-failed', message: 'binding UDP port 3784 (IPv4): bind EADDRINUSE 0.0.0.0:3784' },
          }),
        openSender: () => Promise.reject(new Error('not reached')),
      },
    });
    const handle = sessions.track(
      path('198.51.100.1', '198.51.100.11'),
      FAST,
      () => undefined,
      (m) => errors.push(m),
    );
    for (let i = 0; i < 5; i++) await flushMicrotasks();
    assert.equal(handle.state(), 'AdminDown');
    sessions.track(
      path('198.51.100.1', '198.51.100.11'),
      FAST,
      () => undefined,
      (m) => errors.push(`late: ${m}`),
    );
    assert.deepEqual(errors, [
      'cannot receive BFD packets (UDP port 3784, IPv4): see the speaker log',
      'late: cannot receive BFD packets (UDP port 3784, IPv4): see the speaker log',
    ]);
  });

  it('port 3784 freed: the session is tried again and comes up', async () => {
    const clock = new ManualClock(0);
    const net = network(clock);
    let taken = true;
    let receiversOpen = 0;
    const inner = net.transport('198.51.100.11');
    const sessions = new BfdSessions({
      clock,
      log: silentLogger(),
      transport: {
        openReceiver: (family, onDatagram, onError) => {
          if (taken)
            return Promise.resolve({
              ok: false,
              error: { reason: 'bind-failed', message: 'bind EADDRINUSE 0.0.0.0:3784' },
            });
          receiversOpen++;
          return inner.openReceiver(family, onDatagram, onError).then((r) =>
            r.ok
              ? ok({
                  close: () => {
                    receiversOpen--;
                    r.value.close();
                  },
                })
              : r,
          );
        },
        openSender: (family, local) => inner.openSender(family, local),
      },
    });
    const handle = sessions.track(path('198.51.100.1', '198.51.100.11'), FAST, () => undefined);
    for (let i = 0; i < 5; i++) await flushMicrotasks();
    assert.equal(sessions.sessions().length, 0, 'no session while the port is taken');
    taken = false;
    clock.advance(RETRY_MS);
    for (let i = 0; i < 5; i++) await flushMicrotasks();
    assert.equal(sessions.sessions().length, 1, 'the session started once the port was free');
    assert.equal(receiversOpen, 1);
    handle.release();
  });
});
