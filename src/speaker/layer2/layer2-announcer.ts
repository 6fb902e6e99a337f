// What the layer-2 speaker hands its announcer (packet-announcer.ts): the addresses this node answers for, with
// the interfaces each is announced on and the Services it belongs to.

export interface OwnedAddress {
  interfaces: string[];
  services: string[];
}

export interface Layer2Announcer {
  /**
   * What this node answers for now: newly owned addresses are announced at once, removed ones fall silent at once.
   * `changed`: only these addresses may differ from the last update (the others are as they were); absent: any.
   */
  update(owned: ReadonlyMap<bigint, OwnedAddress>, changed?: ReadonlySet<bigint>): void;
}
