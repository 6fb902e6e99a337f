// The follower over a scripted source: reads are answered by the test, change notifications sent by the test, so
// the orderings that matter (a change during a read, during the first read, many changes at once) are exact.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { err, ok, type Result } from '../core/result.ts';
import { InterfaceTableFollower, type InterfaceTableSource } from './interface-table-follower.ts';
import type { InterfaceTable } from './network-interfaces.ts';
import type { RtnetlinkChange } from './rtnetlink.ts';

const tableWith = (name: string, up = true): InterfaceTable => ({
  interfaces: [{ name, index: 2, mac: '02:00:5e:10:00:0a', up, addresses: [] }],
  defaultRoute: { 4: name },
});

/** A source whose reads stay pending until the test answers them, in order. */
class ScriptedSource implements InterfaceTableSource {
  readonly pending: Array<(result: Result<InterfaceTable>) => void> = [];
  reads = 0;
  closed = false;
  watching = false;
  #notify: ((change: RtnetlinkChange) => void) | undefined;

  read(): Promise<Result<InterfaceTable>> {
    this.reads++;
    return new Promise((resolve) => this.pending.push(resolve));
  }

  watch(onChange: (change: RtnetlinkChange) => void): Result<() => void> {
    this.#notify = onChange;
    this.watching = true;
    return ok(() => {
      this.watching = false;
    });
  }

  close(): void {
    this.closed = true;
  }

  change(what: RtnetlinkChange = 'link'): void {
    if (this.watching) this.#notify?.(what);
  }

  /** Answers the oldest pending read and lets the follower run. */
  async answer(result: Result<InterfaceTable>): Promise<void> {
    const resolve = this.pending.shift();
    assert.ok(resolve, 'no read is pending');
    resolve(result);
    await new Promise((r) => setImmediate(r));
  }
}

async function openFollower(source: ScriptedSource, first = tableWith('eth0')) {
  const updates: InterfaceTable[] = [];
  const errors: string[] = [];
  const opening = InterfaceTableFollower.open(source, {
    onUpdate: (t) => updates.push(t),
    onError: (e) => errors.push(e),
  });
  await source.answer(ok(first));
  const opened = await opening;
  assert.ok(opened.ok);
  return { follower: opened.value, updates, errors };
}

describe('InterfaceTableFollower', () => {
  it('reads at open and again after a change', async () => {
    const source = new ScriptedSource();
    const { follower, updates } = await openFollower(source);
    assert.equal(follower.table().interfaces[0]?.name, 'eth0');
    source.change();
    assert.equal(source.reads, 2);
    await source.answer(ok(tableWith('eth0', false)));
    assert.equal(follower.table().interfaces[0]?.up, false);
    assert.equal(updates.length, 1);
  });

  it('reads once more after a change that arrives during a read (that read may predate the change)', async () => {
    const source = new ScriptedSource();
    const { follower, updates } = await openFollower(source);
    source.change('address');
    source.change('link'); // eth0 goes down while the read for the address change is under way
    source.change('link');
    assert.equal(source.reads, 2, 'one read at a time');
    await source.answer(ok(tableWith('eth0', true)));
    assert.equal(source.reads, 3, 'the changes during the read are coalesced into one more read');
    await source.answer(ok(tableWith('eth0', false)));
    assert.equal(follower.table().interfaces[0]?.up, false);
    assert.equal(updates.length, 2);
    assert.equal(source.pending.length, 0);
  });

  it('reads again after open when a change arrived during the first read', async () => {
    const source = new ScriptedSource();
    const opening = InterfaceTableFollower.open(source, { onUpdate: () => {}, onError: () => {} });
    source.change('default-route');
    await source.answer(ok(tableWith('eth0')));
    const opened = await opening;
    assert.ok(opened.ok);
    assert.equal(source.reads, 2);
    await source.answer(ok(tableWith('eth1')));
    assert.deepEqual(opened.value.table().defaultRoute, { 4: 'eth1' });
  });

  it('keeps the last table when a read fails, reports it, and reads again on the next change', async () => {
    const source = new ScriptedSource();
    const { follower, errors } = await openFollower(source);
    source.change();
    await source.answer(err('rtnetlink dump: Timeout has been reached'));
    assert.deepEqual(errors, ['rtnetlink dump: Timeout has been reached']);
    assert.equal(follower.table().interfaces[0]?.name, 'eth0');
    source.change();
    await source.answer(ok(tableWith('eth1')));
    assert.equal(follower.table().interfaces[0]?.name, 'eth1');
  });

  it('keeps following when a consumer throws', async () => {
    const source = new ScriptedSource();
    const errors: string[] = [];
    const opening = InterfaceTableFollower.open(source, {
      onUpdate: () => {
        throw new Error('bug');
      },
      onError: (e) => errors.push(e),
    });
    await source.answer(ok(tableWith('eth0')));
    const opened = await opening;
    assert.ok(opened.ok);
    source.change();
    await source.answer(ok(tableWith('eth1')));
    source.change();
    assert.equal(source.reads, 3);
    assert.deepEqual(errors, ['applying the interface table: bug']);
  });

  it('fails to open when the first read fails, and closes what it opened', async () => {
    const source = new ScriptedSource();
    const opening = InterfaceTableFollower.open(source, { onUpdate: () => {}, onError: () => {} });
    await source.answer(err('rtnetlink dump: Request rejected: EPERM'));
    const opened = await opening;
    assert.deepEqual(opened, { ok: false, error: 'rtnetlink dump: Request rejected: EPERM' });
    assert.equal(source.watching, false);
    assert.equal(source.closed, true);
  });

  it('reads nothing more after close', async () => {
    const source = new ScriptedSource();
    const { follower } = await openFollower(source);
    follower.close();
    source.change();
    assert.equal(source.reads, 1);
    assert.equal(source.closed, true);
  });
});
