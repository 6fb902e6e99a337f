// BFDProfile (inlined into each BGPPeer that names it: Beacon LB's BGPPeer carries spec.bfd itself, ADR 0018)
import type { BGPPeer } from '../api-types.generated.ts';
import { field, readBool, readInteger, unknownFields, type Source } from './metallb-source.ts';
import type { Notes } from './migration-notes.ts';

const BFD_PROFILE_FIELDS = [
  'receiveInterval',
  'transmitInterval',
  'detectMultiplier',
  'echoInterval',
  'echoMode',
  'passiveMode',
  'minimumTtl',
];
export type BfdSpec = NonNullable<BGPPeer['spec']['bfd']>;

/** A BFDProfile as Beacon LB's spec.bfd; its notes are added once, on the profile. */
export function translateBfdProfile(source: Source, notes: Notes): BfdSpec {
  unknownFields(source, BFD_PROFILE_FIELDS, notes);
  const bfd: BfdSpec = {};
  const interval = (key: 'receiveInterval' | 'transmitInterval'): void => {
    const ms = field(source, key, readInteger, notes, 'left out (300ms)')?.value;
    if (ms === undefined) return;
    if (ms >= 10 && ms <= 60_000) bfd[key] = `${ms}ms`;
    else notes.add('InvalidValue', source.ref, `spec.${key}`, `${ms} ms is not 10 to 60000 ms; left out (300ms)`);
  };
  interval('receiveInterval');
  interval('transmitInterval');
  const multiplier = field(source, 'detectMultiplier', readInteger, notes, 'left out (3)')?.value;
  if (multiplier !== undefined) {
    if (multiplier >= 2 && multiplier <= 255) bfd.detectMultiplier = multiplier;
    else notes.add('InvalidValue', source.ref, 'spec.detectMultiplier', `${multiplier} is not 2 to 255; left out (3)`);
  }
  if (field(source, 'passiveMode', readBool, notes, 'treated as false')?.value === true) bfd.passive = true;
  const echo = field(source, 'echoMode', readBool, notes, 'treated as false')?.value === true;
  const echoInterval = field(source, 'echoInterval', readInteger, notes, 'ignored')?.value;
  if (echo) {
    notes.add(
      'BFDEchoUnsupported',
      source.ref,
      'spec.echoMode',
      'Beacon LB runs BFD in asynchronous mode without the echo function; detection relies on control packets only (transmitInterval x detectMultiplier)',
    );
  } else if (echoInterval !== undefined) {
    notes.add(
      'BFDEchoUnsupported',
      source.ref,
      'spec.echoInterval',
      'no echo function in Beacon LB; ignored (echoMode was off, so nothing changes)',
    );
  }
  const minimumTtl = field(source, 'minimumTtl', readInteger, notes, 'ignored')?.value;
  if (minimumTtl !== undefined) {
    notes.add(
      'BFDMinimumTtlIgnored',
      source.ref,
      'spec.minimumTtl',
      `single-hop BFD accepts TTL 255 only (RFC 5881 section 5), not down to ${minimumTtl}; MetalLB applied minimumTtl to multihop sessions only`,
    );
  }
  return bfd;
}
