// Certificates for the test control plane, made with the openssl CLI: a CA, the API server's serving certificate,
// an admin client certificate (O=system:masters) and the ServiceAccount token signing key pair. EC P-256 throughout.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ControlPlaneCertificates {
  caCert: string;
  caKey: string;
  serverCert: string;
  serverKey: string;
  adminCert: string;
  adminKey: string;
  serviceAccountPublicKey: string;
  serviceAccountPrivateKey: string;
}

const openssl = (args: string[]): void => {
  execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
};

const newKeyArgs = (keyFile: string): string[] => [
  '-newkey',
  'ec',
  '-pkeyopt',
  'ec_paramgen_curve:P-256',
  '-nodes',
  '-keyout',
  keyFile,
];

function signedCertificate(
  dir: string,
  name: string,
  subject: string,
  extensions: string,
): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const csr = join(dir, `${name}.csr`);
  const cert = join(dir, `${name}.crt`);
  const ext = join(dir, `${name}.ext`);
  writeFileSync(ext, extensions);
  openssl(['req', ...newKeyArgs(key), '-out', csr, '-subj', subject]);
  openssl([
    'x509',
    '-req',
    '-in',
    csr,
    '-CA',
    join(dir, 'ca.crt'),
    '-CAkey',
    join(dir, 'ca.key'),
    '-CAcreateserial',
    '-out',
    cert,
    '-days',
    '3650',
    '-extfile',
    ext,
  ]);
  return { cert, key };
}

/** Writes every file into `dir` and returns their paths. `serverAddresses` are the IP SANs of the serving certificate. */
export function createControlPlaneCertificates(
  dir: string,
  serverAddresses: readonly string[],
): ControlPlaneCertificates {
  const caKey = join(dir, 'ca.key');
  const caCert = join(dir, 'ca.crt');
  openssl(['req', '-x509', ...newKeyArgs(caKey), '-out', caCert, '-days', '3650', '-subj', '/CN=beaconlb-test-ca']);
  const sans = [
    ...serverAddresses.map((a) => `IP:${a}`),
    'DNS:localhost',
    'DNS:kubernetes',
    'DNS:kubernetes.default',
    'DNS:kubernetes.default.svc',
  ].join(',');
  const server = signedCertificate(
    dir,
    'apiserver',
    '/CN=kube-apiserver',
    `subjectAltName=${sans}\nextendedKeyUsage=serverAuth\nkeyUsage=digitalSignature\n`,
  );
  const admin = signedCertificate(
    dir,
    'admin',
    '/O=system:masters/CN=beaconlb-admin',
    'extendedKeyUsage=clientAuth\nkeyUsage=digitalSignature\n',
  );
  const serviceAccountPrivateKey = join(dir, 'sa.key');
  const serviceAccountPublicKey = join(dir, 'sa.pub');
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', serviceAccountPrivateKey]);
  openssl(['pkey', '-in', serviceAccountPrivateKey, '-pubout', '-out', serviceAccountPublicKey]);
  return {
    caCert,
    caKey,
    serverCert: server.cert,
    serverKey: server.key,
    adminCert: admin.cert,
    adminKey: admin.key,
    serviceAccountPublicKey,
    serviceAccountPrivateKey,
  };
}
