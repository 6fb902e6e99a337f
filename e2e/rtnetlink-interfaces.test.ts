// The speaker's interface table over rtnetlink against a real kernel (ADR 0022): two namespaces joined by a veth
// pair, the follower (src/platform/interface-table-follower.ts) running inside namespace B in a child process
// (e2e/support/interface-follower-child.ts), changes made with `ip` from outside. Its table must equal what
// `ip -j` reports (the reader the speaker used before, src/lab/ip-json-interfaces.ts), and an added address, a
// link going down and a new default route must reach it within a few seconds.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { ipBatch, mustExecIn } from '../src/lab/netns.ts';
import { readInterfaceTableWithIp } from '../src/lab/ip-json-interfaces.ts';
import { deleteNamespace, listNamespaces, registerRun, type Run } from '../src/lab/run-registry.ts';
import { printable, type PrintedTable } from './support/interface-follower-child.ts';

const CHILD_SCRIPT = join(import.meta.dirname, 'support', 'interface-follower-child.ts');
/** How long a change may take to reach the follower: generous for a shared machine (it takes milliseconds). */
const BOUND_MS = 5000;

interface ChildEvent {
  event: 'ready' | 'table' | 'error';
  table?: PrintedTable;
  reason?: string;
}

/** The follower inside a namespace, with its JSON-line events collected. */
class FollowerChild {
  readonly events: ChildEvent[] = [];
  readonly #process: ChildProcessWithoutNullStreams;
  #stderr = '';

  constructor(ns: string) {
    this.#process = spawn('ip', ['netns', 'exec', ns, process.execPath, CHILD_SCRIPT]);
    createInterface({ input: this.#process.stdout }).on('line', (line) => {
      this.events.push(JSON.parse(line) as ChildEvent);
    });
    this.#process.stderr.on('data', (chunk: Buffer) => (this.#stderr += chunk.toString()));
  }

  get pid(): number {
    return this.#process.pid ?? 0;
  }

  /** The latest table, once it satisfies `match`; fails after BOUND_MS naming the last one seen. */
  async waitForTable(what: string, match: (table: PrintedTable) => boolean): Promise<PrintedTable> {
    const deadline = performance.now() + BOUND_MS;
    for (;;) {
      const latest = this.events.findLast((e) => e.table !== undefined)?.table;
      if (latest && match(latest)) return latest;
      if (performance.now() > deadline || this.#process.exitCode !== null) {
        throw new Error(
          `follower: ${what} not seen within ${BOUND_MS} ms; last table ${JSON.stringify(latest)}; events ${this.events.length}; stderr ${this.#stderr}`,
        );
      }
      await sleep(20);
    }
  }

  kill(): void {
    if (this.#process.exitCode === null) this.#process.kill('SIGKILL');
  }
}

const eth0 = (table: PrintedTable): PrintedTable['interfaces'][number] | undefined =>
  table.interfaces.find((i) => i.name === 'eth0');

describe('interface table over rtnetlink in a network namespace', () => {
  let run: Run | undefined;
  let nsA = '';
  let nsB = '';
  let child: FollowerChild | undefined;

  before(async () => {
    run = registerRun();
    nsA = run.namespace('a');
    nsB = run.namespace('b');
    await mustExecIn(undefined, ['ip', 'netns', 'add', nsA]);
    await mustExecIn(undefined, ['ip', 'netns', 'add', nsB]);
    ipBatch(nsA, [
      'link set lo up',
      `link add eth0 type veth peer name eth0 netns ${nsB}`,
      'addr add 198.51.100.1/24 dev eth0',
      'addr add 2001:db8:7::1/64 dev eth0 nodad',
      'link set eth0 up',
    ]);
    ipBatch(nsB, [
      'link set lo up',
      // A second link, down: it must be listed, and not up.
      'link add eth1 type veth peer name eth2',
      'addr add 198.51.100.2/24 dev eth0',
      'addr add 2001:db8:7::2/64 dev eth0 nodad',
      'link set eth0 up',
      'route add default via 198.51.100.1 dev eth0',
      'route add default via 2001:db8:7::1 dev eth0',
    ]);
    child = new FollowerChild(nsB);
    run.recordProcess(child.pid);
  });

  after(() => {
    child?.kill();
    if (nsA) deleteNamespace(nsA);
    if (nsB) deleteNamespace(nsB);
    run?.close();
    const left = listNamespaces().filter((ns) => ns === nsA || ns === nsB);
    assert.deepEqual(left, [], 'namespaces left behind');
  });

  it('reads the same table as `ip -j` (links, MACs, up, addresses with link-local, default routes)', async () => {
    assert.ok(child);
    // IPv6 link-local addresses arrive when the links come up: wait until both readers agree on a settled table.
    const table = await child.waitForTable(
      'the fe80:: address of eth0',
      (t) => eth0(t)?.addresses.some((a) => a.startsWith('fe80:')) === true,
    );
    assert.deepEqual(table, printable(await readInterfaceTableWithIp(nsB)));
    assert.deepEqual(table.defaultRoute, { 4: 'eth0', 6: 'eth0' });
    assert.equal(table.interfaces.find((i) => i.name === 'eth1')?.up, false);
    assert.equal(eth0(table)?.up, true);
    assert.ok(eth0(table)?.addresses.includes('198.51.100.2/24'));
  });

  it('sees an address added on eth0', async () => {
    assert.ok(child);
    ipBatch(nsB, ['addr add 198.51.100.77/32 dev eth0', 'addr add 2001:db8:7::77/128 dev eth0 nodad']);
    const table = await child.waitForTable('198.51.100.77 and 2001:db8:7::77', (t) => {
      const addresses = eth0(t)?.addresses ?? [];
      return addresses.includes('198.51.100.77/32') && addresses.includes('2001:db8:7::77/128');
    });
    assert.deepEqual(table, printable(await readInterfaceTableWithIp(nsB)));
  });

  it('sees eth0 go down (and its default routes go), then up again with a new default route', async () => {
    assert.ok(child);
    ipBatch(nsB, ['link set eth0 down']);
    const down = await child.waitForTable(
      'eth0 down',
      (t) => eth0(t)?.up === false && t.defaultRoute['4'] === undefined,
    );
    assert.deepEqual(down, printable(await readInterfaceTableWithIp(nsB)));
    ipBatch(nsB, ['link set eth0 up']);
    await child.waitForTable('eth0 up', (t) => eth0(t)?.up === true);
    // The kernel dropped the IPv4 default route with the link; a default route added now is a route notification.
    ipBatch(nsB, ['route add default via 198.51.100.1 dev eth0']);
    const up = await child.waitForTable('the IPv4 default route via eth0', (t) => t.defaultRoute['4'] === 'eth0');
    assert.deepEqual(up, printable(await readInterfaceTableWithIp(nsB)));
  });
});
