// The Beacon LB image as users get it: built from the Dockerfile by scripts/image.sh (buildah, local bases,
// cached by content), and podman on the same image store (scripts/containers.sh) to run it.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface BuiltImage {
  /** The manifests' image reference, e.g. ghcr.io/beaconlb/beaconlb:0.1.0. */
  readonly image: string;
  readonly id: string;
  /** Uncompressed size of all layers, in bytes. */
  readonly sizeBytes: number;
  /** docker-archive of the image, tagged `image`, for `ctr images import` or `podman load`. */
  readonly archive: string;
}

/** Builds the image (minutes cold, a second when cached) and describes it. Progress goes to stderr. */
export function buildImage(): BuiltImage {
  const out = execFileSync('bash', [join(REPO_ROOT, 'scripts', 'image.sh')], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024,
  });
  const dir = out.trim().split('\n').pop();
  if (!dir) throw new Error('scripts/image.sh printed no directory');
  const env = new Map(
    readFileSync(join(dir, 'image.env'), 'utf8')
      .split('\n')
      .filter((line) => line.includes('='))
      .map((line) => [line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1)] as const),
  );
  const field = (name: string): string => {
    const value = env.get(name);
    if (value === undefined) throw new Error(`${dir}/image.env has no ${name}`);
    return value;
  };
  return {
    image: field('IMAGE'),
    id: field('IMAGE_ID'),
    sizeBytes: Number(field('SIZE_BYTES')),
    archive: field('ARCHIVE'),
  };
}

export interface ImageRun {
  readonly status: number;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs a container of `image` from our image store with no network, removed afterwards. `entrypoint` replaces the
 * image's ENTRYPOINT when given; `user` its USER.
 */
export function runImage(
  image: string,
  args: readonly string[],
  options: { entrypoint?: string; user?: string } = {},
): ImageRun {
  const flags = ['--rm', '--network', 'none'];
  if (options.entrypoint !== undefined) flags.push('--entrypoint', options.entrypoint);
  if (options.user !== undefined) flags.push('--user', options.user);
  const script = `source "$0"; containers_lock; podman_in_store run "\${containers_ulimits[@]}" "$@"`;
  const result = spawnSync(
    'bash',
    ['-c', script, join(REPO_ROOT, 'scripts', 'containers.sh'), ...flags, image, ...args],
    {
      encoding: 'utf8',
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    },
  );
  return { status: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}
