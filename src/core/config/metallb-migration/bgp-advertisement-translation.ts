// BGPAdvertisement -> BGPAdvertisement.
import type { BGPAdvertisement } from '../api-types.generated.ts';
import { field, OBJECT_NAME, readInteger, readSelectorList, readStringList, unknownFields } from './metallb-source.ts';
import type { Source } from './metallb-source.ts';
import { choicesFor } from './selector-union.ts';
import { noteSplit, poolChoices, product, splitNames } from './advertisement-split.ts';
import { metadataFor } from './object-recognition.ts';
import { parseMetalLbCommunity, type MetalLbCommunity } from './metallb-community.ts';
import type { Notes } from './migration-notes.ts';

const MAX_COMMUNITIES = 64;
const BGP_ADV_FIELDS = [
  'aggregationLength',
  'aggregationLengthV6',
  'localPref',
  'communities',
  'ipAddressPools',
  'ipAddressPoolSelectors',
  'nodeSelectors',
  'peers',
  'serviceSelectors',
];

// Long (~110 lines): a MetalLB BGPAdvertisement translated field by field, each field's rule beside the others.
export function translateBgpAdvertisement(
  source: Source,
  aliases: ReadonlyMap<string, { value: MetalLbCommunity; from: string }>,
  taken: Set<string>,
  notes: Notes,
): BGPAdvertisement[] {
  unknownFields(source, BGP_ADV_FIELDS, notes);
  const leftOut = 'advertisement left out';
  const pools = poolChoices(source, notes);
  const nodeSelectors = field(source, 'nodeSelectors', readSelectorList, notes, leftOut);
  const peers = field(source, 'peers', readStringList, notes, leftOut);
  const length = field(source, 'aggregationLength', readInteger, notes, 'left out (32)');
  const lengthV6 = field(source, 'aggregationLengthV6', readInteger, notes, 'left out (128)');
  const localPref = field(source, 'localPref', readInteger, notes, 'left out');
  const communities = field(source, 'communities', readStringList, notes, 'no community is sent');
  const serviceSelectors = field(source, 'serviceSelectors', readSelectorList, notes, leftOut);
  if (!pools || !nodeSelectors || !peers || !serviceSelectors) return [];
  const badPeer = peers.value.find((n) => !OBJECT_NAME.test(n));
  if (badPeer !== undefined) {
    notes.notA(source.ref, 'spec.peers', badPeer, 'an object name', leftOut);
    return [];
  }
  const spec: BGPAdvertisement['spec'] = {};
  if (length?.value !== undefined) {
    if (length.value >= 0 && length.value <= 32) spec.aggregationLength = length.value;
    else
      notes.add('InvalidValue', source.ref, 'spec.aggregationLength', `${length.value} is not 0 to 32; left out (32)`);
  }
  if (lengthV6?.value !== undefined) {
    if (lengthV6.value >= 0 && lengthV6.value <= 128) spec.aggregationLengthV6 = lengthV6.value;
    else
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.aggregationLengthV6',
        `${lengthV6.value} is not 0 to 128; left out (128)`,
      );
  }
  if (localPref?.value !== undefined && localPref.value !== 0) {
    if (localPref.value > 0 && localPref.value <= 0xffffffff) spec.localPref = localPref.value;
    else
      notes.add(
        'InvalidValue',
        source.ref,
        'spec.localPref',
        `${localPref.value} is not a 32-bit unsigned number; left out`,
      );
  }
  const standard: string[] = [];
  const large: string[] = [];
  for (const [i, text] of (communities?.value ?? []).entries()) {
    const path = `spec.communities[${i}]`;
    const alias = aliases.get(text);
    let value: MetalLbCommunity;
    if (alias) {
      value = alias.value;
      const shown = value.kind === 'large' ? `large community ${value.value}` : value.value;
      notes.add(
        'CommunityAliasResolved',
        source.ref,
        path,
        `alias ${text} (from ${alias.from}) written as ${shown}: Beacon LB has no Community objects, so a later change to the alias does not reach this advertisement`,
      );
    } else {
      const parsed = parseMetalLbCommunity(text);
      if (!parsed.ok) {
        const why =
          parsed.error === 'format'
            ? 'neither a community (a:b, large:a:b:c) nor the name of a Community alias'
            : 'a community with a part out of range';
        notes.add('UnknownCommunity', source.ref, path, `${JSON.stringify(text)} is ${why}; left out`);
        continue;
      }
      value = parsed.value;
    }
    const list = value.kind === 'large' ? large : standard;
    if (list.includes(value.value)) continue;
    if (list.length >= MAX_COMMUNITIES) {
      notes.add(
        'InvalidValue',
        source.ref,
        path,
        `Beacon LB takes at most ${MAX_COMMUNITIES} communities of a type; left out`,
      );
      continue;
    }
    list.push(value.value);
  }
  if (standard.length > 0) spec.communities = standard;
  if (large.length > 0) spec.largeCommunities = large;
  if (peers.value.length > 0) spec.peers = [...new Set(peers.value)];
  // MetalLB applies an advertisement to a Service matching any of its serviceSelectors; Beacon LB's BGPAdvertisement
  // takes one serviceSelector, and several advertisements add up, so an OR that no one selector says becomes one
  // object per selector, as for L2Advertisements.
  const combos = product(pools, choicesFor(nodeSelectors.value), choicesFor(serviceSelectors.value));
  const objectNames = splitNames(source.name, combos.length, taken);
  noteSplit(source, objectNames, notes);
  return combos.map(([pool, node, service], i): BGPAdvertisement => ({
    apiVersion: 'beaconlb.io/v1alpha1',
    kind: 'BGPAdvertisement',
    metadata: metadataFor(source, objectNames[i] ?? source.name),
    spec: {
      ...pool,
      ...(node ? { nodeSelector: node } : {}),
      ...(service ? { serviceSelector: service } : {}),
      ...spec,
    },
  }));
}
