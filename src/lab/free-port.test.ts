import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ephemeralRangeStart, freePort } from './free-port.ts';

describe('freePort', () => {
  it('hands out distinct ports below the kernel ephemeral range that a server can listen on', async () => {
    const start = ephemeralRangeStart();
    const ports: number[] = [];
    for (let i = 0; i < 40; i++) ports.push(await freePort());
    assert.equal(new Set(ports).size, ports.length, 'a port handed out twice');
    assert.ok(
      ports.every((p) => p >= 20_000 && p < start),
      `outside [20000, ${start}): ${ports.join(' ')}`,
    );
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(ports[0], '127.0.0.1', () => {
        resolve();
      });
    });
    await new Promise((resolve) => server.close(resolve));
  });
});
