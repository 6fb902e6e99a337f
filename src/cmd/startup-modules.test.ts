import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { join } from 'node:path';

// What `beaconlb` loads at start costs every speaker on every node its resident memory (docs/performance.md,
// "Speaker memory"): the modules main.ts imports must not pull in Node's fetch/WebSocket implementation (undici,
// 10-14 MB resident on Node 24), which an ES import of node:http does through that module's lazy WebSocket getters.
const commands = ['speaker-command.ts', 'controller-command.ts', 'status-command.ts', 'lab-command.ts'];

describe('modules loaded at start', () => {
  for (const file of commands) {
    it(`${file} loads no undici`, () => {
      const url = pathToFileURL(join(import.meta.dirname, file)).href;
      const script = [
        'const before = new Set(process.moduleLoadList);',
        `await import(${JSON.stringify(url)});`,
        'console.log(JSON.stringify(process.moduleLoadList.filter((m) => !before.has(m) && /undici/.test(m))));',
      ].join('\n');
      const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8' });
      assert.equal(res.status, 0, res.stderr);
      assert.deepEqual(JSON.parse(res.stdout.trim().split('\n').pop() ?? 'null'), []);
    });
  }
});
