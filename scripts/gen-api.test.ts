import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { generatedApiFiles } from '../src/k8s/crd/generated-files.ts';

const root = join(import.meta.dirname, '..');

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  additionalProperties?: SchemaNode;
}

function undocumented(node: SchemaNode, path: string, out: string[]): void {
  for (const [key, child] of Object.entries(node.properties ?? {})) {
    const here = `${path}.${key}`;
    if (!child.description && !['apiVersion', 'kind', 'metadata'].includes(key)) out.push(here);
    undocumented(child, here, out);
    if (child.items) undocumented(child.items, `${here}[]`, out);
  }
}

describe('generated API files', () => {
  it('are current on disk (npm run gen)', () => {
    for (const [path, text] of generatedApiFiles()) {
      assert.equal(readFileSync(join(root, path), 'utf8'), text, `${path} is stale: run npm run gen`);
    }
  });

  it('describe every field, so kubectl explain documents it', () => {
    for (const [path, text] of generatedApiFiles()) {
      if (!path.endsWith('.yaml') || path.endsWith('kustomization.yaml')) continue;
      const crd = parse(text) as { spec: { versions: Array<{ schema: { openAPIV3Schema: SchemaNode } }> } };
      const missing: string[] = [];
      undocumented(crd.spec.versions[0]!.schema.openAPIV3Schema, '', missing);
      assert.deepEqual(missing, [], `${path}: fields without description`);
    }
  });
});
