// Finds (or builds, once) what the process lab's ingress runs: the Traefik binary of scripts/traefik.sh (cached under
// ~/.cache/beaconlb/traefik; the cluster lab's image is built from the same binary) and the Gateway API CRDs
// (standard channel) of the sigs.k8s.io/gateway-api version that Traefik is built with, from the module cache that
// build filled. See docs/adr/0030-ingress-controller-traefik.md.
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');
const TRAEFIK_MODULE = join(REPO_ROOT, 'tools', 'traefik');
/** The supervisor `lab up` starts finds the binary here without running the script again. */
const BINARY_ENV = 'BEACONLB_TRAEFIK_BIN';
const PROGRESS_EVERY_MS = 30_000;

/**
 * The path of the traefik binary: scripts/traefik.sh prints it (at once when cached; a cold build takes minutes, with
 * its own start and end lines on stderr and, from here, a line every 30 s while it runs).
 */
export async function traefikBinary(): Promise<string> {
  const fromEnv = process.env[BINARY_ENV];
  if (fromEnv) return fromEnv;
  const started = performance.now();
  const child = spawn('bash', [join(REPO_ROOT, 'scripts', 'traefik.sh')], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => (out += chunk));
  const ticker = setInterval(() => {
    process.stderr.write(`traefik: still building (${Math.round((performance.now() - started) / 1000)} s)\n`);
  }, PROGRESS_EVERY_MS);
  try {
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', resolve);
    });
    if (code !== 0) throw new Error(`scripts/traefik.sh failed (exit ${code}); its output is above`);
  } finally {
    clearInterval(ticker);
  }
  const binary = out.trim().split('\n').pop();
  if (!binary) throw new Error('scripts/traefik.sh printed no path');
  process.env[BINARY_ENV] = binary;
  return binary;
}

/** A `require <module> <version>` of tools/traefik/go.mod (direct or indirect). */
function requiredVersion(module: string): string {
  const goMod = readFileSync(join(TRAEFIK_MODULE, 'go.mod'), 'utf8');
  const escaped = module.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  const version = new RegExp(`^(?:require )?\\s*${escaped} (v[0-9][^\\s]*)`, 'm').exec(goMod)?.[1];
  if (!version) throw new Error(`tools/traefik/go.mod requires no ${module}`);
  return version;
}

export interface GatewayApiCrds {
  /** The CRD files of the standard channel, one kind each. */
  readonly files: readonly string[];
  readonly version: string;
}

/** The Gateway API CRDs Traefik is built against (ADR 0030), from the Go module cache (the build downloaded them). */
export function gatewayApiCrds(): GatewayApiCrds {
  const version = requiredVersion('sigs.k8s.io/gateway-api');
  const json = execFileSync('go', ['mod', 'download', '-json', `sigs.k8s.io/gateway-api@${version}`], {
    cwd: TRAEFIK_MODULE,
    encoding: 'utf8',
    env: { ...process.env, GOTOOLCHAIN: 'local', GOFLAGS: '-mod=mod' },
    stdio: ['ignore', 'pipe', 'pipe'],
    timeout: 300_000,
  });
  const dir = (JSON.parse(json) as { Dir?: string }).Dir;
  if (!dir) throw new Error(`go mod download printed no directory for sigs.k8s.io/gateway-api@${version}`);
  const standard = join(dir, 'config', 'crd', 'standard');
  const files = readdirSync(standard)
    .filter((f) => f.startsWith('gateway.networking.k8s.io_') && f.endsWith('.yaml'))
    .sort()
    .map((f) => join(standard, f));
  if (files.length === 0) throw new Error(`no Gateway API CRDs in ${standard}`);
  return { files, version };
}
