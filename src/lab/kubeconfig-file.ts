// Writes kubeconfig files for the test control plane: the admin (client certificate) and ServiceAccounts (token).
import { writeFileSync } from 'node:fs';

export type KubeconfigUser = { clientCertificate: string; clientKey: string } | { token: string };

export function writeKubeconfig(
  path: string,
  server: string,
  caCert: string,
  userName: string,
  user: KubeconfigUser,
): string {
  const credentials =
    'token' in user
      ? { token: user.token }
      : { 'client-certificate': user.clientCertificate, 'client-key': user.clientKey };
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'beaconlb-lab', cluster: { server, 'certificate-authority': caCert } }],
    users: [{ name: userName, user: credentials }],
    contexts: [{ name: userName, context: { cluster: 'beaconlb-lab', user: userName } }],
    'current-context': userName,
  };
  // JSON is valid YAML for kubectl, and Beacon LB reads it without a YAML parser.
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  return path;
}
