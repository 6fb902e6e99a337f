// Who monitors whom in the probe failure detector (ADR 0019): every speaker ranks the same way, so every speaker
// agrees on each member's K monitors and on the quorums among them.

/** Monitor ranking: a 32-bit mix of FNV-1a over "target\0member" (any deterministic hash every speaker shares works). */
function pairWeight(target: string, member: string): number {
  let h = 0x811c9dc5;
  const text = `${target}\u0000${member}`;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** The other members ranked for `target`: highest weight first, ties by name. */
export function rankForTarget(target: string, members: readonly string[]): string[] {
  return members
    .filter((m) => m !== target)
    .map((m) => ({ m, w: pairWeight(target, m) }))
    .sort((a, b) => b.w - a.w || (a.m < b.m ? -1 : a.m > b.m ? 1 : 0))
    .map((x) => x.m);
}

/** The quorums for K monitors: a down quorum is a majority; a fence quorum meets every down quorum. */
export function quorums(monitors: number): { down: number; fence: number } {
  const down = Math.floor(monitors / 2) + 1;
  return { down, fence: monitors - down + 1 };
}
