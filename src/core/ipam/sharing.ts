// When two Services may hold the same address (MetalLB-compatible rules).
import type { ServiceRequest } from '../config/service-request.ts';

/** Undefined when `a` and `b` may share an address, else why not, for an Event. */
export function sharingConflict(a: ServiceRequest, b: ServiceRequest): string | undefined {
  if (!a.sharingKey || !b.sharingKey) return `${b.key} holds it and sharing needs allow-shared-ip on both Services`;
  if (a.sharingKey !== b.sharingKey)
    return `${b.key} holds it with sharing key "${b.sharingKey}", not "${a.sharingKey}"`;
  const clash = a.ports.filter((p) => b.ports.includes(p));
  if (clash.length > 0) return `${b.key} holds it and also uses ${clash.join(', ')}`;
  if (a.externalTrafficPolicy !== b.externalTrafficPolicy) {
    return `${b.key} holds it with externalTrafficPolicy ${b.externalTrafficPolicy}, not ${a.externalTrafficPolicy}`;
  }
  if (a.externalTrafficPolicy === 'Local' && a.selector !== b.selector) {
    return `${b.key} holds it with externalTrafficPolicy Local and a different selector`;
  }
  return undefined;
}

/** What decides with whom a Service may share an address, as one string: two requests with equal terms share alike. */
export function sharingTerms(request: ServiceRequest): string {
  return JSON.stringify([request.sharingKey, request.ports, request.externalTrafficPolicy, request.selector]);
}
