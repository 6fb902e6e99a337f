// Community objects: aliases that BGPAdvertisements name, resolved to their values.
import { absent, isRecord, unknownFields, type Source } from './metallb-source.ts';
import { parseMetalLbCommunity, type MetalLbCommunity } from './metallb-community.ts';
import type { Notes } from './migration-notes.ts';

export function communityAliases(
  sources: readonly Source[],
  notes: Notes,
): Map<string, { value: MetalLbCommunity; from: string }> {
  const aliases = new Map<string, { value: MetalLbCommunity; from: string }>();
  for (const source of sources) {
    unknownFields(source, ['communities'], notes);
    const list = source.spec['communities'];
    if (absent(list)) continue;
    if (!Array.isArray(list)) {
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.communities',
        'is not a list of {name, value}; no alias read from it',
      );
      continue;
    }
    for (const [i, entry] of list.entries()) {
      const path = `spec.communities[${i}]`;
      if (!isRecord(entry) || typeof entry['name'] !== 'string' || typeof entry['value'] !== 'string') {
        notes.add('InvalidValue', source.ref, path, 'is not {name, value}; left out');
        continue;
      }
      const parsed = parseMetalLbCommunity(entry['value']);
      if (!parsed.ok) {
        notes.add(
          'InvalidValue',
          source.ref,
          path,
          `${JSON.stringify(entry['value'])} is not a community (a:b or large:a:b:c); alias ${entry['name']} left out`,
        );
        continue;
      }
      if (aliases.has(entry['name'])) {
        notes.add(
          'InvalidValue',
          source.ref,
          path,
          `alias ${entry['name']} is defined twice (MetalLB refuses this); the first definition is used`,
        );
        continue;
      }
      aliases.set(entry['name'], { value: parsed.value, from: source.ref });
    }
  }
  return aliases;
}
