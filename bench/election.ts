// Layer-2 owner election, pure computation (prints one JSON object):
//  - ownersMs: time for ownersOf over 5,000 addresses with every node eligible, for 3, 10 and 100 live nodes:
//    the first (cold) call in the process, then the median and minimum of warm calls; `ownListEach` gives every
//    address its own eligible array (the worst case), `sharedList` passes one array for all (what a speaker does
//    for the Services of one advertisement; ownersOf resolves a shared list once);
//  - movedOnLeave: for 30 and 5,000 addresses over 3 nodes, each node leaving in turn: how many addresses it
//    owned, how many changed owner (the ideal is exactly the ones it owned), and the loads and capacity before.
// Usage: node bench/election.ts [--runs 50]
import { parseArgs } from 'node:util';
import { assignOwners, ownersOf, type OwnerInput } from '../src/core/election/rendezvous-owner.ts';
import { ipv4 } from '../src/core/ip/ip-address.ts';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '50' } } });
const RUNS = Number(values.runs);

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** `count` addresses from 198.18.0.0/15 (RFC 2544 benchmarking) over `nodes` nodes named like a cluster's. */
function input(count: number, nodes: number, shared = false): OwnerInput {
  const names = Array.from(
    { length: nodes },
    (_, i) => `worker-${i + 1}.rack-${String.fromCharCode(97 + (i % 4))}.example.net`,
  );
  return {
    addresses: Array.from({ length: count }, (_, i) => ({
      address: ipv4(198, 18, 0, 0) + BigInt(i),
      eligible: shared ? names : [...names],
    })),
    live: new Set(names),
  };
}

function timeOwners(
  count: number,
  nodes: number,
  shared: boolean,
): { firstMs: number; medianMs: number; minMs: number } {
  const data = input(count, nodes, shared);
  let start = performance.now();
  ownersOf(data);
  const firstMs = performance.now() - start;
  const times: number[] = [];
  for (let run = 0; run < RUNS; run++) {
    start = performance.now();
    ownersOf(data);
    times.push(performance.now() - start);
  }
  times.sort((a, b) => a - b);
  return {
    firstMs: round(firstMs),
    medianMs: round(times[Math.floor(times.length / 2)] ?? Number.NaN),
    minMs: round(times[0] ?? Number.NaN),
  };
}

function movedOnLeave(count: number): object {
  const data = input(count, 3);
  const before = assignOwners(data);
  const leaves = [...data.live].map((leaving) => {
    const after = ownersOf({ ...data, live: new Set([...data.live].filter((node) => node !== leaving)) });
    let owned = 0;
    let moved = 0;
    for (const [address, owner] of before.owners) {
      if (owner === leaving) owned++;
      if (after.get(address) !== owner) moved++;
    }
    return { leaving, owned, moved, extra: moved - owned };
  });
  return { addresses: count, nodes: 3, capacity: before.capacity, loads: Object.fromEntries(before.loads), leaves };
}

// Time first, while nothing else has warmed the code: the 3-node cold number is the first call in the process.
const ownersMs = {
  ownListEach: {
    nodes3: timeOwners(5000, 3, false),
    nodes10: timeOwners(5000, 10, false),
    nodes100: timeOwners(5000, 100, false),
  },
  sharedList: {
    nodes3: timeOwners(5000, 3, true),
    nodes10: timeOwners(5000, 10, true),
    nodes100: timeOwners(5000, 100, true),
  },
};
console.log(
  JSON.stringify({
    node: process.version,
    runs: RUNS,
    addresses: 5000,
    ownersMs,
    movedOnLeave: [movedOnLeave(30), movedOnLeave(5000)],
  }),
);
