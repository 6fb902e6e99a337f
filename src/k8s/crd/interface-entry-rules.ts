// The CEL rules of an interface entry (L2Advertisement.spec.interfaces[], BGPPeer.spec.interface): a plain name has
// at most 15 characters (IFNAMSIZ - 1); a pattern (it holds *, ?, [ or ]) follows the glob syntax of
// core/config/interface-pattern.ts and may be longer. The syntax is the same regular expression, in CEL's quoting.
import { INTERFACE_GLOB_CHARACTERS, INTERFACE_GLOB_SYNTAX } from '../../core/config/interface-pattern.ts';
import type { CelRule } from './schema-builders.ts';

const cel = (re: string): string => `'${re.replaceAll('\\', '\\\\')}'`;

export const interfaceEntryRules: CelRule[] = [
  {
    rule: `self.matches(${cel(INTERFACE_GLOB_CHARACTERS)}) || size(self) <= 15`,
    message: 'an interface name has at most 15 characters',
  },
  {
    rule: `!self.matches(${cel(INTERFACE_GLOB_CHARACTERS)}) || self.matches(${cel(INTERFACE_GLOB_SYNTAX)})`,
    message:
      'not an interface pattern: use * (any characters), ? (one character), [abc], [a-z] or [!a-z] (one character of, or outside, a set; sets are never empty)',
  },
];
