// A problem found while compiling configuration: reported as a condition on the object and an Event, never thrown.
import type { OurKind } from './spec-shape.ts';
import { serviceKey, type ServiceObject } from './service-object.ts';

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

/** A Service whose planning threw (a bug): it is left out of the plan, and this problem says so. */
export interface ServicePlanningError {
  readonly kind: 'Service';
  /** namespace/name */
  readonly name: string;
  readonly reason: 'ProcessingError';
  readonly message: string;
}

/**
 * Plans each Service on its own, as the layer-2 and BGP plans do: one whose planning throws is reported as `not
 * <outcome>` (e.g. 'announced', 'advertised') and the others are still planned; one bad object never stops the rest.
 */
export function planEachService(
  services: readonly ServiceObject[],
  outcome: string,
  plan: (svc: ServiceObject) => void,
  report: (problem: ServicePlanningError) => void,
): void {
  for (const svc of services) {
    try {
      plan(svc);
    } catch (error) {
      report({
        kind: 'Service',
        name: serviceKey(svc),
        reason: 'ProcessingError',
        message: `not ${outcome}: planning it failed: ${thrownText(error)}`,
      });
    }
  }
}
