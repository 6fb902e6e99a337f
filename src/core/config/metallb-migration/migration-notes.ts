// The notes a migration gives: one per difference between what MetalLB did and what the output does.

/** `omitted`: left out, the output does less than MetalLB did; `changed`: translated, but it behaves differently; `skipped`: not MetalLB configuration. */
export type MigrationSeverity = 'omitted' | 'changed' | 'skipped';

export const NOTE_SEVERITY = {
  /** Not a MetalLB configuration object (other API groups, MetalLB's status kinds). */
  NotConfiguration: 'skipped',
  /** A MetalLB kind or version this migration does not translate (AddressPool, OSPF, the old ConfigMap). */
  UnsupportedKind: 'omitted',
  /** No name, or a spec that is not an object. */
  InvalidObject: 'omitted',
  /** A second object of a kind with a name already seen (e.g. the same name in two namespaces). */
  DuplicateObject: 'omitted',
  /** A field this migration does not know (a newer MetalLB?). */
  UnknownField: 'omitted',
  /** A value MetalLB itself would refuse, or one Beacon LB's schema cannot hold. */
  InvalidValue: 'omitted',
  /** Several selectors whose OR no single Beacon LB selector expresses: only the first is kept. */
  SelectorsNarrowed: 'omitted',
  /** BFDProfile.echoMode / echoInterval: Beacon LB's BFD runs asynchronous mode without the echo function. */
  BFDEchoUnsupported: 'omitted',
  /** BGPPeer.bfdProfile on an ebgpMultiHop peer: Beacon LB's BFD is single hop (RFC 5881) only. */
  BFDMultiHopUnsupported: 'omitted',
  /** BGPPeer.bfdProfile naming no BFDProfile (or one that was left out): MetalLB ran that peer without BFD too. */
  BFDProfileMissing: 'omitted',
  /** The BFDProfile's settings were copied into the peer's spec.bfd (Beacon LB has no separate profile object). */
  BFDProfileInlined: 'changed',
  /** BFDProfile.minimumTtl: single-hop BFD takes only TTL 255 (RFC 5881), whatever the profile said. */
  BFDMinimumTtlIgnored: 'changed',
  /** A plain BGPPeer.password: the output references a Secret holding a placeholder. */
  PasswordPlaceholder: 'omitted',
  /** BGPPeer.interface (unnumbered BGP): each node finds the router by its Router Advertisements (ADR 0035). */
  UnnumberedPeer: 'changed',
  /** BGPPeer.bfdProfile on an unnumbered peer: Beacon LB runs BFD only with a router's global address. */
  BFDUnnumberedUnsupported: 'omitted',
  /** BGPPeer.vrf: Beacon LB opens sessions in the node's default VRF. */
  VRFUnsupported: 'omitted',
  /** An advertisement community that is neither a valid community nor a Community alias. */
  UnknownCommunity: 'omitted',
  /** One MetalLB object became several Beacon LB objects (one selector per field). */
  ObjectSplit: 'changed',
  /** A pool with serviceAllocation got a priority so it is still tried before pools without one. */
  PriorityAdded: 'changed',
  /** Priorities renumbered into Beacon LB's range, order kept. */
  PrioritiesRenumbered: 'changed',
  /** An L2Advertisement without interfaces: MetalLB answered on every interface. */
  DefaultInterfaces: 'changed',
  /** L2Advertisement.preferredNodeSelectors: Beacon LB's election has no preferences. */
  PreferredNodesIgnored: 'changed',
  /** BGPPeer.passwordSecret: the Secret must be copied into the BGP password namespace. */
  PasswordSecretToCopy: 'changed',
  /** No holdTime and keepaliveTime: MetalLB's defaults differ from Beacon LB's. */
  TimerDefaults: 'changed',
  /** Timers rounded to whole seconds, or keepaliveTime dropped because it equalled holdTime. */
  TimersAdjusted: 'changed',
  /** BGPPeer.localASN became the peer's myASN. */
  LocalASNAsMyASN: 'changed',
  /** A Community alias replaced by its value. */
  CommunityAliasResolved: 'changed',
} as const satisfies Record<string, MigrationSeverity>;

export type MigrationNoteKind = keyof typeof NOTE_SEVERITY;

export interface MigrationNote {
  kind: MigrationNoteKind;
  severity: MigrationSeverity;
  /** The MetalLB object, as `Kind namespace/name`. */
  object: string;
  /** The field concerned, as a path in the MetalLB object (spec.holdTime); absent when the note is about the object. */
  field?: string;
  message: string;
}

/** Collects the notes of one migration. */
export class Notes {
  readonly list: MigrationNote[] = [];

  add(kind: MigrationNoteKind, object: string, field: string | undefined, message: string): void {
    this.list.push({ kind, severity: NOTE_SEVERITY[kind], object, ...(field === undefined ? {} : { field }), message });
  }

  /** InvalidValue: `value` (quoted as JSON) is not `what` (e.g. "an object name"), with what follows from it. */
  notA(object: string, field: string, value: unknown, what: string, consequence: string): void {
    this.add('InvalidValue', object, field, `${JSON.stringify(value)} is not ${what}; ${consequence}`);
  }
}

/** Whether any note means something was left out (the command then exits with 2). */
export function somethingLeftOut(notes: readonly MigrationNote[]): boolean {
  return notes.some((n) => n.severity === 'omitted');
}

/** One line for a terminal: severity, object, field, message. */
export function formatNote(note: MigrationNote): string {
  const label = note.severity === 'omitted' ? 'left out' : note.severity;
  return `${label.padEnd(8)}  ${note.object}${note.field ? ` ${note.field}` : ''}: ${note.message}`;
}
