// A lab build script's result: the script (scripts/cluster-images.sh, scripts/ingress-image.sh) builds once into a
// cache directory, prints that directory as its last line (progress goes to stderr) and leaves a KEY=value env file in
// it naming what it built.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const REPO_ROOT = join(import.meta.dirname, '..', '..');

export interface CachedBuild {
  readonly dir: string;
  /** The value of `name` in the env file; undefined when it has none. */
  readonly value: (name: string) => string | undefined;
}

/** Runs scripts/`script` (bounded by an hour) and reads `envFile` from the directory it prints. */
export function runCachedBuild(script: string, envFile: string): CachedBuild {
  const dir =
    execFileSync('bash', [join(REPO_ROOT, 'scripts', script)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'inherit'],
      timeout: 3_600_000,
    })
      .trim()
      .split('\n')
      .pop() ?? '';
  const env = readFileSync(join(dir, envFile), 'utf8');
  return { dir, value: (name) => new RegExp(`^${name}=(.*)$`, 'm').exec(env)?.[1] };
}
