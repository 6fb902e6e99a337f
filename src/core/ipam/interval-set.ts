// A set of bigints (addresses) held as disjoint, non-adjacent, sorted closed intervals [lo, hi], in a treap keyed
// by lo: a binary search tree whose nodes also carry random priorities in heap order, which keeps its expected
// height O(log n). Priorities come from an xorshift generator held by the instance, so runs are reproducible.
// Nothing recurses: split, merge and every walk are loops. Every operation takes expected O(log n) time in the
// number of intervals, plus k for the k intervals a range operation absorbs or cuts. Single-address add and take
// change nodes in place or insert/unlink one node. Nothing is stored per address: an IPv6 /64 costs one interval.

interface IntervalNode {
  lo: bigint;
  hi: bigint;
  priority: number;
  left: IntervalNode | undefined;
  right: IntervalNode | undefined;
}

/** Nodes split off a tree: those with lo below a key, and the rest. */
interface SplitTrees {
  below: IntervalNode | undefined;
  rest: IntervalNode | undefined;
}

const DEFAULT_SEED = 0x9e3779b9;

/** A set of bigints stored as disjoint, non-adjacent closed intervals in a treap. */
export class IntervalSet {
  #root: IntervalNode | undefined = undefined;
  #size = 0n;
  #count = 0;
  #random: number;

  /** An empty set; the seed only picks the tree's shape, never its contents. */
  constructor(seed: number = DEFAULT_SEED) {
    // Scramble the seed (murmur3's finaliser): xorshift's first outputs from a small seed are small and rising.
    let mixed = seed >>> 0;
    mixed = Math.imul(mixed ^ (mixed >>> 16), 0x85ebca6b);
    mixed = Math.imul(mixed ^ (mixed >>> 13), 0xc2b2ae35);
    this.#random = (mixed ^ (mixed >>> 16)) >>> 0 || DEFAULT_SEED;
  }

  /** The number of members. */
  get size(): bigint {
    return this.#size;
  }

  /** The number of disjoint intervals the members form. */
  get intervalCount(): number {
    return this.#count;
  }

  /** Adds every member of [lo, hi], merging with intervals it overlaps or adjoins. */
  add(lo: bigint, hi: bigint): void {
    checkBounds(lo, hi);
    // before: the node with the greatest lo below lo; after: the node with the least lo from lo on.
    let before: IntervalNode | undefined;
    let after: IntervalNode | undefined;
    for (let node = this.#root; node !== undefined;) {
      if (node.lo < lo) {
        before = node;
        node = node.right;
      } else {
        after = node;
        node = node.left;
      }
    }
    const joinsBefore = before !== undefined && before.hi >= lo - 1n;
    if (after === undefined || after.lo > hi + 1n) {
      // No interval starts within [lo, hi + 1]: extend `before` in place, or insert a node.
      if (before !== undefined && joinsBefore) {
        if (before.hi < hi) {
          this.#size += hi - before.hi;
          before.hi = hi;
        }
      } else {
        this.#size += hi - lo + 1n;
        this.#count++;
        this.#insert(this.#newNode(lo, hi));
      }
      return;
    }
    if (after.hi >= hi) {
      // `after` is the only interval starting within [lo, hi + 1]: extend it down, or bridge it to `before`.
      if (before !== undefined && joinsBefore) {
        this.#size += after.lo - before.hi - 1n;
        this.#count--;
        before.hi = after.hi;
        this.#unlink(after);
      } else {
        this.#size += after.lo - lo;
        after.lo = lo;
      }
      return;
    }
    this.#absorb(joinsBefore && before !== undefined ? before.lo : lo, lo, hi);
  }

  /** Replaces every interval starting from `from` up to hi + 1 by one interval covering them and [lo, hi]. */
  #absorb(from: bigint, lo: bigint, hi: bigint): void {
    const outer = splitBelow(this.#root, from);
    const inner = splitBelow(outer.rest, hi + 2n);
    // inner.below holds every interval overlapping or adjoining [lo, hi]; they become one.
    let newLo = lo;
    let newHi = hi;
    for (const node of nodesOf(inner.below)) {
      if (node.lo < newLo) newLo = node.lo;
      if (node.hi > newHi) newHi = node.hi;
      this.#size -= node.hi - node.lo + 1n;
      this.#count--;
    }
    this.#size += newHi - newLo + 1n;
    this.#count++;
    const node = this.#newNode(newLo, newHi);
    this.#root = merge(merge(outer.below, node), inner.rest);
  }

