// migrateMetalLB: BGPPeer (sessions, BFD profiles, passwords).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { formatNote, somethingLeftOut, type MigrationNoteKind } from './migration-notes.ts';
import { MIGRATED_FROM_ANNOTATION, PASSWORD_PLACEHOLDER } from './migrated-objects.ts';
import type { BGPPeer } from '../api-types.generated.ts';
import { metallb, peer, migrate, peers, secrets, kinds, note } from '../../../test-support/metallb-migration-rig.ts';

describe('migrateMetalLB: BGPPeer', () => {
  it('translates a v1beta2 peer field by field, writing the one address family MetalLB negotiates', () => {
    const r = migrate(
      peer('router', {
        peerPort: 1179,
        sourceAddress: '198.51.100.10',
        holdTime: '30s',
        keepaliveTime: '10s',
        connectTime: '5s',
        routerID: '198.51.100.10',
        nodeSelectors: [{ matchLabels: { 'bgp.example/enabled': 'true' } }],
        ebgpMultiHop: true,
        enableGracefulRestart: true,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => p.spec),
      [
        {
          myASN: 64512,
          peerASN: 64500,
          peerAddress: '198.51.100.1',
          peerPort: 1179,
          sourceAddress: '198.51.100.10',
          connectTime: '5s',
          holdTime: '30s',
          keepaliveTime: '10s',
          routerID: '198.51.100.10',
          nodeSelector: { matchLabels: { 'bgp.example/enabled': 'true' } },
          gracefulRestart: { enabled: true },
          ebgpMultiHop: true,
          addressFamilies: ['ipv4-unicast'],
        },
      ],
    );
    assert.deepEqual(r.notes, []);
  });

  it('negotiates both families with dualStackAddressFamily, and IPv6 for an IPv6 router', () => {
    const r = migrate(peer('dual', { dualStackAddressFamily: true }), peer('v6', { peerAddress: '2001:db8::1' }));
    assert.deepEqual(
      peers(r).map((p) => p.spec.addressFamilies),
      [['ipv4-unicast', 'ipv6-unicast'], ['ipv6-unicast']],
    );
  });

  it('reads v1beta1 peers (legacy node selectors) like v1beta2', () => {
    const r = migrate(
      peer(
        'old',
        {
          nodeSelectors: [{ matchLabels: { a: 'b' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['d'] }] }],
        },
        'metallb.io/v1beta1',
      ),
    );
    assert.deepEqual(peers(r)[0]?.spec.nodeSelector, {
      matchLabels: { a: 'b' },
      matchExpressions: [{ key: 'c', operator: 'In', values: ['d'] }],
    });
    assert.equal(
      peers(r)[0]?.metadata.annotations?.[MIGRATED_FROM_ANNOTATION],
      'BGPPeer.metallb.io metallb-system/old',
    );
  });

  it('turns a plain password into a Secret reference with a placeholder Secret, and never carries the password', () => {
    const password = 'hunter2-Very-Secret';
    const r = migrate(peer('router', { password }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 'router-bgp-password', key: 'password' });
    assert.deepEqual(secrets(r), [
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: {
          name: 'router-bgp-password',
          namespace: 'beaconlb-system',
          annotations: { [MIGRATED_FROM_ANNOTATION]: 'BGPPeer.metallb.io metallb-system/router spec.password' },
        },
        type: 'Opaque',
        stringData: { password: PASSWORD_PLACEHOLDER },
      },
    ]);
    assert.equal(r.objects[0]?.kind, 'Secret', 'the Secret comes before the peer that uses it');
    const n = note(r, 'PasswordPlaceholder');
    assert.equal(n.severity, 'omitted');
    assert.doesNotMatch(JSON.stringify(r), new RegExp(password));
    assert.doesNotMatch(r.notes.map(formatNote).join('\n'), /hunter2/);
  });

  it('keeps a passwordSecret as a reference and says the Secret must be copied', () => {
    const r = migrate(peer('router', { passwordSecret: { name: 'bgp-secret', namespace: 'metallb-system' } }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 'bgp-secret', key: 'password' });
    assert.deepEqual(secrets(r), []);
    const n = note(r, 'PasswordSecretToCopy');
    assert.match(n.message, /copy Secret metallb-system\/bgp-secret there/);
    assert.match(n.message, /beaconlb-system\/bgp-secret/);
    assert.equal(somethingLeftOut(r.notes), false);
  });

  it('uses the Secret and never the password when MetalLB had both', () => {
    const r = migrate(peer('router', { password: 'p4ssw0rd-x', passwordSecret: { name: 's' } }));
    assert.deepEqual(peers(r)[0]?.spec.passwordSecretRef, { name: 's', key: 'password' });
    assert.deepEqual(secrets(r), []);
    assert.doesNotMatch(JSON.stringify(r), /p4ssw0rd-x/);
  });

  it('maps dynamicASN internal and external to the same dynamicASN', () => {
    const r = migrate(
      peer('ibgp', { peerASN: undefined, dynamicASN: 'internal' }),
      peer('ebgp', { peerASN: undefined, dynamicASN: 'external' }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.myASN, p.spec.peerASN, p.spec.dynamicASN]),
      [
        ['ebgp', 64512, undefined, 'external'],
        ['ibgp', 64512, undefined, 'internal'],
      ],
    );
    assert.equal(r.notes.filter((n) => n.field === 'spec.dynamicASN').length, 0);
  });

  it('uses localASN as the per-peer myASN', () => {
    const r = migrate(peer('r', { localASN: 65010 }));
    assert.equal(peers(r)[0]?.spec.myASN, 65010);
    assert.equal(note(r, 'LocalASNAsMyASN').severity, 'changed');
  });

  it('leaves out peers without a usable ASN or address', () => {
    const r = migrate(peer('noasn', { myASN: 0 }), peer('badaddr', { peerAddress: '198.51.100.300' }));
    assert.deepEqual(peers(r), []);
    assert.deepEqual(
      r.notes.filter((n) => n.kind === 'InvalidValue').map((n) => n.field),
      ['spec.peerAddress', 'spec.myASN'],
      'in name order: badaddr, noasn',
    );
  });

  it('converts unnumbered peers (interface, no peerAddress) into BGPPeers with interface alone, IPv6 by default', () => {
    const r = migrate(
      peer('unnumbered', { peerAddress: undefined, interface: 'eth1' }),
      peer('dual', { peerAddress: undefined, interface: 'enp*s0', dualStackAddressFamily: true }),
      peer('src', { peerAddress: undefined, interface: 'eth2', sourceAddress: '2001:db8::1' }),
      peer('badname', { peerAddress: undefined, interface: 'eth 1' }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.interface, p.spec.peerAddress, p.spec.addressFamilies]),
      [
        ['dual', 'enp*s0', undefined, ['ipv4-unicast', 'ipv6-unicast']],
        ['src', 'eth2', undefined, ['ipv6-unicast']],
        ['unnumbered', 'eth1', undefined, ['ipv6-unicast']],
      ],
    );
    const unnumbered = r.notes.filter((n) => n.kind === 'UnnumberedPeer');
    assert.equal(unnumbered.length, 3);
    assert.equal(unnumbered[0]?.severity, 'changed');
    assert.match(unnumbered[0].message, /Router Advertisements/);
    assert.deepEqual(
      r.notes.filter((n) => n.kind === 'InvalidValue').map((n) => [n.object, n.field]),
      [
        ['BGPPeer metallb-system/badname', 'spec.interface'],
        ['BGPPeer metallb-system/src', 'spec.sourceAddress'],
      ],
    );
  });

  it('reports a value of the wrong type once, with what became of it', () => {
    const r = migrate(peer('a', { myASN: '64512' }), peer('b', { holdTime: 90, peerPort: 'bgp' }));
    assert.deepEqual(
      r.notes.map((n) => [n.object, n.field, n.message]),
      [
        ['BGPPeer metallb-system/a', 'spec.myASN', 'missing or not 1 to 4294967295; peer left out'],
        ['BGPPeer metallb-system/b', 'spec.peerPort', 'is not an integer; left out (179)'],
        ['BGPPeer metallb-system/b', 'spec.holdTime', 'is not a string; left out'],
      ],
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.holdTime, p.spec.peerPort]),
      [['b', undefined, undefined]],
    );
  });

  it('notes VRF and non-IPv4 router IDs, keeping the peer', () => {
    const r = migrate(peer('r', { vrf: 'red', routerID: '2001:db8::1' }));
    assert.equal(peers(r).length, 1);
    assert.equal(peers(r)[0]?.spec.routerID, undefined);
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.object, n.field ?? '']),
      [
        ['InvalidValue', 'BGPPeer metallb-system/r', 'spec.routerID'],
        ['VRFUnsupported', 'BGPPeer metallb-system/r', 'spec.vrf'],
      ],
    );
  });

  it('BFDProfile: copied into spec.bfd of each peer naming it (intervals in ms, multiplier, passive), noted as changed', () => {
    const r = migrate(
      peer('a', { bfdProfile: 'fast' }),
      peer('b', { bfdProfile: 'fast', peerAddress: '198.51.100.2' }),
      metallb('BFDProfile', 'fast', {
        receiveInterval: 100,
        transmitInterval: 150,
        detectMultiplier: 5,
        passiveMode: true,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.bfd]),
      [
        ['a', { receiveInterval: '100ms', transmitInterval: '150ms', detectMultiplier: 5, passive: true }],
        ['b', { receiveInterval: '100ms', transmitInterval: '150ms', detectMultiplier: 5, passive: true }],
      ],
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.severity, n.object, n.field ?? '']),
      [
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/a', 'spec.bfdProfile'],
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/b', 'spec.bfdProfile'],
      ],
    );
  });

  it('BFDProfile on an unnumbered peer is left out (BFD only with a global router address)', () => {
    const r = migrate(
      peer('u', { bfdProfile: 'plain', peerAddress: undefined, interface: 'eth1' }),
      metallb('BFDProfile', 'plain', {}),
    );
    assert.equal(peers(r)[0]?.spec.bfd, undefined);
    assert.equal(note(r, 'BFDUnnumberedUnsupported').field, 'spec.bfdProfile');
  });

  it("BFDProfile defaults: an empty profile gives spec.bfd {} (the CRD defaults are MetalLB's: 300 ms, 300 ms, 3)", () => {
    const r = migrate(peer('a', { bfdProfile: 'plain' }), metallb('BFDProfile', 'plain', {}));
    assert.deepEqual(peers(r)[0]?.spec.bfd, {});
  });

  it('BFDProfile: echo mode and minimumTtl are noted, out-of-range values left out; a missing profile or a multihop peer runs without BFD', () => {
    const r = migrate(
      peer('a', { bfdProfile: 'echo' }),
      peer('b', { bfdProfile: 'nowhere', peerAddress: '198.51.100.2' }),
      peer('c', { bfdProfile: 'echo', peerAddress: '198.51.100.3', ebgpMultiHop: true }),
      metallb('BFDProfile', 'echo', {
        echoMode: true,
        echoInterval: 50,
        minimumTtl: 254,
        receiveInterval: 5,
        detectMultiplier: 1,
      }),
    );
    assert.deepEqual(
      peers(r).map((p) => [p.metadata.name, p.spec.bfd]),
      [
        ['a', {}],
        ['b', undefined],
        ['c', undefined],
      ],
    );
    assert.deepEqual(
      r.notes.map((n) => [n.kind, n.severity, n.object, n.field ?? '']),
      [
        ['InvalidValue', 'omitted', 'BFDProfile metallb-system/echo', 'spec.receiveInterval'],
        ['InvalidValue', 'omitted', 'BFDProfile metallb-system/echo', 'spec.detectMultiplier'],
        ['BFDEchoUnsupported', 'omitted', 'BFDProfile metallb-system/echo', 'spec.echoMode'],
        ['BFDMinimumTtlIgnored', 'changed', 'BFDProfile metallb-system/echo', 'spec.minimumTtl'],
        ['BFDProfileInlined', 'changed', 'BGPPeer metallb-system/a', 'spec.bfdProfile'],
        ['BFDProfileMissing', 'omitted', 'BGPPeer metallb-system/b', 'spec.bfdProfile'],
        ['BFDMultiHopUnsupported', 'omitted', 'BGPPeer metallb-system/c', 'spec.bfdProfile'],
      ],
    );
  });

  it('narrows node selectors that cannot be merged (fewer nodes peer, never more)', () => {
    const r = migrate(peer('r', { nodeSelectors: [{ matchLabels: { rack: 'r1' } }, { matchLabels: { zone: 'z' } }] }));
    assert.deepEqual(peers(r)[0]?.spec.nodeSelector, { matchLabels: { rack: 'r1' } });
    assert.match(note(r, 'SelectorsNarrowed').message, /do not peer with this router/);
  });

  describe('timers as MetalLB settles them', () => {
    const timers = (
      spec: Record<string, unknown>,
    ): { spec: BGPPeer['spec'] | undefined; notes: MigrationNoteKind[] } => {
      const r = migrate(peer('r', { holdTime: undefined, ...spec }));
      return { spec: peers(r)[0]?.spec, notes: kinds(r) };
    };

    it('says Beacon LB defaults differ when neither is set', () => {
      const t = timers({});
      assert.equal(t.spec?.holdTime, undefined);
      assert.deepEqual(t.notes, ['TimerDefaults']);
    });

    it('derives holdTime = 3 x keepaliveTime when only the keepalive is set', () => {
      const t = timers({ keepaliveTime: '20s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime], ['60s', '20s']);
      assert.deepEqual(t.notes, []);
    });

    it('writes Go durations such as 1m30s in seconds and rounds fractions down as FRR did', () => {
      assert.deepEqual(timers({ holdTime: '1m30s' }).spec?.holdTime, '90s');
      const t = timers({ holdTime: '9.5s', keepaliveTime: '3s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime, t.notes], ['9s', '3s', ['TimersAdjusted']]);
    });

    it('drops a keepalive equal to the hold time (Beacon LB requires it shorter)', () => {
      const t = timers({ holdTime: '30s', keepaliveTime: '30s' });
      assert.deepEqual([t.spec?.holdTime, t.spec?.keepaliveTime, t.notes], ['30s', undefined, ['TimersAdjusted']]);
    });

    it('keeps hold time 0 (no keepalives) and refuses hold times MetalLB refused', () => {
      assert.equal(timers({ holdTime: '0s' }).spec?.holdTime, '0s');
      const t = timers({ holdTime: '2s' });
      assert.deepEqual([t.spec?.holdTime, t.notes], [undefined, ['InvalidValue']]);
    });

    it('keeps connectTime in whole seconds', () => {
      assert.equal(timers({ holdTime: '90s', connectTime: '2m' }).spec?.connectTime, '120s');
      assert.deepEqual(timers({ holdTime: '90s', connectTime: '500ms' }).notes, ['InvalidValue']);
    });
  });
});
