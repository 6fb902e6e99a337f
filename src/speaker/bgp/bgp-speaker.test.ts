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
import { BgpSpeaker, type BgpTransport } from './bgp-speaker.ts';

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

function speakerWith(peers: () => readonly BGPPeer[]): { speaker: BgpSpeaker; clock: ManualClock; events: string[] } {
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
    recordEvent: (kind, name, _type, reason) => {
      events.push(`${kind}/${name}/${reason}`);
    },
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
