// Which node answers ARP/NDP for each layer-2 address: rendezvous (highest random weight) hashing with bounded
// load. Every speaker runs this on the same inputs (addresses, their eligible nodes, the live nodes) and gets the
// same owners, whatever order the inputs arrive in; nothing is negotiated over the network.
//
// Hashes. H(bytes) = fmix64(FNV-1a-64(bytes)), fmix64 being MurmurHash3's 64-bit finaliser (full avalanche, so
// similar inputs such as 10.0.0.1 and 10.0.0.2 get unrelated hashes). An address hashes its 16 bytes (big endian,
// IPv4 as ::ffff:a.b.c.d); a node hashes the UTF-8 bytes of its name. The weight of node n for address a is
// fmix64(H(a) XOR H(n)), an unsigned 64-bit number; a higher weight ranks first and equal weights rank by node
// name (UTF-16 code unit order), so the ranking is a total order. All arithmetic is on 32-bit halves
// (Math.imul), no BigInt in the loop and no allocation per pair (bench/election.ts measures it).
//
// Bounded load. Let A be the number of addresses with at least one live eligible node and N the number of live
// nodes eligible for at least one address; every node's capacity is ceil(loadFactor * A / N) (IEEE double
// arithmetic, identical on every speaker). Addresses are taken in canonical order: fewest live eligible nodes
// first (an ETP Local address pinned to one node takes its place before flexible addresses can fill that node),
// then by H(a), then by value. Within a group the order is by hash, not by value: adding or removing an address
// shifts the turn of no other address, so few others move. Each address goes to its highest-ranked live eligible
// node that is below capacity; if all of them are full, to its highest-ranked live eligible node anyway:
// eligibility wins over balance (ETP Local with endpoints on one node must still be answered from that node).
//
// Guarantees (tested): (1) an owner is always live and eligible for the address; an address with no live eligible
// node has owner undefined. (2) The result depends only on the inputs as sets. (3) When every live node is
// eligible for every address, no node owns more than the capacity (N x capacity >= A, so a node below capacity is
// always left). (4) In general, a node owns at most capacity + k addresses, k being the number of its addresses
// whose live eligible nodes all ended at or above capacity; and every node an address skipped (ranked above its
// owner) ended at or above capacity. The capacity is global, not per node: a node that could serve only a few
// addresses never reaches it, and where eligibility is concentrated on a few nodes they overflow by rule (4).
// Stability is measured, not proven: with every node eligible, a node leaving or joining moves its own addresses
// and at most 2N + 2 others (in 20,000 random cases with up to 300 addresses and 10 nodes, never more than 7).
//
// An address listed more than once (a shared IP) is one address whose eligible nodes are the union of the lists:
// any node that may announce one of its Services may answer for it.

/** Default bound on a node's share: 1.25 x the mean number of addresses per node. */
export const DEFAULT_LOAD_FACTOR = 1.25;

/** The inputs of an owner assignment; the order of every list is irrelevant. */
export interface OwnerInput {
  /** Layer-2 addresses, each with the nodes that may announce it (node selector, exclusions, ETP Local endpoints). */
  readonly addresses: ReadonlyArray<{ readonly address: bigint; readonly eligible: readonly string[] }>;
  /** Nodes whose speaker is live (heartbeat lease fresh and not leaving). */
  readonly live: ReadonlySet<string>;
  /** Capacity as a multiple of the mean load; at least 1. Default DEFAULT_LOAD_FACTOR. */
  readonly loadFactor?: number;
}

/** An owner assignment with the numbers behind it, for the status command and metrics. */
export interface OwnerAssignment {
  /** Every input address (once) with its owner, or undefined when no live node is eligible; in canonical order. */
  readonly owners: Map<bigint, string | undefined>;
  /** Addresses owned per node, for every live node eligible for at least one address (possibly 0), by name. */
  readonly loads: Map<string, number>;
  /** ceil(loadFactor * A / N); 0 when no address has a live eligible node. */
  readonly capacity: number;
}

const LARGEST_ADDRESS = (1n << 128n) - 1n;
const WORD = 0xffffffffn;
const TWO_POW_32 = 0x100000000;

