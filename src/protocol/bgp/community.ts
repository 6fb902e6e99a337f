// Communities (RFC 1997): 32-bit values written "asn:value", with the well-known ones by name; large communities
// (RFC 8092): three 32-bit fields written "global:local1:local2".
import { err, ok, type Result } from '../../core/result.ts';

/**
 * Well-known communities by the names gobgp, BIRD and FRR print: RFC 1997 (no-export, no-advertise,
 * no-export-subconfed), RFC 3765 (no-peer), RFC 8326 (graceful-shutdown), RFC 7611 (accept-own), RFC 7999
 * (blackhole), RFC 9494 (llgr-stale, no-llgr).
 */
export const WELL_KNOWN_COMMUNITIES = {
  'graceful-shutdown': 0xffff0000,
  'accept-own': 0xffff0001,
  'llgr-stale': 0xffff0006,
  'no-llgr': 0xffff0007,
  blackhole: 0xffff029a,
  'no-export': 0xffffff01,
  'no-advertise': 0xffffff02,
  'no-export-subconfed': 0xffffff03,
  'no-peer': 0xffffff04,
} as const;

export type WellKnownCommunity = keyof typeof WELL_KNOWN_COMMUNITIES;

const NAMES: ReadonlyMap<number, WellKnownCommunity> = new Map(
  Object.entries(WELL_KNOWN_COMMUNITIES).map(([name, value]) => [value, name as WellKnownCommunity]),
);

export interface LargeCommunity {
  readonly globalAdmin: number;
  readonly localData1: number;
  readonly localData2: number;
}

/** The well-known name of a community, if it has one. */
export function communityName(value: number): WellKnownCommunity | undefined {
  return NAMES.get(value);
}

/** "no-export" for a well-known community, else "asn:value" (RFC 1997's high and low 16 bits). */
export function formatCommunity(value: number): string {
  return NAMES.get(value) ?? `${Math.floor(value / 0x10000)}:${value % 0x10000}`;
}

const DECIMAL = /^(0|[1-9][0-9]*)$/;

/** Parses "65000:100" (each part 0-65535) or a well-known name. */
export function parseCommunity(text: string): Result<number> {
  const named = (WELL_KNOWN_COMMUNITIES as Readonly<Record<string, number>>)[text];
  if (named !== undefined && Object.hasOwn(WELL_KNOWN_COMMUNITIES, text)) return ok(named);
  const parts = text.split(':');
  if (parts.length !== 2 || !parts.every((part) => DECIMAL.test(part) && Number(part) <= 0xffff)) {
    return err(
      `${JSON.stringify(text)} is not a community: write asn:value (each 0-65535) or a well-known name such as no-export`,
    );
  }
  return ok(Number(parts[0]) * 0x10000 + Number(parts[1]));
}

/** "65000:1:2". */
export function formatLargeCommunity(community: LargeCommunity): string {
  return `${community.globalAdmin}:${community.localData1}:${community.localData2}`;
}

/** Parses "global:local1:local2", each part 0-4294967295. */
export function parseLargeCommunity(text: string): Result<LargeCommunity> {
  const parts = text.split(':');
  if (
    parts.length !== 3 ||
    !parts.every((part) => DECIMAL.test(part) && part.length <= 10 && Number(part) <= 0xffffffff)
  ) {
    return err(`${JSON.stringify(text)} is not a large community: write global:local1:local2, each 0-4294967295`);
  }
  return ok({ globalAdmin: Number(parts[0]), localData1: Number(parts[1]), localData2: Number(parts[2]) });
}
