// What the layer-2 speaker hands its announcer (packet-announcer.ts): the addresses this node answers for, with
// the interfaces each is announced on and the Services it belongs to.

export interface OwnedAddress {
  interfaces: string[];
  services: string[];
}

export interface Layer2Announcer {
  /** What this node answers for now: newly owned addresses are announced at once, removed ones fall silent at once. */
  update(owned: ReadonlyMap<bigint, OwnedAddress>): void;
}