// FNV-1a 64: offset basis 0xcbf29ce484222325, prime 0x00000100000001b3 = 2^40 + 0x1b3.
const FNV_OFFSET_HI = 0xcbf29ce4;
const FNV_OFFSET_LO = 0x84222325;
const FNV_PRIME_LO = 0x1b3;
// MurmurHash3 fmix64 multipliers.
const FMIX_1_HI = 0xff51afd7;
const FMIX_1_LO = 0xed558ccd;
const FMIX_2_HI = 0xc4ceb9fe;
const FMIX_2_LO = 0x1a85ec53;

/** A 64-bit hash as unsigned 32-bit halves. */
interface Hash64 {
  hi: number;
  lo: number;
}

/** The upper 32 bits of the 64-bit product of two unsigned 32-bit numbers (16-bit limbs keep doubles exact). */
function mulHigh32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const p01 = a0 * b1;
  const p10 = a1 * b0;
  const middle = ((a0 * b0) >>> 16) + (p01 & 0xffff) + (p10 & 0xffff);
  return a1 * b1 + (p01 >>> 16) + (p10 >>> 16) + (middle >>> 16);
}

// The hash functions below return their 64-bit result in this array (high half, low half) instead of an object:
// the owner loop computes one weight per (address, node) pair and must not allocate for each. (Two module `let`
// variables would allocate too: a uint32 above 2^31 is not a small integer and gets boxed when stored.)
const out = new Uint32Array(2);

/** MurmurHash3's fmix64 of (hi, lo) into `out`: xor-shift 33, multiply, xor-shift 33, multiply, xor-shift 33. */
function fmix64(hi: number, lo: number): void {
  lo = (lo ^ (hi >>> 1)) >>> 0;
  let newHi = (mulHigh32(lo, FMIX_1_LO) + Math.imul(hi, FMIX_1_LO) + Math.imul(lo, FMIX_1_HI)) >>> 0;
  lo = Math.imul(lo, FMIX_1_LO) >>> 0;
  hi = newHi;
  lo = (lo ^ (hi >>> 1)) >>> 0;
  newHi = (mulHigh32(lo, FMIX_2_LO) + Math.imul(hi, FMIX_2_LO) + Math.imul(lo, FMIX_2_HI)) >>> 0;
  lo = Math.imul(lo, FMIX_2_LO) >>> 0;
  out[0] = newHi;
  out[1] = lo ^ (newHi >>> 1);
}

/** One FNV-1a 64 step over a byte into `out`. */
function fnvStep(hi: number, lo: number, byte: number): void {
  lo = (lo ^ byte) >>> 0;
  // h * (2^40 + 0x1b3): lo * 0x1b3 < 2^41 is exact in a double; 2^40 * h adds lo << 8 to the high half.
  const product = lo * FNV_PRIME_LO;
  out[0] = Math.floor(product / TWO_POW_32) + Math.imul(hi, FNV_PRIME_LO) + (lo << 8);
  out[1] = product;
}

/** FNV-1a 64 continued over the four bytes of a 32-bit word, most significant first, into `out`. */
function fnvWord(hi: number, lo: number, word: number): void {
  fnvStep(hi, lo, word >>> 24);
  fnvStep(out[0] ?? 0, out[1] ?? 0, (word >>> 16) & 0xff);
  fnvStep(out[0] ?? 0, out[1] ?? 0, (word >>> 8) & 0xff);
  fnvStep(out[0] ?? 0, out[1] ?? 0, word & 0xff);
}

/** H(a): fmix64 of FNV-1a 64 over the address's 16 bytes, most significant first; throws outside 128 bits (a bug). */
function addressHash(address: bigint): Hash64 {
  if (address < 0n || address > LARGEST_ADDRESS)
    throw new RangeError(`${address} is outside the 128-bit address space`);
  fnvWord(FNV_OFFSET_HI, FNV_OFFSET_LO, Number(address >> 96n));
  fnvWord(out[0] ?? 0, out[1] ?? 0, Number((address >> 64n) & WORD));
  fnvWord(out[0] ?? 0, out[1] ?? 0, Number((address >> 32n) & WORD));
  fnvWord(out[0] ?? 0, out[1] ?? 0, Number(address & WORD));
  fmix64(out[0] ?? 0, out[1] ?? 0);
  return { hi: out[0] ?? 0, lo: out[1] ?? 0 };
}

