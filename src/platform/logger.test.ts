import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createLogger } from './logger.ts';

describe('logger', () => {
  it('writes JSON lines with the component and redacts secrets', () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk: Buffer, _enc, done) {
        lines.push(chunk.toString());
        done();
      },
    });
    const log = createLogger({ level: 'info', component: 'speaker', destination: sink });
    log.info({ peer: { address: '198.51.100.1', password: 'hunter2' }, token: 'abc' }, 'session up');
    log.debug('hidden');
    assert.equal(lines.length, 1);
    const entry = JSON.parse(lines[0]!) as Record<string, unknown>;
    assert.equal(entry['component'], 'speaker');
    assert.equal(entry['msg'], 'session up');
    assert.ok(!lines[0]!.includes('hunter2'));
    assert.ok(!lines[0]!.includes('"abc"'));
  });
});
