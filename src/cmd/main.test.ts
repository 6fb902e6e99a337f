import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';

const cli = join(import.meta.dirname, '..', '..', 'bin', 'beaconlb');
const run = (...args: string[]): { code: number; out: string; err: string } => {
  const res = spawnSync(cli, args, { encoding: 'utf8' });
  return { code: res.status ?? -1, out: res.stdout, err: res.stderr };
};

describe('beaconlb CLI', () => {
  it('prints its version from package.json', () => {
    const pkg = JSON.parse(
      execFileSync('cat', [join(import.meta.dirname, '..', '..', 'package.json')], { encoding: 'utf8' }),
    ) as { version: string };
    assert.equal(run('--version').out.trim(), `beaconlb ${pkg.version}`);
  });

  it('lists every subcommand in --help', () => {
    const { code, out } = run('--help');
    assert.equal(code, 0);
    for (const name of ['controller', 'speaker', 'lab', 'status']) assert.match(out, new RegExp(`^  ${name} `, 'm'));
  });

  it('documents each subcommand flag with its default', () => {
    const { code, out } = run('speaker', '--help');
    assert.equal(code, 0);
    assert.match(out, /--failure-detection <value>\s+probes: .*\(default probes\)/);
    assert.match(
      out,
      /--lease-duration <value>\s+A Lease that has not changed for this long is expired \(default 40s with probes, 3s with lease\)\./,
    );
    assert.match(out, /--node-name <value>.*\(env NODE_NAME\)/);
  });

  it('refuses unknown commands and flags with exit code 2 and the usage', () => {
    const unknown = run('frobnicate');
    assert.equal(unknown.code, 2);
    assert.match(unknown.err, /unknown command "frobnicate"/);
    const badFlag = run('controller', '--no-such-flag');
    assert.equal(badFlag.code, 2);
    assert.match(badFlag.err, /Unknown option '--no-such-flag'/);
    assert.match(badFlag.err, /Usage: beaconlb controller/);
  });

  it('checks the lab action', () => {
    const res = run('lab', 'sideways');
    assert.equal(res.code, 2);
    assert.match(res.err, /expected one of up, down, failover, status/);
  });
});