const utf8 = new TextEncoder();

/** H(n): fmix64 of FNV-1a 64 over the UTF-8 bytes of a node name. */
function nodeHash(node: string): Hash64 {
  const bytes = utf8.encode(node);
  let hi = FNV_OFFSET_HI;
  let lo = FNV_OFFSET_LO;
  for (const byte of bytes) {
    fnvStep(hi, lo, byte);
    hi = out[0] ?? 0;
    lo = out[1] ?? 0;
  }
  fmix64(hi, lo);
  return { hi: out[0] ?? 0, lo: out[1] ?? 0 };
}

/** The weight fmix64(H(a) XOR H(n)) as a Hash64. */
function weightOf(a: Hash64, n: Hash64): Hash64 {
  fmix64((a.hi ^ n.hi) >>> 0, (a.lo ^ n.lo) >>> 0);
  return { hi: out[0] ?? 0, lo: out[1] ?? 0 };
}

/** Compares strings by UTF-16 code units (locale-independent, identical everywhere). */
function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The rendezvous weight of a node for an address, as an unsigned 64-bit number (for debugging and golden tests). */
export function rendezvousWeight(address: bigint, node: string): bigint {
  const w = weightOf(addressHash(address), nodeHash(node));
  return (BigInt(w.hi) << 32n) | BigInt(w.lo);
}

/** The plain rendezvous order of nodes for an address (no liveness, no load bound), best first, without duplicates. */
export function rankNodes(address: bigint, nodes: Iterable<string>): string[] {
  const a = addressHash(address);
  const ranked = [...new Set(nodes)].map((node) => ({ node, weight: weightOf(a, nodeHash(node)) }));
  ranked.sort((x, y) => y.weight.hi - x.weight.hi || y.weight.lo - x.weight.lo || compareNames(x.node, y.node));
  return ranked.map((entry) => entry.node);
}

/** One distinct address during an assignment. */
interface AddressEntry {
  readonly address: bigint;
  /** H(a) as halves. */
  readonly hi: number;
  readonly lo: number;
  /** Indices (into NodeTable) of its live eligible nodes, without duplicates; possibly shared with other entries. */
  candidates: readonly number[];
}

/** The live eligible nodes of an assignment, interned as indices in first-seen order (never a tie-breaker). */
interface NodeTable {
  readonly index: Map<string, number>;
  readonly names: string[];
  /** H(n) as halves, by index. */
  readonly hi: number[];
  readonly lo: number[];
}

/** The index of a live node, interning it on first sight; undefined for a node that is not live. */
function internLive(nodes: NodeTable, live: ReadonlySet<string>, node: string): number | undefined {
  const known = nodes.index.get(node);
  if (known !== undefined || !live.has(node)) return known;
  const h = nodeHash(node);
  const index = nodes.names.length;
  nodes.index.set(node, index);
  nodes.names.push(node);
  nodes.hi.push(h.hi);
  nodes.lo.push(h.lo);
  return index;
}

/** Orders entries by H(a) as an unsigned 64-bit number, then by address. */
function compareByHash(x: AddressEntry, y: AddressEntry): number {
  return x.hi - y.hi || x.lo - y.lo || (x.address < y.address ? -1 : x.address > y.address ? 1 : 0);
}

const INDEX_BITS = 2 ** 21;

/**
 * Sorts entries by H(a), then by address. A comparator sort of thousands of objects is the slowest step, so (up to
 * 2^21 entries) the order comes from the engine's numeric sort of doubles: the high half of H(a) times 2^21 plus
 * the entry's index (exact, 53 bits); runs with an equal high half (rare) are then put right by the comparator.
 */
