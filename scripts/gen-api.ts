// Writes config/crd/*.yaml and src/core/config/api-types.generated.ts from the schemas in src/k8s/crd.
// `--check` writes nothing and exits 1 if a file differs from what would be written (run by the tests).
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { generatedApiFiles } from '../src/k8s/crd/generated-files.ts';

const root = join(import.meta.dirname, '..');
const check = process.argv.includes('--check');
let stale = 0;
for (const [path, text] of generatedApiFiles()) {
  const file = join(root, path);
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // missing: written below, or stale in --check
  }
  if (current === text) continue;
  if (check) {
    console.error(`${path} is out of date: run npm run gen`);
    stale++;
  } else {
    writeFileSync(file, text);
    console.log(`wrote ${path}`);
  }
}
process.exitCode = stale > 0 ? 1 : 0;
