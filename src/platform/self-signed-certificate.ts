// A self-signed X.509 v3 certificate (ECDSA P-256, SHA-256) made in process, for the speaker's authenticated metrics
// listener when no certificate file is given: the scrape is then encrypted (the bearer token never crosses the
// network in the clear) but not verified by name, as with kube-rbac-proxy's generated certificate; Prometheus scrapes
// it with tlsConfig.insecureSkipVerify or, with --metrics-tls-cert-file, verifies a certificate you issue.
// Node can parse certificates but not make them, so this writes the DER of RFC 5280 section 4.1 itself.
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export interface CertificateAndKey {
  /** PEM "CERTIFICATE". */
  readonly cert: string;
  /** PEM "PRIVATE KEY" (PKCS #8). */
  readonly key: string;
}

export interface SelfSignedOptions {
  /** Subject and issuer common name. */
  readonly commonName: string;
  /** subjectAltName dNSName entries. */
  readonly dnsNames?: readonly string[];
  readonly now: Date;
  readonly validDays: number;
}

function length(n: number): Uint8Array {
  if (n < 0x80) return Uint8Array.of(n);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

function tlv(tag: number, ...contents: Uint8Array[]): Uint8Array {
  const body = Buffer.concat(contents);
  return Buffer.concat([Uint8Array.of(tag), length(body.length), body]);
}

const sequence = (...items: Uint8Array[]): Uint8Array => tlv(0x30, ...items);

function objectIdentifier(dotted: string): Uint8Array {
  const arcs = dotted.split('.').map(Number);
  const [first = 0, second = 0, ...rest] = arcs;
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const groups: number[] = [];
    for (let value = arc; ; value = Math.floor(value / 128)) {
      groups.unshift(value % 128);
      if (value < 128) break;
    }
    bytes.push(...groups.map((g, i) => (i < groups.length - 1 ? g | 0x80 : g)));
  }
  return tlv(0x06, Uint8Array.from(bytes));
}

/** Before 2050 a UTCTime, from 2050 a GeneralizedTime (RFC 5280 section 4.1.2.5). */
function time(date: Date): Uint8Array {
  const iso = date.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const year = date.getUTCFullYear();
  return year < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`, 'ascii')) : tlv(0x18, Buffer.from(`${iso}Z`, 'ascii'));
}

function name(commonName: string): Uint8Array {
  return sequence(tlv(0x31, sequence(objectIdentifier('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const SUBJECT_ALT_NAME = '2.5.29.17';
const BASIC_CONSTRAINTS = '2.5.29.19';

/** A fresh key pair and a certificate for it, signed by itself. */
export function selfSignedCertificate(o: SelfSignedOptions): CertificateAndKey {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const serial = randomBytes(16);
  serial[0] = ((serial[0] ?? 0) & 0x7f) | 0x01; // positive and of full length
  const algorithm = sequence(objectIdentifier(ECDSA_WITH_SHA256));
  const extensions: Uint8Array[] = [
    sequence(objectIdentifier(BASIC_CONSTRAINTS), tlv(0x01, Uint8Array.of(0xff)), tlv(0x04, sequence())),
  ];
  if (o.dnsNames && o.dnsNames.length > 0) {
    const names = sequence(...o.dnsNames.map((dns) => tlv(0x82, Buffer.from(dns, 'ascii'))));
    extensions.push(sequence(objectIdentifier(SUBJECT_ALT_NAME), tlv(0x04, names)));
  }
  const notAfter = new Date(o.now.getTime() + o.validDays * 86_400_000);
  const tbs = sequence(
    tlv(0xa0, tlv(0x02, Uint8Array.of(2))),
    tlv(0x02, serial),
    algorithm,
    name(o.commonName),
    sequence(time(new Date(o.now.getTime() - 3_600_000)), time(notAfter)),
    name(o.commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    tlv(0xa3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, privateKey);
  const der = sequence(tbs, algorithm, tlv(0x03, Uint8Array.of(0), signature));
  const base64 = Buffer.from(der).toString('base64').replace(/.{64}/g, '$&\n').replace(/\n$/, '');
  return {
    cert: `-----BEGIN CERTIFICATE-----\n${base64}\n-----END CERTIFICATE-----\n`,
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
