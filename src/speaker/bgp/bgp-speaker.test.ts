import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { BGPPeer } from '../../core/config/api-types.generated.ts';
import { parseIp } from '../../core/ip/ip-address.ts';
import { err } from '../../core/result.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { ManualClock } from '../../test-support/manual-clock.ts';
import { silentLogger } from '../../test-support/silent-logger.ts';
import { noBgpMetrics } from './bgp-metrics.ts';
import type { BgpInputs } from './bgp-plan.ts';
import { BgpSpeaker, type BgpTransport, type RouterFinder } from './bgp-speaker.ts';
import type { RouterState } from './router-discovery.ts';

const v4 = parseIp('198.51.100.11');
assert.ok(v4.ok);
const table: InterfaceTable = {
  interfaces: [
    {
      name: 'eth0',
      index: 2,
      mac: '02:00:00:00:00:01',
      up: true,
      addresses: [{ family: 4, address: v4.value, prefixLength: 25 }],
    },
  ],
  defaultRoute: {},
};

/** A peer whose password Secret does not exist: its settings fail, so it is reported and never connects. */
const brokenPeer = (name: string): BGPPeer => ({
  apiVersion: 'beaconlb.io/v1alpha1',
  kind: 'BGPPeer',
  metadata: { name },
  spec: { myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1', passwordSecretRef: { name: `missing-${name}` } },
});

const noTransport: BgpTransport = {
  connect: () => err({ reason: 'connect-failed', message: 'no network in this test' }),
  listen: () => Promise.resolve(err({ reason: 'connect-failed', message: 'no network in this test' })),
  configureAccepted: () => err({ reason: 'socket-option', message: 'no network in this test' }),
};

function speakerWith(
  peers: () => readonly BGPPeer[],
  routers?: RouterFinder,
): { speaker: BgpSpeaker; clock: ManualClock; events: string[] } {
  const clock = new ManualClock();
  const events: string[] = [];
  const inputs = (): BgpInputs => ({
    services: [],
    namespaces: [],
    pools: [],
    peers: peers(),
    advertisements: [],
    nodes: [{ metadata: { name: 'node1', labels: {} } }],
    endpointSlices: [],
    loadBalancerClass: 'beaconlb.io/beaconlb',
  });
  const speaker = new BgpSpeaker({
    node: 'node1',
    clock,
    log: silentLogger(),
    metrics: noBgpMetrics,
    inputs,
    interfaceTable: () => table,
    password: () => undefined,
    transport: noTransport,
    recordEvent: (kind, name, _type, reason, message) => {
      events.push(`${kind}/${name}/${reason}`);
      if (reason.startsWith('Router')) events.push(message);
    },
    ...(routers === undefined ? {} : { routers }),
  });
  return { speaker, clock, events };
}

describe('BgpSpeaker problem reports', () => {
  it('the #reported map stays bounded: 1,000 short-lived broken peers leave at most the live ones remembered', async () => {
    let current: BGPPeer[] = [];
    const { speaker, clock, events } = speakerWith(() => current);
    speaker.start(Promise.resolve());
    await clock.settle();
    for (let i = 0; i < 1000; i++) {
      current = [brokenPeer(`peer-${i}`)];
      speaker.changed();
      await clock.settle();
      assert.ok(speaker.reportedProblems <= 1, `after peer-${i}: ${speaker.reportedProblems} problems remembered`);
    }
    assert.equal(events.length, 1000, 'each broken peer is reported once');
    current = [];
    speaker.changed();
    await clock.settle();
    assert.equal(speaker.reportedProblems, 0);
    await speaker.stop();
  });

  it('two passive peers at one address: the second is refused with a problem (a connection could not be told apart)', async () => {
    const passive = (name: string): BGPPeer => ({
      apiVersion: 'beaconlb.io/v1alpha1',
      kind: 'BGPPeer',
      metadata: { name },
      spec: { myASN: 65001, peerASN: 65000, peerAddress: '198.51.100.1', passive: true },
    });
    const { speaker, clock, events } = speakerWith(() => [passive('a'), passive('b')]);
    speaker.start(Promise.resolve());
    await clock.settle();
    // (This test has no network: the listener cannot open, which peer a is told as ListenFailed.)
    assert.deepEqual(
      events.filter((e) => e.endsWith('/InvalidConfiguration')),
      ['BGPPeer/b/InvalidConfiguration'],
    );
    assert.deepEqual(
      speaker.sessions().map((s) => s.peer),
      ['a'],
    );
    await speaker.stop();
  });

  it('a problem is not repeated on every pass, and is reported again when it comes back after going away', async () => {
    let current: BGPPeer[] = [brokenPeer('router')];
    const { speaker, clock, events } = speakerWith(() => current);
    speaker.start(Promise.resolve());
    await clock.settle();
    for (let i = 0; i < 5; i++) {
      speaker.changed();
      await clock.settle();
    }
    assert.deepEqual(events, ['BGPPeer/router/InvalidConfiguration']);
    current = [];
    speaker.changed();
    await clock.settle();
    current = [brokenPeer('router')];
    speaker.changed();
    await clock.settle();
    assert.deepEqual(events, ['BGPPeer/router/InvalidConfiguration', 'BGPPeer/router/InvalidConfiguration']);
    await speaker.stop();
  });
});

describe('BgpSpeaker unnumbered peers (interface alone, ADR 0035)', () => {
  const unnumbered: BGPPeer = {
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'BGPPeer',
    metadata: { name: 'fabric' },
    spec: { myASN: 65001, peerASN: 65000, interface: 'eth*' },
  };

  it('waits for the router, reports a timeout, connects to the router found and moves with it', async () => {
    let state: RouterState = { kind: 'waiting', sinceMs: 0 };
    const retained: string[][] = [];
    const finder: RouterFinder = {
      watch: (name) => {
        assert.equal(name, 'eth0', 'the pattern resolved on this node');
        return state;
      },
      retain: (names) => {
        retained.push([...names]);
      },
      stop: () => undefined,
    };
    let peers: BGPPeer[] = [unnumbered];
    const { speaker, clock, events } = speakerWith(() => peers, finder);
    speaker.start(Promise.resolve());
    await clock.settle();
    assert.equal(speaker.sessions().length, 0);
    assert.equal(events.length, 0);
    assert.deepEqual(retained.at(-1), ['eth0']);

    state = { kind: 'timed-out', afterMs: 30_000 };
    speaker.changed();
    await clock.settle();
    speaker.changed();
    await clock.settle();
    assert.deepEqual(
      events.filter((e) => e.startsWith('BGPPeer/')),
      ['BGPPeer/fabric/RouterNotFound'],
      'once',
    );
    assert.match(events[1] ?? '', /node node1: no IPv6 Router Advertisement on eth0 in 30s/);

    state = { kind: 'found', address: 'fe80::1' };
    speaker.changed();
    await clock.settle();
    assert.deepEqual(
      speaker.sessions().map((s) => [s.peer, s.peerAddress]),
      [['fabric', 'fe80::1']],
    );
    assert.match(events.at(-1) ?? '', /router fe80::1 found on eth0 by its Router Advertisement$/);

    state = { kind: 'found', address: 'fe80::2' };
    speaker.changed();
    await clock.settle();
    assert.deepEqual(
      speaker.sessions().map((s) => [s.peer, s.peerAddress]),
      [['fabric', 'fe80::2']],
    );
    assert.match(events.at(-1) ?? '', /router fe80::2 found on eth0 .*\(was fe80::1\): the session moves there/);

    peers = [];
    speaker.changed();
    await clock.settle();
    assert.deepEqual(retained.at(-1), [], 'discovery released with the last unnumbered peer');
    await speaker.stop();
  });

  it('a speaker without router discovery reports the peer as InvalidConfiguration', async () => {
    const { speaker, clock, events } = speakerWith(() => [unnumbered]);
    speaker.start(Promise.resolve());
    await clock.settle();
    assert.deepEqual(events, ['BGPPeer/fabric/InvalidConfiguration']);
    await speaker.stop();
  });
});
