// The speaker's listeners from its flags, as `beaconlb speaker` reads them before anything starts.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { parseFlags, UsageError } from './command.ts';
import { speakerCommand } from './speaker-command.ts';
import { speakerListeners } from './speaker-flags.ts';

const flagsOf = (...args: string[]) => parseFlags(speakerCommand, ['--node-name=node1', ...args], {}).flags;

describe('speakerListeners', () => {
  it('with the default flags: metrics on the loopback, the probes on :7475, no authenticated listener', () => {
    assert.deepEqual(speakerListeners(flagsOf(), 'node1'), {
      metrics: '127.0.0.1:7473',
      health: ':7475',
      secure: undefined,
    });
  });

  it('--secure-metrics-address gets a self-signed certificate naming the node', () => {
    const listeners = speakerListeners(flagsOf('--secure-metrics-address=:7474'), 'node1');
    assert.equal(listeners.secure?.address, ':7474');
    assert.equal(new X509Certificate(listeners.secure.tls.cert).subjectAltName, 'DNS:node1, DNS:localhost');
  });

  it('an empty --health-address turns the probe listener off', () => {
    assert.equal(speakerListeners(flagsOf('--health-address='), 'node1').health, undefined);
  });

  it('refuses a certificate without its key, or without the authenticated listener', () => {
    assert.throws(
      () => speakerListeners(flagsOf('--secure-metrics-address=:7474', '--metrics-tls-cert-file=/x.crt'), 'node1'),
      UsageError,
    );
    assert.throws(
      () => speakerListeners(flagsOf('--metrics-tls-cert-file=/x.crt', '--metrics-tls-key-file=/x.key'), 'node1'),
      UsageError,
    );
  });
});
