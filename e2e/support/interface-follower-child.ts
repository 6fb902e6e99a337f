// Runs the speaker's interface-table follower (rtnetlink) inside a network namespace for
// e2e/rtnetlink-interfaces.test.ts (Node cannot setns, so the test starts this under `ip netns exec`). Prints the
// table as one JSON line at start and after every update (addresses as text); ends on SIGTERM or closed stdin.
import { formatIp } from '../../src/core/ip/ip-address.ts';
import { InterfaceTableFollower, rtnetlinkSource } from '../../src/platform/interface-table-follower.ts';
import type { InterfaceTable } from '../../src/platform/network-interfaces.ts';

/** A table as JSON-friendly text: interfaces by index, addresses as "ip/len" sorted. */
export interface PrintedTable {
  interfaces: Array<{ name: string; index: number; mac: string; up: boolean; addresses: string[] }>;
  defaultRoute: Partial<Record<'4' | '6', string>>;
}

export function printable(table: InterfaceTable): PrintedTable {
  return {
    interfaces: [...table.interfaces]
      .sort((a, b) => a.index - b.index)
      .map((i) => ({ ...i, addresses: i.addresses.map((a) => `${formatIp(a.address)}/${a.prefixLength}`).sort() })),
    defaultRoute: { ...table.defaultRoute },
  };
}

if (import.meta.main) {
  const emit = (event: Record<string, unknown>): void => {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  };
  const opened = await InterfaceTableFollower.open(rtnetlinkSource(), {
    onUpdate: (table) => {
      emit({ event: 'table', table: printable(table) });
    },
    onError: (reason) => {
      emit({ event: 'error', reason });
    },
  });
  if (!opened.ok) {
    emit({ event: 'error', reason: opened.error });
    process.exit(1);
  }
  emit({ event: 'ready', table: printable(opened.value.table()) });
  const stop = (): void => {
    opened.value.close();
    process.exit(0);
  };
  process.on('SIGTERM', stop);
  process.stdin.on('end', stop).resume();
}
