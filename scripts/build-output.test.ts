// What `npm run build` (tsc -p tsconfig.build.json) puts into dist/, the folder the image ships: the program, and no
// test code: no compiled *.test.ts, nothing from a testdata folder (captures, fuzz campaigns, arbitraries), no test
// doubles, nothing from src/test-support. tsconfig's exclude only drops files from the starting set, so a test file imported by shipped code would
// still be compiled: the test builds into a temporary folder and looks at what came out.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, globSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';

const root = join(import.meta.dirname, '..');

/** Paths (relative to dist/) that are test code by their name. */
export function testCodeIn(files: readonly string[]): string[] {
  return files.filter(
    (f) =>
      /\.test\.js$/.test(f) ||
      /(^|\/)(testdata|test-support)(\/|$)/.test(f) ||
      /(^|\/)test-doubles?\.js$/.test(f) ||
      /(^|\/)[^/]*-doubles?\.js$/.test(f),
  );
}

describe('npm run build output (dist/)', () => {
  let out = '';
  let files: string[] = [];
  before(() => {
    out = mkdtempSync(join(tmpdir(), 'beaconlb-dist-'));
    const tsc = spawnSync(
      join(root, 'node_modules/.bin/tsc'),
      ['-p', join(root, 'tsconfig.build.json'), '--outDir', out],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 300_000,
      },
    );
    assert.equal(tsc.status, 0, `${tsc.stdout}${tsc.stderr}${tsc.error?.message ?? ''}`);
    files = globSync('**/*', { cwd: out }).sort();
  });
  after(() => {
    rmSync(out, { recursive: true, force: true });
  });

  it('holds the entry point and the code it runs', () => {
    assert.ok(existsSync(join(out, 'cmd/main.js')), files.join('\n'));
    assert.ok(existsSync(join(out, 'speaker/layer2/packet-announcer.js')));
  });

  it('contains no *.test.js, nothing from testdata and no test doubles', () => {
    assert.deepEqual(testCodeIn(files), []);
  });

  it('the name check itself recognizes test code', () => {
    assert.deepEqual(
      testCodeIn([
        'a/b.test.js',
        'protocol/testdata/x.js',
        'speaker/layer2/test-doubles.js',
        'test-support/manual-clock.js',
        'cmd/main.js',
        'protocol/arp/arp-packet.js',
      ]),
      ['a/b.test.js', 'protocol/testdata/x.js', 'speaker/layer2/test-doubles.js', 'test-support/manual-clock.js'],
    );
  });
});
