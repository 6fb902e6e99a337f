// A problem found while compiling configuration: reported as a condition on the object and an Event, never thrown.
import type { OurKind } from './spec-shape.ts';

export type ConfigProblemReason =
  /** An address entry that does not parse (the CRD schema catches most; this covers the rest, e.g. reversed IPv6 ranges). */
  | 'InvalidAddresses'
  /** Addresses also held by an older pool; the later pool does not use them. */
  | 'Overlap'
  /** The object does not have its schema's shape (stored without the current schema): it is left out whole. */
  | 'MalformedObject'
  /** Compiling the object threw (a bug): it is left out, the others are compiled. */
  | 'ProcessingError';

export interface ConfigProblem {
  kind: OurKind;
  name: string;
  reason: ConfigProblemReason;
  message: string;
}

/** The text of something thrown, for a problem's message. */
export function thrownText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
