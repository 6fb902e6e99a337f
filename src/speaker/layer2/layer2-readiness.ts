// Whether the layer-2 speaker can answer correctly (docs/layer2.md): its caches fresh and, for every address it is
// eligible for, an announcing link up with working packet sockets. The text it returns goes into the Lease.
import type { Layer2Address } from '../../core/config/layer2-plan.ts';
import type { InterfaceTable } from '../../platform/network-interfaces.ts';
import { chooseInterfaces } from './interface-choice.ts';

export interface ReadinessInputs {
  node: string;
  plan: ReadonlyMap<bigint, Layer2Address>;
  table: InterfaceTable;
  /** The interface of the default route per family as last seen (it leaves the table with its link). */
  lastDefaultRoute: InterfaceTable['defaultRoute'];
  /** Caches that are stale (no proof of completeness within the freshness bound). */
  staleViews: readonly string[];
  /** Interfaces whose packet sockets failed and could not be reopened. */
  brokenInterfaces: ReadonlySet<string>;
}

/**
 * Why this node cannot answer correctly now, or undefined. A stale cache (ADR 0013); or an address it is eligible
 * for whose every candidate interface (chosen as if every link were up, with the last default route seen) is down
 * or has broken packet sockets. Host addresses (/32, /128) are no subnet an address lies on: kube-proxy's IPVS mode
 * puts every Service address on kube-ipvs0, a link that is always down. An address with no candidate at all is a
 * configuration problem (a Warning Event when owned), not a dead link: it does not make the node give up its other
 * addresses.
 */
export function notReadyReason(inputs: ReadinessInputs): string | undefined {
  const { node, plan, table, staleViews: stale, brokenInterfaces: broken } = inputs;
  if (stale.length > 0)
    return `StaleView: no proof within the freshness bound that the ${stale.join(', ')} watch is live`;
  const usable = new Set(table.interfaces.filter((i) => i.up && !broken.has(i.name)).map((i) => i.name));
  const allUp: InterfaceTable = {
    interfaces: table.interfaces.map((i) => ({
      ...i,
      up: true,
      addresses: i.addresses.filter((a) => a.prefixLength < (a.family === 4 ? 32 : 128)),
    })),
    defaultRoute: inputs.lastDefaultRoute,
  };
  const dead = new Set<string>();
  for (const entry of plan.values()) {
    if (!entry.eligible.includes(node)) continue;
    const candidates = chooseInterfaces(entry.address, entry.interfaces, allUp);
    if (candidates.length === 0 || candidates.some((name) => usable.has(name))) continue;
    for (const name of candidates) dead.add(name);
  }
  if (dead.size === 0) return undefined;
  const names = [...dead].sort();
  const brokenOnly = names.every((name) => broken.has(name) && table.interfaces.some((i) => i.name === name && i.up));
  return `LinkDown: ${names.join(', ')} ${brokenOnly ? 'has broken packet sockets' : 'is down'}`;
}