function sortByHash(entries: AddressEntry[]): void {
  if (entries.length >= INDEX_BITS) {
    entries.sort(compareByHash);
    return;
  }
  const keys = new Float64Array(entries.length);
  for (let i = 0; i < entries.length; i++) keys[i] = (entries[i]?.hi ?? 0) * INDEX_BITS + i;
  keys.sort();
  const unsorted = entries.slice();
  keys.forEach((key, i) => {
    const entry = unsorted[key % INDEX_BITS];
    if (entry !== undefined) entries[i] = entry;
  });
  for (let start = 0; start < entries.length;) {
    const hi = entries[start]?.hi;
    let end = start + 1;
    while (end < entries.length && entries[end]?.hi === hi) end++;
    if (end - start > 1) entries.splice(start, end - start, ...entries.slice(start, end).sort(compareByHash));
    start = end;
  }
}

/** Reorders entries by number of live eligible nodes, fewest first, keeping the order within each group (stable). */
function groupByCandidateCount(entries: AddressEntry[]): void {
  const next: number[] = [];
  for (const entry of entries) next[entry.candidates.length] = (next[entry.candidates.length] ?? 0) + 1;
  let position = 0;
  for (let count = 0; count < next.length; count++) {
    const size = next[count] ?? 0;
    next[count] = position;
    position += size;
  }
  for (const entry of entries.slice()) {
    const slot = next[entry.candidates.length] ?? 0;
    next[entry.candidates.length] = slot + 1;
    entries[slot] = entry;
  }
}

/**
 * The distinct addresses with their live eligible nodes, in canonical order: fewest live eligible nodes first (the
 * most constrained addresses take their places before the flexible ones fill them), then by H(a), then by value.
 */
function canonicalEntries(input: OwnerInput, nodes: NodeTable): AddressEntry[] {
  // marks[node] === mark: the node is already in the list being built (a cheap duplicate check).
  const marks: number[] = [];
  let mark = 0;
  // Callers often pass one eligible list for many addresses (every Service of an advertisement): resolve it once.
  // Entries may then share a candidates array; merging copies it first.
  const resolved = new Map<readonly string[], number[]>();
  const entries: AddressEntry[] = [];
  for (const { address, eligible } of input.addresses) {
    let candidates = resolved.get(eligible);
    if (candidates === undefined) {
      candidates = [];
      mark++;
      for (const node of eligible) {
        const index = internLive(nodes, input.live, node);
        if (index === undefined || marks[index] === mark) continue;
        marks[index] = mark;
        candidates.push(index);
      }
      resolved.set(eligible, candidates);
    }
    const h = addressHash(address);
    entries.push({ address, hi: h.hi, lo: h.lo, candidates });
  }
  sortByHash(entries);

  // A repeated address is now next to its twins: merge them into one entry with the union of their nodes.
  let kept = 0;
  for (const entry of entries) {
    const previous = entries[kept - 1];
    if (previous?.hi !== entry.hi || previous.lo !== entry.lo || previous.address !== entry.address) {
      entries[kept++] = entry;
      continue;
    }
    const union = [...previous.candidates];
    mark++;
    for (const candidate of union) marks[candidate] = mark;
    for (const candidate of entry.candidates) {
      if (marks[candidate] === mark) continue;
      marks[candidate] = mark;
      union.push(candidate);
    }
    previous.candidates = union;
  }
  entries.length = kept;
  groupByCandidateCount(entries);
  return entries;
}

/** Whether node `candidate` with weight (hi, lo) ranks above node `other` with weight (otherHi, otherLo). */
function outranks(
  hi: number,
  lo: number,
  candidate: number,
  otherHi: number,
  otherLo: number,
  other: number,
  names: readonly string[],
): boolean {
  if (hi !== otherHi) return hi > otherHi;
  if (lo !== otherLo) return lo > otherLo;
  return compareNames(names[candidate] ?? '', names[other] ?? '') < 0;
}

