// GET over a Unix socket (speakers in network namespaces serve /metrics there).
// node:http by getBuiltinModule (see src/platform/metrics-server.ts): `beaconlb` loads the lab commands when they are
// present, and an ES import of node:http would load undici into every component run from the repository.
const { request } = process.getBuiltinModule('node:http');

export function unixGet(socketPath: string, path: string, timeoutMs = 2000): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => {
        resolve({ status: res.statusCode ?? 0, body });
      });
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}
