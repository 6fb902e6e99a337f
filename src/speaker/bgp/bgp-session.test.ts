// BgpSession against another BgpSession (and against a raw socket playing a hostile peer) over real TCP on
// loopback: establishment, the initial table and End-of-RIB, differences only, withdraw + Cease on stop, and the
// answers to bad input. Routes are counted on the receiving session.
import { after, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { once } from 'node:events';
import { parseIp } from '../../core/ip/ip-address.ts';
import { ok } from '../../core/result.ts';
import { encodeBgpMessage, decodeBgpMessage, KEEPALIVE, type BgpMessage } from '../../protocol/bgp/bgp-message.ts';
import { parseBgpPrefix, type BgpPrefix } from '../../protocol/bgp/nlri-prefix.ts';
import { localOpen, type SessionConfig } from '../../protocol/bgp/session-negotiation.ts';
import type { SessionTransition } from '../../protocol/bgp/session-fsm.ts';
import { nextMessageLength } from '../../protocol/bgp/message-header.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import { noBgpMetrics } from './bgp-metrics.ts';
import { BgpSession, type BgpRoute } from './bgp-session.ts';

const ip = (text: string): bigint => {
  const parsed = parseIp(text);
  assert.ok(parsed.ok);
  return parsed.value;
};
const prefix = (text: string): BgpPrefix => {
  const parsed = parseBgpPrefix(text);
  assert.ok(parsed.ok);
  return parsed.value;
};
const route = (text: string, communities: number[] = []): BgpRoute => ({
  prefix: prefix(text),
  attributes: { communities, largeCommunities: [] },
});

function config(localAs: number, peerAs: number, id: string, passive: boolean): SessionConfig {
  return {
    localAs,
    peerAs,
    bgpIdentifier: ip(id),
    holdTime: 9,
    connectRetryTime: 1,
    passive,
    families: ['ipv4-unicast', 'ipv6-unicast'],
    idleHoldTime: 1,
  };
}

interface Pair {
  speaker: BgpSession;
  router: BgpSession;
  transitions: { speaker: SessionTransition[]; router: SessionTransition[] };
  close(): Promise<void>;
}

/**
 * The sessions' timers (connect retry, idle hold, hold, keepalive) run on this clock; the TCP connections are real.
 * until() moves it as it polls, so the timers keep about the pace of real time; a test that must see a timer not
 * fire (or fire) moves it on its own.
 */
const clock = new ManualClock();

async function until(what: string, check: () => boolean, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    clock.advance(10);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** A passive "router" session on a loopback listener and an active "speaker" session connecting to it. */
async function pair(): Promise<Pair> {
  const transitions = { speaker: [] as SessionTransition[], router: [] as SessionTransition[] };
  const router = new BgpSession({
    peer: 'speaker',
    config: config(65000, 65001, '198.51.100.1', true),
    connect: () => ok(new net.Socket()),
    nextHops: () => ({}),
    clock,
    log: silentLogger(),
    metrics: noBgpMetrics,
    onTransition: (t) => transitions.router.push(t),
  });
  const server = net.createServer((socket) => {
    router.accept(socket);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as net.AddressInfo).port;
  const speaker = new BgpSession({
    peer: 'router',
    config: config(65001, 65000, '198.51.100.11', false),
    connect: () => ok(net.connect({ port, host: '127.0.0.1' })),
    nextHops: () => ({ ipv4: ip('198.51.100.11'), ipv6: ip('2001:db8:a::11') }),
    clock,
    log: silentLogger(),
    metrics: noBgpMetrics,
    onTransition: (t) => transitions.speaker.push(t),
  });
  router.start();
  return {
    speaker,
    router,
    transitions,
    close: async () => {
      await Promise.all([speaker.stop('test over', 500), router.stop('test over', 500)]);
      server.close();
    },
  };
}

describe('BgpSession over loopback TCP', () => {
  const cleanups: Array<() => Promise<void>> = [];
  after(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  it('establishes, sends the initial table with End-of-RIB, then only differences; stop withdraws and sends Cease', async () => {
    const p = await pair();
    cleanups.push(() => p.close());
    p.speaker.setRoutes([
      route('198.51.100.64/32', [65000 * 65536 + 100]),
      route('198.51.100.65/32'),
      route('2001:db8:a::100/128'),
    ]);
    p.speaker.start();
    await until(
      'Established on both ends',
      () => p.speaker.state === 'Established' && p.router.state === 'Established',
    );
    await until('3 routes at the router', () => p.router.prefixesReceived === 3);
    assert.equal(p.speaker.prefixesAdvertised, 3);
    assert.deepEqual(p.speaker.negotiated?.families, ['ipv4-unicast', 'ipv6-unicast']);

    p.speaker.setRoutes([
      route('198.51.100.64/32', [65000 * 65536 + 100]),
      route('2001:db8:a::100/128'),
      route('2001:db8:a::101/128'),
    ]);
    await until(
      'one withdrawn, one added',
      () => p.router.prefixesReceived === 3 && p.speaker.prefixesAdvertised === 3,
    );
    p.speaker.setRoutes([route('2001:db8:a::101/128')]);
    await until('two withdrawn', () => p.router.prefixesReceived === 1);

    await p.speaker.stop('maintenance');
    await until('router saw the Cease', () => p.router.state !== 'Established');
    const down = p.transitions.router.find((t) => t.from === 'Established');
    assert.ok(down);
    assert.equal(down.reason, 'notification-received');
    assert.equal(down.receivedNotification?.code, 6, 'Cease');
    assert.equal(down.receivedNotification.subcode, 2, 'Administrative Shutdown');
    assert.equal(p.speaker.state, 'Idle');
  });

  it('BFD down: Cease / BFD Down at once, the session stays in Idle past its idle hold time, and starts again when BFD is up', async () => {
    const p = await pair();
    cleanups.push(() => p.close());
    p.speaker.setRoutes([route('198.51.100.64/32')]);
    p.speaker.start();
    await until(
      'Established on both ends',
      () => p.speaker.state === 'Established' && p.router.state === 'Established',
    );
    p.speaker.bfdDown();
    assert.equal(p.speaker.state, 'Idle', 'torn down in the same tick');
    await until('router saw the Cease', () => p.router.state !== 'Established');
    const down = p.transitions.router.find((t) => t.from === 'Established');
    assert.deepEqual(
      [down?.receivedNotification?.code, down?.receivedNotification?.subcode],
      [6, 10],
      'Cease / BFD Down (RFC 9384)',
    );
    assert.equal(p.transitions.speaker.find((t) => t.from === 'Established')?.reason, 'bfd-down');
    // The idle hold time is 1 s: without the hold the session would start connecting again when it runs out.
    clock.advance(2500);
    assert.equal(p.speaker.state, 'Idle', 'held while BFD is down');
    p.speaker.bfdUp();
    await until('Established again', () => p.speaker.state === 'Established' && p.router.state === 'Established');
    await until('route back at the router', () => p.router.prefixesReceived === 1);
  });

  it('routes whose attributes cannot fit any UPDATE are not sent; the session and the other routes stay up (no throw)', async () => {
    const p = await pair();
    cleanups.push(() => p.close());
    const huge: BgpRoute = {
      prefix: prefix('198.51.100.70/32'),
      attributes: { communities: Array.from({ length: 1100 }, (_, i) => 65000 * 65536 + i), largeCommunities: [] },
    };
    p.speaker.setRoutes([route('198.51.100.64/32'), huge]);
    p.speaker.start();
    await until(
      'Established on both ends',
      () => p.speaker.state === 'Established' && p.router.state === 'Established',
    );
    await until('the small route at the router', () => p.router.prefixesReceived === 1);
    p.speaker.setRoutes([route('198.51.100.64/32'), huge, route('198.51.100.65/32')]);
    await until('a later route too', () => p.router.prefixesReceived === 2);
    assert.equal(p.speaker.prefixesAdvertised, 2);
    assert.equal(p.speaker.state, 'Established');
  });

  it('a passive session refuses a second connection while one is in use', async () => {
    const p = await pair();
    cleanups.push(() => p.close());
    p.speaker.start();
    await until('Established', () => p.router.state === 'Established');
    const extra = new net.Socket();
    p.router.accept(extra);
    assert.ok(extra.destroyed);
    assert.equal(p.router.state, 'Established');
  });
});

describe('BgpSession against a hostile peer', () => {
  /** A raw TCP peer: answers the OPEN, then sends what the test says; collects what the session sent. */
  async function hostile(): Promise<{
    session: BgpSession;
    received: BgpMessage[];
    peer: Promise<net.Socket>;
    close: () => Promise<void>;
  }> {
    const received: BgpMessage[] = [];
    let buffered = new Uint8Array(0);
    const server = net.createServer();
    const peer = new Promise<net.Socket>((resolve) => {
      server.once('connection', (socket: net.Socket) => {
        socket.on('data', (chunk: Buffer) => {
          const joined = new Uint8Array(buffered.length + chunk.length);
          joined.set(buffered);
          joined.set(chunk, buffered.length);
          buffered = joined;
          for (;;) {
            const length = nextMessageLength(buffered);
            if (!length.ok || length.value === undefined || buffered.length < length.value) break;
            const outcome = decodeBgpMessage(buffered.subarray(0, length.value), { fourOctetAs: true });
            if (outcome.kind === 'ok') received.push(outcome.message);
            buffered = buffered.slice(length.value);
          }
        });
        socket.on('error', () => undefined);
        const open = localOpen(config(65000, 65001, '198.51.100.1', true));
        socket.write(encodeBgpMessage(open, { fourOctetAs: true }));
        socket.write(encodeBgpMessage(KEEPALIVE, { fourOctetAs: true }));
        resolve(socket);
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as net.AddressInfo).port;
    const session = new BgpSession({
      peer: 'hostile',
      config: config(65001, 65000, '198.51.100.11', false),
      connect: () => ok(net.connect({ port, host: '127.0.0.1' })),
      nextHops: () => ({ ipv4: ip('198.51.100.11') }),
      clock,
      log: silentLogger(),
      metrics: noBgpMetrics,
      onTransition: () => undefined,
    });
    session.start();
    return {
      session,
      received,
      peer,
      close: async () => {
        await session.stop('test over', 300);
        server.close();
      },
    };
  }

  const header = (type: number, body: number[]): Buffer =>
    Buffer.from([...Array<number>(16).fill(0xff), 0, 19 + body.length, type, ...body]);

  it('an UPDATE with a malformed ORIGIN is treat-as-withdraw: the session stays up', async () => {
    const h = await hostile();
    try {
      const socket = await h.peer;
      await until('Established', () => h.session.state === 'Established');
      // ORIGIN value 5 (invalid), AS_PATH empty, NEXT_HOP 198.51.100.1, NLRI 198.51.100.99/32.
      const attrs = [0x40, 1, 1, 5, 0x40, 2, 0, 0x40, 3, 4, 198, 51, 100, 1];
      socket.write(header(2, [0, 0, 0, attrs.length, ...attrs, 32, 198, 51, 100, 99]));
      socket.write(encodeBgpMessage(KEEPALIVE, { fourOctetAs: true }));
      await new Promise((resolve) => setTimeout(resolve, 200));
      assert.equal(h.session.state, 'Established');
      assert.equal(h.session.prefixesReceived, 0);
      assert.ok(!h.received.some((m) => m.type === 'notification'));
    } finally {
      await h.close();
    }
  });

  it('an unknown message type gets Bad Message Type and the session closes', async () => {
    const h = await hostile();
    try {
      const socket = await h.peer;
      await until('Established', () => h.session.state === 'Established');
      socket.write(header(9, []));
      await until('notification sent', () => h.received.some((m) => m.type === 'notification'));
      const sent = h.received.find((m) => m.type === 'notification');
      assert.equal(sent?.type === 'notification' && sent.code, 1);
      assert.equal(sent?.type === 'notification' && sent.subcode, 3);
      await until('session left Established', () => h.session.state !== 'Established');
    } finally {
      await h.close();
    }
  });

  it('a huge AS_PATH and unknown optional attributes are decoded without harm', async () => {
    const h = await hostile();
    try {
      const socket = await h.peer;
      await until('Established', () => h.session.state === 'Established');
      const asns = Array.from({ length: 250 }, () => [0, 0, 0xfd, 0xe8]).flat(); // 250 x AS 65000, 4 octets
      const segments = [2, 250, ...asns, 2, 250, ...asns, 2, 250, ...asns];
      const asPath = [0x50, 2, segments.length >> 8, segments.length & 0xff, ...segments];
      const unknown = [0xc0, 99, 3, 1, 2, 3];
      const attrs = [0x40, 1, 1, 0, ...asPath, 0x40, 3, 4, 198, 51, 100, 1, ...unknown];
      const body = [0, 0, attrs.length >> 8, attrs.length & 0xff, ...attrs, 32, 198, 51, 100, 98];
      const length = 19 + body.length;
      socket.write(Buffer.from([...Array<number>(16).fill(0xff), length >> 8, length & 0xff, 2, ...body]));
      await until('route counted', () => h.session.prefixesReceived === 1);
      assert.equal(h.session.state, 'Established');
    } finally {
      await h.close();
    }
  });
});