/** Gives each entry, in order, its best live eligible node below capacity (else its best); counts into `load`. */
function assignInOrder(
  entries: readonly AddressEntry[],
  nodes: NodeTable,
  capacity: number,
  load: number[],
): Map<bigint, string | undefined> {
  const owners = new Map<bigint, string | undefined>();
  const names = nodes.names;
  const nodeHi = nodes.hi;
  const nodeLo = nodes.lo;
  for (const entry of entries) {
    const candidates = entry.candidates;
    let best = -1;
    let bestHi = 0;
    let bestLo = 0;
    let open = -1;
    let openHi = 0;
    let openLo = 0;
    for (let i = 0; i < candidates.length; i++) {
      const candidate = candidates[i] ?? 0;
      fmix64((entry.hi ^ (nodeHi[candidate] ?? 0)) >>> 0, (entry.lo ^ (nodeLo[candidate] ?? 0)) >>> 0);
      const hi = out[0] ?? 0;
      const lo = out[1] ?? 0;
      if (best === -1 || outranks(hi, lo, candidate, bestHi, bestLo, best, names)) {
        best = candidate;
        bestHi = hi;
        bestLo = lo;
      }
      if (
        (load[candidate] ?? 0) < capacity &&
        (open === -1 || outranks(hi, lo, candidate, openHi, openLo, open, names))
      ) {
        open = candidate;
        openHi = hi;
        openLo = lo;
      }
    }
    const owner = open !== -1 ? open : best;
    if (owner === -1) {
      owners.set(entry.address, undefined);
    } else {
      load[owner] = (load[owner] ?? 0) + 1;
      owners.set(entry.address, names[owner]);
    }
  }
  return owners;
}

/** Owners of layer-2 addresses with the loads and capacity behind them (see the file comment for the rules). */
export function assignOwners(input: OwnerInput): OwnerAssignment {
  const loadFactor = input.loadFactor ?? DEFAULT_LOAD_FACTOR;
  if (!Number.isFinite(loadFactor) || loadFactor < 1)
    throw new RangeError(`load factor ${loadFactor} is not a finite number >= 1`);

  const nodes: NodeTable = { index: new Map(), names: [], hi: [], lo: [] };
  const entries = canonicalEntries(input, nodes);
  // Every interned node is live and eligible for at least one address: N is the table's size.
  const served = entries.reduce((count, entry) => count + (entry.candidates.length > 0 ? 1 : 0), 0);
  const capacity = served === 0 ? 0 : Math.ceil((loadFactor * served) / nodes.names.length);

  const load = new Array<number>(nodes.names.length).fill(0);
  const owners = assignInOrder(entries, nodes, capacity, load);
  const loads = new Map<string, number>();
  const byName = nodes.names.map((node, index) => ({ node, index })).sort((x, y) => compareNames(x.node, y.node));
  for (const { node, index } of byName) loads.set(node, load[index] ?? 0);
  return { owners, loads, capacity };
}

/** The owner of each layer-2 address: `ownerOf(ip, liveNodes)` for all of them at once (see assignOwners). */
export function ownersOf(input: OwnerInput): Map<bigint, string | undefined> {
  return assignOwners(input).owners;
}

/** H(a) of an address as unsigned 32-bit halves (for incremental owner tracking: owner-tracker.ts). */
export function addressHashOf(address: bigint): { readonly hi: number; readonly lo: number } {
  return addressHash(address);
}

/** H(n) of a node name as unsigned 32-bit halves. */
export function nodeHashOf(node: string): { readonly hi: number; readonly lo: number } {
  return nodeHash(node);
}

/**
 * The best-ranked node for an address (hash `a`) among `nodes` that pass `accept`, by the rendezvous weight and then
 * name, exactly as rankNodes orders them; undefined when none passes. No allocation per node.
 */
export function bestRanked(
  a: { readonly hi: number; readonly lo: number },
  nodes: readonly string[],
  hashOf: (node: string) => { readonly hi: number; readonly lo: number },
  accept: (node: string) => boolean,
): string | undefined {
  let best: string | undefined;
  let bestHi = 0;
  let bestLo = 0;
  for (const node of nodes) {
    if (!accept(node)) continue;
    const n = hashOf(node);
    fmix64((a.hi ^ n.hi) >>> 0, (a.lo ^ n.lo) >>> 0);
    const hi = out[0] ?? 0;
    const lo = out[1] ?? 0;
    if (best === undefined || hi > bestHi || (hi === bestHi && (lo > bestLo || (lo === bestLo && node < best)))) {
      best = node;
      bestHi = hi;
      bestLo = lo;
    }
  }
  return best;
}
