import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { interfaceMatches, interfacePatternProblem, isInterfacePattern } from './interface-pattern.ts';

describe('interface patterns', () => {
  const cases: Array<[string, string, boolean]> = [
    ['eth0', 'eth0', true],
    ['eth0', 'eth01', false],
    ['eth*', 'eth0', true],
    ['eth*', 'eth', true],
    ['eth*', 'veth0', false],
    ['enp*s0', 'enp3s0', true],
    ['enp*s0', 'enp3s0f1', false],
    ['eth?', 'eth1', true],
    ['eth?', 'eth10', false],
    ['bond[0-9]', 'bond3', true],
    ['bond[0-9]', 'bonda', false],
    ['eth[!0]', 'eth1', true],
    ['eth[!0]', 'eth0', false],
    ['br-[ab]', 'br-b', true],
    ['br.*', 'br0', false], // a dot is a dot
    ['br.*', 'br.10', true],
    ['vlan[-.]*', 'vlan.10', true],
    ['*', 'anything', true],
    ['[z-a]', 'm', false], // a reversed range matches nothing, as fnmatch
  ];
  for (const [pattern, name, expected] of cases) {
    it(`${pattern} ${expected ? 'matches' : 'does not match'} ${name}`, () => {
      assert.equal(interfaceMatches(pattern, name), expected);
    });
  }

  it('accepts every plain name and refuses malformed patterns with a reason', () => {
    assert.equal(interfacePatternProblem('enp3s0'), undefined);
    assert.equal(interfacePatternProblem('enp[0-9]s*'), undefined);
    assert.match(interfacePatternProblem('eth[') ?? '', /not an interface pattern/);
    assert.match(interfacePatternProblem('eth[]') ?? '', /sets cannot be empty/);
    assert.match(interfacePatternProblem('eth]') ?? '', /not an interface pattern/);
    assert.equal(isInterfacePattern('eth0'), false);
  });

  it('an entry always matches the interface named exactly like it, a malformed pattern included', () => {
    assert.equal(interfaceMatches('eth[', 'eth['), true);
    assert.equal(interfaceMatches('eth[', 'eth0'), false);
  });

  it('a plain name matches only itself (property)', () => {
    const nameChar = fc.constantFrom(...'abcdefghijklmnopqrstuvwxyz0123456789-_.@'.split(''));
    const name = fc.array(nameChar, { minLength: 1, maxLength: 15 }).map((c) => c.join(''));
    fc.assert(fc.property(name, name, (a, b) => interfaceMatches(a, b) === (a === b)));
  });

  it('a * pattern matches a name exactly when its fixed prefix and suffix do (property)', () => {
    const part = fc.array(fc.constantFrom(...'abcxyz019-.'.split('')), { maxLength: 5 }).map((c) => c.join(''));
    fc.assert(
      fc.property(
        part,
        part,
        part,
        (prefix, suffix, name) =>
          interfaceMatches(`${prefix}*${suffix}`, name) ===
          (name.length >= prefix.length + suffix.length && name.startsWith(prefix) && name.endsWith(suffix)),
      ),
    );
  });
});
