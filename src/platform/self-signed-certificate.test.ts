import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { X509Certificate, createPrivateKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { selfSignedCertificate } from './self-signed-certificate.ts';

describe('selfSignedCertificate', () => {
  const now = new Date('2026-12-07T18:00:00Z');
  const made = selfSignedCertificate({
    commonName: 'beaconlb-speaker node1',
    dnsNames: ['node1', 'localhost'],
    now,
    validDays: 365,
  });

  it('parses as an X.509 certificate signed by its own key, with the names and validity asked for', () => {
    const cert = new X509Certificate(made.cert);
    assert.ok(cert.verify(cert.publicKey), 'self-signed');
    assert.ok(cert.checkPrivateKey(createPrivateKey(made.key)), 'the key belongs to the certificate');
    assert.equal(cert.subject, 'CN=beaconlb-speaker node1');
    assert.equal(cert.issuer, 'CN=beaconlb-speaker node1');
    assert.equal(cert.subjectAltName, 'DNS:node1, DNS:localhost');
    assert.equal(cert.ca, false);
    assert.equal(new Date(cert.validFrom).toISOString(), '2026-12-07T17:00:00.000Z');
    assert.equal(new Date(cert.validTo).toISOString(), '2027-12-07T18:00:00.000Z');
    assert.equal(cert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  });

  it('a second certificate has its own key and serial number', () => {
    const other = selfSignedCertificate({ commonName: 'x', now, validDays: 1 });
    assert.notEqual(new X509Certificate(other.cert).serialNumber, new X509Certificate(made.cert).serialNumber);
    assert.notEqual(other.key, made.key);
  });

  it('OpenSSL reads it as a well-formed v3 certificate', (t) => {
    let text: string;
    try {
      text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: made.cert, encoding: 'utf8' });
    } catch (error) {
      if ((error as { code?: string }).code === 'ENOENT') {
        t.skip('openssl not installed');
        return;
      }
      throw error;
    }
    assert.match(text, /Version: 3 \(0x2\)/);
    assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  });
});