  /** Removes every member of [lo, hi], splitting an interval that extends past it on both sides. */
  remove(lo: bigint, hi: bigint): void {
    checkBounds(lo, hi);
    const before = this.#lastBelow(lo);
    const from = before !== undefined && before.hi >= lo ? before.lo : lo;
    const outer = splitBelow(this.#root, from);
    const inner = splitBelow(outer.rest, hi + 1n);
    // inner.below holds every interval intersecting [lo, hi]; only the parts outside [lo, hi] stay.
    let keptLeft: IntervalNode | undefined;
    let keptRight: IntervalNode | undefined;
    for (const node of nodesOf(inner.below)) {
      this.#size -= node.hi - node.lo + 1n;
      this.#count--;
      if (node.lo < lo) keptLeft = this.#newNode(node.lo, lo - 1n);
      if (node.hi > hi) keptRight = this.#newNode(hi + 1n, node.hi);
    }
    for (const kept of [keptLeft, keptRight]) {
      if (kept === undefined) continue;
      this.#size += kept.hi - kept.lo + 1n;
      this.#count++;
    }
    this.#root = merge(merge(outer.below, merge(keptLeft, keptRight)), inner.rest);
  }

  /** Whether x is a member. */
  has(x: bigint): boolean {
    return this.#containing(x) !== undefined;
  }

  /** The lowest member, or undefined when the set is empty. */
  lowest(): bigint | undefined {
    let node = this.#root;
    if (node === undefined) return undefined;
    while (node.left !== undefined) node = node.left;
    return node.lo;
  }

  /** Removes and returns the lowest member, or undefined when the set is empty. */
  takeLowest(): bigint | undefined {
    let parent: IntervalNode | undefined;
    let node = this.#root;
    if (node === undefined) return undefined;
    while (node.left !== undefined) {
      parent = node;
      node = node.left;
    }
    const taken = node.lo;
    this.#size--;
    if (node.lo < node.hi) {
      node.lo++;
    } else {
      // The leftmost node has no left child: its right subtree takes its place, heap order intact.
      this.#count--;
      if (parent === undefined) this.#root = node.right;
      else parent.left = node.right;
    }
    return taken;
  }

  /** Removes x if it is a member; returns whether it was. */
  take(x: bigint): boolean {
    let parent: IntervalNode | undefined;
    let node = this.#root;
    while (node !== undefined) {
      if (x < node.lo) {
        parent = node;
        node = node.left;
      } else if (x > node.hi) {
        parent = node;
        node = node.right;
      } else {
        break;
      }
    }
    if (node === undefined) return false;
    if (node.lo === node.hi) {
      this.#size--;
      this.#count--;
      const replacement = merge(node.left, node.right);
      if (parent === undefined) this.#root = replacement;
      else if (parent.left === node) parent.left = replacement;
      else parent.right = replacement;
    } else if (x === node.lo) {
      this.#size--;
      node.lo++;
    } else if (x === node.hi) {
      this.#size--;
      node.hi--;
    } else {
      const rest = this.#newNode(x + 1n, node.hi);
      node.hi = x - 1n;
      this.#size--;
      this.#count++;
      this.#insert(rest);
    }
    return true;
  }

  /** The lowest member within [lo, hi], or undefined when there is none. */
  lowestInRange(lo: bigint, hi: bigint): bigint | undefined {
    checkBounds(lo, hi);
    let candidate: bigint | undefined;
    let node = this.#root;
    while (node !== undefined) {
      if (node.hi < lo) {
        node = node.right;
      } else if (node.lo <= lo) {
        return lo;
      } else {
        candidate = node.lo;
        node = node.left;
      }
    }
    return candidate !== undefined && candidate <= hi ? candidate : undefined;
  }

  /** The number of members within [lo, hi]; O(k + log n) for the k intervals it meets. */
  countInRange(lo: bigint, hi: bigint): bigint {
    checkBounds(lo, hi);
    let count = 0n;
    const pending: IntervalNode[] = [];
    if (this.#root !== undefined) pending.push(this.#root);
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      if (node.hi < lo) {
        if (node.right !== undefined) pending.push(node.right);
      } else if (node.lo > hi) {
        if (node.left !== undefined) pending.push(node.left);
      } else {
        count += (node.hi < hi ? node.hi : hi) - (node.lo > lo ? node.lo : lo) + 1n;
        if (node.left !== undefined) pending.push(node.left);
        if (node.right !== undefined) pending.push(node.right);
      }
    }
    return count;
  }

  /** The intervals [lo, hi] in ascending order; the set must not change while this runs. */
  *intervals(): Generator<[bigint, bigint]> {
    for (const node of inOrder(this.#root)) yield [node.lo, node.hi];
  }

  /** An independent copy with the same members (and the same tree shape and generator state). */
  clone(): IntervalSet {
    const copy = new IntervalSet();
    copy.#random = this.#random;
    copy.#size = this.#size;
    copy.#count = this.#count;
    if (this.#root === undefined) return copy;
    const copyOf = (node: IntervalNode): IntervalNode => ({ ...node });
    copy.#root = copyOf(this.#root);
    const pending: IntervalNode[] = [copy.#root];
    for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
      if (node.left !== undefined) pending.push((node.left = copyOf(node.left)));
      if (node.right !== undefined) pending.push((node.right = copyOf(node.right)));
    }
    return copy;
  }

  /** The height of the tree (0 when empty), for tests and diagnostics; O(n). */
  treeHeight(): number {
    let height = 0;
    const pending: Array<[IntervalNode, number]> = [];
    if (this.#root !== undefined) pending.push([this.#root, 1]);
    for (let entry = pending.pop(); entry !== undefined; entry = pending.pop()) {
      const [node, depth] = entry;
      if (depth > height) height = depth;
      if (node.left !== undefined) pending.push([node.left, depth + 1]);
      if (node.right !== undefined) pending.push([node.right, depth + 1]);
    }
    return height;
  }

  /** Every broken internal invariant (order, heap order, disjointness, counts), for tests; empty when sound. O(n). */
  invariantViolations(): string[] {
    const violations: string[] = [];
    let previous: IntervalNode | undefined;
    let size = 0n;
    let count = 0;
    for (const next of inOrder(this.#root)) {
      if (next.lo > next.hi) violations.push(`interval [${next.lo}, ${next.hi}] is empty`);
      if (previous !== undefined && previous.hi + 1n >= next.lo) {
        violations.push(`[${previous.lo}, ${previous.hi}] overlaps or adjoins [${next.lo}, ${next.hi}]`);
      }
      for (const child of [next.left, next.right]) {
        if (child !== undefined && child.priority > next.priority) violations.push(`node ${next.lo} breaks heap order`);
      }
      size += next.hi - next.lo + 1n;
      count++;
      previous = next;
    }
    if (size !== this.#size) violations.push(`size is ${this.#size} but the intervals hold ${size}`);
    if (count !== this.#count) violations.push(`intervalCount is ${this.#count} but the tree has ${count}`);
    return violations;
  }

  /** Inserts a detached node whose interval touches no other: down to where its priority belongs, then a split. */
  #insert(inserted: IntervalNode): void {
    let parent: IntervalNode | undefined;
    let node = this.#root;
    while (node !== undefined && node.priority >= inserted.priority) {
      parent = node;
      node = inserted.lo < node.lo ? node.left : node.right;
    }
    const parts = splitBelow(node, inserted.lo);
    inserted.left = parts.below;
    inserted.right = parts.rest;
    if (parent === undefined) this.#root = inserted;
    else if (inserted.lo < parent.lo) parent.left = inserted;
    else parent.right = inserted;
  }

  /** Removes a node of the tree, putting the merge of its subtrees in its place. */
  #unlink(unlinked: IntervalNode): void {
    let parent: IntervalNode | undefined;
    let node = this.#root;
    while (node !== unlinked) {
      if (node === undefined) throw new Error(`interval [${unlinked.lo}, ${unlinked.hi}] is not in the tree`);
      parent = node;
      node = unlinked.lo < node.lo ? node.left : node.right;
    }
    const replacement = merge(unlinked.left, unlinked.right);
    if (parent === undefined) this.#root = replacement;
    else if (parent.left === unlinked) parent.left = replacement;
    else parent.right = replacement;
  }

  /** The node with the greatest lo below key, or undefined. */
  #lastBelow(key: bigint): IntervalNode | undefined {
    let found: IntervalNode | undefined;
    let node = this.#root;
    while (node !== undefined) {
      if (node.lo < key) {
        found = node;
        node = node.right;
      } else {
        node = node.left;
      }
    }
    return found;
  }

  /** The node whose interval holds x, or undefined. */
  #containing(x: bigint): IntervalNode | undefined {
    let node = this.#root;
    while (node !== undefined) {
      if (x < node.lo) node = node.left;
      else if (x > node.hi) node = node.right;
      else return node;
    }
    return undefined;
  }

  /** A detached node for [lo, hi] with the next priority from the generator (xorshift32). */
  #newNode(lo: bigint, hi: bigint): IntervalNode {
    let x = this.#random;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#random = x >>> 0;
    // A 30-bit priority stays a small integer (no heap number); a one-address interval shares one bigint.
    return { lo, hi: hi === lo ? lo : hi, priority: this.#random >>> 2, left: undefined, right: undefined };
  }
}

/** Throws when lo > hi: callers pass intervals, so an empty one is a bug. */
function checkBounds(lo: bigint, hi: bigint): void {
  if (lo > hi) throw new RangeError(`interval [${lo}, ${hi}] has lo > hi`);
}

/** Splits a treap into the nodes with lo < key and the rest, iteratively along one root-to-leaf path. */
function splitBelow(root: IntervalNode | undefined, key: bigint): SplitTrees {
  let below: IntervalNode | undefined;
  let rest: IntervalNode | undefined;
  let belowTail: IntervalNode | undefined; // the right-most node of `below`, whose right child is still open
  let restTail: IntervalNode | undefined; // the left-most node of `rest`, whose left child is still open
  let node = root;
  while (node !== undefined) {
    if (node.lo < key) {
      if (belowTail === undefined) below = node;
      else belowTail.right = node;
      belowTail = node;
      node = node.right;
    } else {
      if (restTail === undefined) rest = node;
      else restTail.left = node;
      restTail = node;
      node = node.left;
    }
  }
  if (belowTail !== undefined) belowTail.right = undefined;
  if (restTail !== undefined) restTail.left = undefined;
  return { below, rest };
}

/** Joins two treaps where every lo in `low` is below every lo in `high`, iteratively along the two spines. */
function merge(low: IntervalNode | undefined, high: IntervalNode | undefined): IntervalNode | undefined {
  let root: IntervalNode | undefined;
  let parent: IntervalNode | undefined;
  let parentSide: 'left' | 'right' = 'left';
  let a = low;
  let b = high;
  while (a !== undefined && b !== undefined) {
    // The higher priority becomes the parent; the open child slot is on the side facing the other tree.
    const chosen = a.priority >= b.priority ? a : b;
    if (parent === undefined) root = chosen;
    else parent[parentSide] = chosen;
    parent = chosen;
    if (chosen === a) {
      parentSide = 'right';
      a = a.right;
    } else {
      parentSide = 'left';
      b = b.left;
    }
  }
  const remainder = a ?? b;
  if (parent === undefined) return remainder;
  parent[parentSide] = remainder;
  return root;
}

/** The nodes of a tree in ascending order of their intervals, without recursion; the tree must not change meanwhile. */
function* inOrder(root: IntervalNode | undefined): Generator<IntervalNode> {
  const path: IntervalNode[] = [];
  let node = root;
  while (node !== undefined || path.length > 0) {
    while (node !== undefined) {
      path.push(node);
      node = node.left;
    }
    const next = path.pop();
    if (next === undefined) return;
    yield next;
    node = next.right;
  }
}

/** Every node of a (detached) tree, in no particular order. */
function nodesOf(root: IntervalNode | undefined): IntervalNode[] {
  const nodes: IntervalNode[] = [];
  if (root !== undefined) nodes.push(root);
  for (let index = 0; index < nodes.length; index++) {
    const node = nodes[index];
    if (node?.left !== undefined) nodes.push(node.left);
    if (node?.right !== undefined) nodes.push(node.right);
  }
  return nodes;
}
