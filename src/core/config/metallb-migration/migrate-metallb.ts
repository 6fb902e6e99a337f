// Translates MetalLB configuration (metallb.io: IPAddressPool, L2Advertisement, BGPAdvertisement, Community,
// BGPPeer v1beta1/v1beta2, BFDProfile) into Beacon LB objects. Pure: parsed objects in, objects and notes out.
// Every difference is a note: something left out (the output does less than MetalLB did until a person acts),
// something translated with a change in meaning, or an input that is not MetalLB configuration at all.
// When an OR of selectors cannot be written as one selector, the translation narrows (keeps the first) and never
// widens: nobody gets an address, a session or an announcement that MetalLB would not have given.
// MetalLB semantics followed here are those of its internal/config and internal/allocator packages (v0.15).
import type { BGPPeer } from '../api-types.generated.ts';
import { Notes } from './migration-notes.ts';
import type { MigrationOptions, MigrationResult, SecretManifest } from './migrated-objects.ts';
import { KIND_ORDER, recognise } from './object-recognition.ts';
import type { Source } from './metallb-source.ts';
import { translateBfdProfile } from './bfd-profile-translation.ts';
import { communityAliases } from './community-aliases.ts';
import { assignPriorities, translatePool } from './pool-translation.ts';
import { translatePeer } from './bgp-peer-translation.ts';
import { translateL2 } from './l2-advertisement-translation.ts';
import { translateBgpAdvertisement } from './bgp-advertisement-translation.ts';

const byName = <T extends { metadata: { name: string } }>(a: T, b: T): number =>
  a.metadata.name.localeCompare(b.metadata.name);

/** Translates MetalLB objects (any order, any mix of kinds) into Beacon LB objects and notes. */
export function migrateMetalLB(objects: readonly unknown[], options: MigrationOptions): MigrationResult {
  const notes = new Notes();
  const recognised = objects.flatMap((o) => recognise(o, notes) ?? []);
  // One order whatever the input order (files or the API server), so the output and the notes are stable.
  recognised.sort(
    (a, b) =>
      KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind) ||
      a.name.localeCompare(b.name) ||
      (a.namespace ?? '').localeCompare(b.namespace ?? '') ||
      a.apiVersion.localeCompare(b.apiVersion),
  );
  const seen = new Set<string>();
  const sources = recognised.filter((s) => {
    const key = `${s.kind}/${s.name}`;
    if (!seen.has(key)) {
      seen.add(key);
      return true;
    }
    notes.add(
      'DuplicateObject',
      s.ref,
      undefined,
      `another ${s.kind} named ${s.name} came first (Beacon LB objects are cluster-wide); left out`,
    );
    return false;
  });
  const ofKind = (kind: Source['kind']): Source[] => sources.filter((s) => s.kind === kind);

  const bfdProfiles = new Map(ofKind('BFDProfile').map((s) => [s.name, translateBfdProfile(s, notes)] as const));
  const aliases = communityAliases(ofKind('Community'), notes);

  const drafts = ofKind('IPAddressPool').flatMap((s) => translatePool(s, notes) ?? []);
  assignPriorities(drafts, notes);

  const peers: BGPPeer[] = [];
  const secrets: SecretManifest[] = [];
  for (const source of ofKind('BGPPeer')) {
    const out = translatePeer(source, options.secretNamespace, bfdProfiles, notes);
    if (!out) continue;
    peers.push(out.peer);
    if (out.secret) secrets.push(out.secret);
  }

  const l2Sources = ofKind('L2Advertisement');
  const l2Taken = new Set(l2Sources.map((s) => s.name));
  const l2 = l2Sources.flatMap((s) => {
    const made = translateL2(s, l2Taken, notes);
    for (const o of made) l2Taken.add(o.metadata.name);
    return made;
  });
  const bgpSources = ofKind('BGPAdvertisement');
  const bgpTaken = new Set(bgpSources.map((s) => s.name));
  const bgp = bgpSources.flatMap((s) => {
    const made = translateBgpAdvertisement(s, aliases, bgpTaken, notes);
    for (const o of made) bgpTaken.add(o.metadata.name);
    return made;
  });

  return {
    objects: [
      ...secrets.sort(byName),
      ...drafts.map((d) => d.pool).sort(byName),
      ...l2.sort(byName),
      ...peers.sort(byName),
      ...bgp.sort(byName),
    ],
    notes: notes.list,
  };
}
