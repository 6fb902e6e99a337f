// Interface names in advertisements and peers: a name, or a shell-style glob matched against the names of each
// node's own interfaces, so one object serves nodes whose NICs are named differently (ADR 0026). The syntax is that
// of systemd.network's Name= and netplan's match: `*` any run of characters, `?` one character, `[abc]`, `[a-z]`
// one character of a set, `[!0-9]` one character outside it. An entry always matches an interface named exactly
// like it, so a name stored before patterns existed (even one holding `*` or `[`) keeps its meaning.

/** The glob syntax, for the CRD's CEL rules (RE2) and for checks here: sets are never empty and hold no `[`/`]`. */
export const INTERFACE_GLOB_SYNTAX = '^([^\\s/:%\\[\\]]|\\[!?[^\\s/:%\\[\\]!]+\\])+$';
/** Characters that make an entry a pattern. */
export const INTERFACE_GLOB_CHARACTERS = '[*?\\[\\]]';

const syntax = new RegExp(INTERFACE_GLOB_SYNTAX);
const globCharacters = new RegExp(INTERFACE_GLOB_CHARACTERS);
const compiled = new Map<string, RegExp | undefined>();
const MAX_CACHED = 1024;

/** Whether the entry is a pattern (holds `*`, `?`, `[` or `]`) rather than a plain interface name. */
export function isInterfacePattern(entry: string): boolean {
  return globCharacters.test(entry);
}

/** Why a pattern is not one (a plain name is always fine), or undefined. */
export function interfacePatternProblem(entry: string): string | undefined {
  if (!isInterfacePattern(entry) || syntax.test(entry)) return undefined;
  return `${JSON.stringify(entry)} is not an interface pattern (use *, ?, [abc], [a-z] or [!a-z]; sets cannot be empty)`;
}

function toRegExp(entry: string): RegExp | undefined {
  if (!syntax.test(entry)) return undefined;
  let source = '';
  for (let i = 0; i < entry.length; i++) {
    const c = entry.charAt(i);
    if (c === '*') source += '.*';
    else if (c === '?') source += '.';
    else if (c === '[') {
      const end = entry.indexOf(']', i);
      const body = entry.slice(i + 1, end);
      const negated = body.startsWith('!');
      // Inside a set only `\`, `^` and `]` are special to RegExp (`-` keeps its range meaning); `]` cannot occur.
      const members = (negated ? body.slice(1) : body).replace(/[\\^]/g, '\\$&');
      source += `[${negated ? '^' : ''}${members}]`;
      i = end;
    } else source += c.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
  }
  try {
    return new RegExp(`^${source}$`);
  } catch {
    return undefined; // a reversed range ([z-a]): matches nothing, as fnmatch
  }
}

/** Whether the interface `name` is selected by `entry`: equal to it, or matched by it as a pattern. */
export function interfaceMatches(entry: string, name: string): boolean {
  if (entry === name) return true;
  if (!isInterfacePattern(entry)) return false;
  let pattern = compiled.get(entry);
  if (pattern === undefined && !compiled.has(entry)) {
    if (compiled.size >= MAX_CACHED) compiled.clear();
    pattern = toRegExp(entry);
    compiled.set(entry, pattern);
  }
  return pattern?.test(name) ?? false;
}
