// The Service controller on fake ports, as the leader's writer: stopping (on losing leadership) aborts the status
// writes in flight at once, and a long run of reconciles never holds the event loop (the leader Lease's renewal
// needs it).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PerformanceObserver } from 'node:perf_hooks';
import { fakePorts, ipPool, newController, service, settled, until } from '../test-support/fake-controller-ports.ts';
import { formatIp } from '../core/ip/ip-address.ts';
import type { ServiceObject } from '../core/config/service-object.ts';

/** CPU milliseconds this thread has used: unlike wall time, a busy machine that deschedules us does not add to it. */
const threadCpuMs = (): number => {
  const { user, system } = process.threadCpuUsage();
  return (user + system) / 1000;
};

describe('ServiceController: stopping and the event loop', () => {
  it('stop(0) aborts the status writes in flight at once, and writes nothing after', async () => {
    const { ports, held, log, clock } = fakePorts(
      [
        service('a', '2026-01-01T00:00:01Z', 80, undefined, undefined),
        service('b', '2026-01-01T00:00:02Z', 81, undefined, undefined),
      ],
      {
        decide: () => 'hold',
      },
    );
    const controller = newController(ports, { concurrency: 1 });
    controller.start();
    await until('a write is in flight', () => held.length === 1);
    const stopping = controller.stop(0);
    // Synchronously, before stop() returns: a successor may take over once the Lease expires, and nothing this replica
    // sent may still be on its way by then.
    assert.equal(held[0]!.signal?.aborted, true, 'the write in flight was not aborted when the controller stopped');
    await stopping;
    await clock.settle(50);
    assert.deepEqual(
      log.filter((l) => l.startsWith('start')).length,
      1,
      `a write started after stop: ${log.join('; ')}`,
    );
  });

  it('20,000 queued reconciles that write nothing run a few per event-loop turn: the longest stall stays under 50 ms', async () => {
    const COUNT = 20_000;
    const CONCURRENCY = 64;
    const services: ServiceObject[] = [];
    for (let i = 0; i < COUNT; i++) {
      const address = formatIp(0xc6336400n - 0x4000n + BigInt(i)); // 198.51.36.0 + i: inside 198.51.0.0/17
      services.push(service(`s-${i}`, '2026-01-01T00:00:01Z', 80, undefined, address));
    }
    const { ports, reads } = fakePorts(services, { pools: [ipPool('big', ['198.51.0.0/17'])], maxReads: 10_000_000 });
    const controller = newController(ports, { concurrency: CONCURRENCY });
    const rebuildStart = threadCpuMs();
    controller.start();
    const rebuildMs = threadCpuMs() - rebuildStart;
    await settled(controller, 120_000);

    // Every Service again (a watch relist, a pool change): each pass finds the status right and writes nothing.
    const before = reads();
    for (const svc of services) controller.serviceChanged(`apps/${svc.metadata.name ?? ''}`);
    // From here on every turn of the event loop is timed, from one ping to the next; passes that run without
    // yielding (as microtasks after this test's synchronous code) count into the first turn.
    // A turn's stall is the CPU time this thread spent in it, less the garbage collector's pauses in it (the
    // collector stalls any program; on a busy machine wall time would mostly measure the other programs).
    const turns: Array<{ from: number; to: number; cpuMs: number; passes: number }> = [];
    const gcPauses: Array<{ at: number; ms: number }> = [];
    const gc = new PerformanceObserver((list) => {
      for (const entry of list.getEntries()) gcPauses.push({ at: entry.startTime, ms: entry.duration });
    });
    gc.observe({ entryTypes: ['gc'] });
    let lastCpu = threadCpuMs();
    let lastWall = performance.now();
    let lastReads = reads();
    let pinging = true;
    const ping = (): void => {
      const cpu = threadCpuMs();
      const wall = performance.now();
      turns.push({ from: lastWall, to: wall, cpuMs: cpu - lastCpu, passes: reads() - lastReads });
      [lastCpu, lastWall, lastReads] = [cpu, wall, reads()];
      if (pinging) setImmediate(ping);
    };
    setImmediate(ping);
    await settled(controller, 120_000);
    pinging = false;
    await controller.stop(100);
    await new Promise((resolve) => setTimeout(resolve, 10));
    gc.disconnect();
    const passes = reads() - before;
    const stallMs = (t: (typeof turns)[number]): number =>
      Math.max(0, t.cpuMs - gcPauses.filter((p) => p.at >= t.from && p.at < t.to).reduce((sum, p) => sum + p.ms, 0));
    const longest = Math.max(...turns.map(stallMs));
    const mostPasses = Math.max(...turns.map((t) => t.passes));
    const round = (x: number): number => Math.round(x * 10) / 10;
    console.log(
      JSON.stringify({
        reconciles: passes,
        turns: turns.length,
        most_per_turn: mostPasses,
        longest_turn_ms: round(longest),
        longest_turn_cpu_with_gc_ms: round(Math.max(...turns.map((t) => t.cpuMs))),
        longest_turn_wall_ms: round(Math.max(...turns.map((t) => t.to - t.from))),
        gc_pauses: gcPauses.length,
        rebuild_cpu_ms: Math.round(rebuildMs),
      }),
    );
    assert.equal(passes, COUNT);
    assert.ok(mostPasses <= CONCURRENCY, `${mostPasses} reconciles in one turn of the event loop`);
    assert.ok(
      longest < 50,
      `one turn of the event loop took ${Math.round(longest)} ms of CPU besides garbage collection`,
    );
  });
});
