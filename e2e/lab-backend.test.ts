// The lab's stand-in for a Pod's web server (src/lab/http-backend.ts) answers every request, across the segment,
// over IPv4 and IPv6. Before it read the request first, about one connection in four got no answer at all
// ("Empty reply from server": socat failed writing the request to the script that had already exited, and ended
// before copying the answer), which made `lab up` print a failed curl now and then.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startHttpBackend } from '../src/lab/http-backend.ts';
import type { ManagedProcess } from '../src/lab/managed-process.ts';
import { execIn, mustExecIn } from '../src/lab/netns.ts';
import { registerRun, type Run } from '../src/lab/run-registry.ts';
import { createTestBed, type TestBed } from '../src/lab/test-bed.ts';

const PORT = 8080;
const REQUESTS = 40;

describe('the lab backend', () => {
  const dir = mkdtempSync(join(tmpdir(), 'beaconlb-backend-test-'));
  let run: Run | undefined;
  let bed: TestBed | undefined;
  let backend: ManagedProcess | undefined;

  before(async () => {
    run = registerRun();
    bed = await createTestBed({ run, nodes: 1 });
    const node = bed.nodes[0]!;
    backend = startHttpBackend({ name: 'backend', ns: node.ns, port: PORT, text: 'hello from node1', dir, run });
    for (let i = 0; i < 100; i++) {
      if ((await mustExecIn(node.ns, ['ss', '-Htln', `sport = :${PORT}`])).trim()) break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  });

  after(async () => {
    await backend?.stop(1000);
    bed?.destroy();
    run?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it(`answers ${REQUESTS} requests in a row from the client, over IPv4 and IPv6`, async () => {
    const node = bed!.nodes[0]!;
    const failures: string[] = [];
    for (let i = 0; i < REQUESTS; i++) {
      const url = i % 2 === 0 ? `http://${node.ipv4}:${PORT}/` : `http://[${node.ipv6}]:${PORT}/`;
      const res = await execIn(bed!.client.ns, ['curl', '-s', '-g', '--max-time', '3', '-i', url], 5000);
      if (res.code !== 0 || !res.stdout.includes('HTTP/1.0 200 OK') || !res.stdout.endsWith('\nhello from node1\n'))
        failures.push(`request ${i} to ${url}: curl exit ${res.code}: ${JSON.stringify(res.stdout)}`);
    }
    assert.deepEqual(failures, []);
  });
});
