// A problem found while compiling configuration: reported as a condition on the object and an Event, never thrown.

export type ConfigProblemReason =
  /** An address entry that does not parse (the CRD schema catches most; this covers the rest, e.g. reversed IPv6 ranges). */
  | 'InvalidAddresses'
  /** Addresses also held by an older pool; the later pool does not use them. */
  | 'Overlap';

export interface ConfigProblem {
  kind: 'IPPool';
  name: string;
  reason: ConfigProblemReason;
  message: string;
}
