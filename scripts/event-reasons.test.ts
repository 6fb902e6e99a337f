// Every Event reason the code records has a row in docs/troubleshooting.md (section "Every Event reason") that
// gives the type it is recorded as, and every row there is still recorded by the code: the doc cannot drift.
//
// Each component declares its reasons as a closed union of literals (ServiceEventReason, PoolEventReason,
// Layer2EventReason, AuditEventReason, BgpEventReason, ...) and every record function takes their union,
// EventReason (src/k8s/event-recorder.ts): the compiler refuses a reason no component declares, and this test checks
// that the union and the doc's rows are the same set. The tracer below adds what types cannot say: which reasons are
// really recorded, and as which type (Normal, Warning).
//
// The reasons are found with the TypeScript type checker, not by grepping: every call of a record function
// (record, recordEvent, recordPoolEvent, recordServiceEvent, recordObjectEvent, or any function with a `reason`
// parameter and a 'Normal' | 'Warning' parameter) in src/ is found, and its `reason` and `type` arguments are
// traced back to string literals: through literal types ('NoMatchingPool' | 'PoolExhausted' | ...), constants,
// conditionals, object and array literals, destructuring, for-of and array callbacks, return values and the call
// sites of the enclosing function (a reason passed in as a parameter, followed to its callers before its declared
// type, which may be a whole union). A record function that only hands its own `reason` on (the adapters) is a
// forwarder; its callers are the record calls that count. A reason the tracer cannot
// follow to literals (one built with a template, read from the network) fails the test with its place in the code:
// make it a literal (or a union of literals) or teach the tracer.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { globSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import ts from 'typescript';

const root = join(import.meta.dirname, '..');
const DOC = 'docs/troubleshooting.md';
const SECTION = 'Every Event reason';

/** Function names that record an Event; any function shaped like one (reason + 'Normal' | 'Warning') counts too. */
const RECORD_FUNCTIONS = new Set([
  'record',
  'recordEvent',
  'recordPoolEvent',
  'recordServiceEvent',
  'recordObjectEvent',
]);
const EVENT_TYPES = ['Normal', 'Warning'] as const;
type EventType = (typeof EVENT_TYPES)[number];

interface RecordedReason {
  reason: string;
  types: Set<EventType>;
  /** file:line of each record call that passes it. */
  sites: Set<string>;
}

type Step = { kind: 'property'; name: string } | { kind: 'element' };

class Untraceable extends Error {}

const ARRAY_CALLBACK_METHODS = new Set([
  'forEach',
  'map',
  'flatMap',
  'filter',
  'some',
  'every',
  'find',
  'findLast',
  'findIndex',
  'findLastIndex',
]);
const SAME_ELEMENTS_METHODS = new Set(['filter', 'slice', 'toSorted', 'sort', 'toReversed', 'reverse', 'concat']);

type FunctionLike = ts.SignatureDeclaration;

/** Finds the record calls of a program and traces their reason and type arguments to string literals. */
class ReasonTracer {
  readonly #checker: ts.TypeChecker;
  readonly #files: readonly ts.SourceFile[];
  readonly #root: string;
  #callsByName: Map<string, ts.CallExpression[]> | undefined;
  readonly #ids = new WeakMap<ts.Node, number>();
  #nextId = 0;

  constructor(program: ts.Program, files: readonly ts.SourceFile[], rootDir: string) {
    this.#checker = program.getTypeChecker();
    this.#files = files;
    this.#root = rootDir;
  }

  /** Every reason recorded, with its types and call sites; throws Untraceable naming the place it cannot follow. */
  reasons(): Map<string, RecordedReason> {
    // Only calls by the name of a record function need the checker: the names of RECORD_FUNCTIONS and of every
    // function declared with the shape of one.
    const names = new Set(RECORD_FUNCTIONS);
    for (const file of this.#files) {
      const visit = (node: ts.Node): void => {
        if (ts.isFunctionLike(node) && this.#isRecorder(node)) {
          const name = this.#name(node);
          if (name !== undefined) names.add(name);
        }
        ts.forEachChild(node, visit);
      };
      visit(file);
    }
    const found = new Map<string, RecordedReason>();
    for (const name of names) for (const call of this.#callsNamed(name)) this.#recordCall(call, found);
    return found;
  }

  /** Calls whose callee is `name` or `<anything>.name` (private names included). */
  #callsNamed(name: string): ts.CallExpression[] {
    if (!this.#callsByName) {
      const index = new Map<string, ts.CallExpression[]>();
      for (const file of this.#files) {
        const visit = (node: ts.Node): void => {
          if (ts.isCallExpression(node)) {
            const callee = ts.isPropertyAccessExpression(node.expression) ? node.expression.name : node.expression;
            // A private field holding a record function (`this.#recordEvent(...)`) is found by its public name too.
            const names = ts.isIdentifier(callee)
              ? [callee.text]
              : ts.isPrivateIdentifier(callee)
                ? [callee.text, callee.text.slice(1)]
                : [];
            for (const key of names) index.set(key, [...(index.get(key) ?? []), node]);
          }
          ts.forEachChild(node, visit);
        };
        visit(file);
      }
      this.#callsByName = index;
    }
    return this.#callsByName.get(name) ?? [];
  }

  /** A node's identity for the cycle guard (a node and its first child share a position). */
  #id(node: ts.Node): number {
    let id = this.#ids.get(node);
    if (id === undefined) this.#ids.set(node, (id = this.#nextId++));
    return id;
  }

  #where(node: ts.Node): string {
    const file = node.getSourceFile();
    const { line } = file.getLineAndCharacterOfPosition(node.getStart());
    return `${relative(this.#root, file.fileName)}:${line + 1}`;
  }

  #recordCall(call: ts.CallExpression, found: Map<string, RecordedReason>): void {
    const declaration = this.#checker.getResolvedSignature(call)?.getDeclaration();
    if (!declaration || !this.#isRecorder(declaration)) return;
    const reasonIndex = declaration.parameters.findIndex((p) => ts.isIdentifier(p.name) && p.name.text === 'reason');
    const typeIndex = declaration.parameters.findIndex((p) => this.#isEventTypeParameter(p));
    const reasonArg = call.arguments[reasonIndex];
    if (!reasonArg) return;
    const site = this.#where(call);
    let reasons: Set<string>;
    let types: Set<string>;
    try {
      reasons = this.#values(reasonArg, [], new Set());
      const typeArg = call.arguments[typeIndex];
      types = typeArg ? this.#values(typeArg, [], new Set()) : new Set();
    } catch (error) {
      if (error instanceof Untraceable) throw new Untraceable(`the reason recorded at ${site}: ${error.message}`);
      throw error;
    }
    for (const reason of reasons) {
      const entry = found.get(reason) ?? { reason, types: new Set<EventType>(), sites: new Set<string>() };
      for (const t of types) if ((EVENT_TYPES as readonly string[]).includes(t)) entry.types.add(t as EventType);
      entry.sites.add(site);
      found.set(reason, entry);
    }
  }

  #name(declaration: ts.Node): string | undefined {
    const named = (declaration as { name?: ts.Node }).name;
    if (named && (ts.isIdentifier(named) || ts.isPrivateIdentifier(named) || ts.isStringLiteral(named)))
      return named.text;
    const parent = declaration.parent as ts.Node | undefined;
    if (
      parent &&
      (ts.isPropertyAssignment(parent) ||
        ts.isPropertySignature(parent) ||
        ts.isVariableDeclaration(parent) ||
        ts.isPropertyDeclaration(parent))
    ) {
      return this.#name(parent);
    }
    return undefined;
  }

  #isEventTypeParameter(parameter: ts.ParameterDeclaration): boolean {
    const type = this.#checker.getTypeAtLocation(parameter);
    const parts = type.isUnion() ? type.types : [type];
    return parts.some((t) => t.isStringLiteral() && t.value === 'Warning');
  }

  /** A function that records an Event: it has a `reason` parameter, and a record function's name or a type parameter. */
  #isRecorder(declaration: FunctionLike): boolean {
    const parameters = declaration.parameters as ts.NodeArray<ts.ParameterDeclaration> | undefined;
    if (!parameters?.some((p) => ts.isIdentifier(p.name) && p.name.text === 'reason')) return false;
    const name = this.#name(declaration);
    return (name !== undefined && RECORD_FUNCTIONS.has(name)) || parameters.some((p) => this.#isEventTypeParameter(p));
  }

  /** The string literals a type holds at `path`; undefined when any part of it is not a string literal. */
  #typeLiterals(type: ts.Type, path: readonly Step[]): Set<string> | undefined {
    const parts = type.isUnion() ? type.types : [type];
    const out = new Set<string>();
    for (const part of parts) {
      if (part.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Never)) continue;
      const [step, ...rest] = path;
      if (!step) {
        if (!part.isStringLiteral()) return undefined;
        out.add(part.value);
        continue;
      }
      let next: ts.Type | undefined;
      if (step.kind === 'property') {
        const property = this.#checker.getPropertyOfType(this.#checker.getApparentType(part), step.name);
        next = property ? this.#checker.getNonNullableType(this.#checker.getTypeOfSymbol(property)) : undefined;
      } else {
        next = this.#checker.getIndexTypeOfType(part, ts.IndexKind.Number);
      }
      if (!next) return undefined;
      const inner = this.#typeLiterals(next, rest);
      if (!inner) return undefined;
      for (const v of inner) out.add(v);
    }
    return out;
  }

  /** The string literals `expression` can hold at `path` (a property or element inside it). */
  #values(expression: ts.Expression, path: readonly Step[], seen: Set<string>): Set<string> {
    const key = `${this.#id(expression)}:${JSON.stringify(path)}`;
    if (seen.has(key)) return new Set();
    seen.add(key);
    // A record function's own reason handed on (a forwarder): its callers are the record calls that count. Checked
    // before the type, which for a parameter typed with the reason union would name every member.
    if (path.length === 0 && this.#isForwardedParameter(expression)) return new Set();
    // A parameter (or a name destructured from one) holds what its callers pass, often fewer reasons than its type
    // (a component's whole reason union) names: the callers first, the type when they cannot be followed.
    const parameter = this.#parameterDeclaration(expression);
    if (parameter) {
      try {
        return this.#declared(parameter, path, seen);
      } catch (error) {
        if (!(error instanceof Untraceable)) throw error;
      }
    }
    const typed = this.#typeLiterals(this.#checker.getTypeAtLocation(expression), path);
    if (typed) return typed;
    const [step, ...rest] = path;
    const union = (...sets: Array<Set<string>>): Set<string> => new Set(sets.flatMap((s) => [...s]));

    if (ts.isStringLiteral(expression) || ts.isNoSubstitutionTemplateLiteral(expression)) {
      if (path.length === 0) return new Set([expression.text]);
    } else if (
      ts.isParenthesizedExpression(expression) ||
      ts.isAsExpression(expression) ||
      ts.isNonNullExpression(expression) ||
      ts.isSatisfiesExpression(expression) ||
      ts.isTypeAssertionExpression(expression)
    ) {
      return this.#values(expression.expression, path, seen);
    } else if (ts.isConditionalExpression(expression)) {
      return union(this.#values(expression.whenTrue, path, seen), this.#values(expression.whenFalse, path, seen));
    } else if (ts.isBinaryExpression(expression)) {
      const op = expression.operatorToken.kind;
      if (op === ts.SyntaxKind.QuestionQuestionToken || op === ts.SyntaxKind.BarBarToken) {
        return union(this.#values(expression.left, path, seen), this.#values(expression.right, path, seen));
      }
      if (op === ts.SyntaxKind.AmpersandAmpersandToken || op === ts.SyntaxKind.CommaToken)
        return this.#values(expression.right, path, seen);
    } else if (ts.isArrayLiteralExpression(expression)) {
      if (step?.kind === 'element') {
        return union(
          ...expression.elements.map((e) =>
            ts.isSpreadElement(e) ? this.#values(e.expression, path, seen) : this.#values(e, rest, seen),
          ),
        );
      }
    } else if (ts.isObjectLiteralExpression(expression)) {
      if (step?.kind === 'property') return this.#objectProperty(expression, step.name, path, rest, seen);
    } else if (ts.isPropertyAccessExpression(expression)) {
      try {
        return this.#values(expression.expression, [{ kind: 'property', name: expression.name.text }, ...path], seen);
      } catch (error) {
        // A constant field (`static readonly REASON = '...'`, `this.#reason`): its initializer.
        const initializer = this.#initializerOf(this.#checker.getSymbolAtLocation(expression.name));
        if (error instanceof Untraceable && initializer) return this.#values(initializer, path, seen);
        throw error;
      }
    } else if (ts.isElementAccessExpression(expression)) {
      const index = expression.argumentExpression;
      const access: Step = ts.isStringLiteral(index) ? { kind: 'property', name: index.text } : { kind: 'element' };
      return this.#values(expression.expression, [access, ...path], seen);
    } else if (ts.isCallExpression(expression)) {
      return this.#returned(expression, path, seen);
    } else if (ts.isIdentifier(expression)) {
      let symbol = this.#checker.getSymbolAtLocation(expression);
      if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = this.#checker.getAliasedSymbol(symbol);
      const declaration = symbol?.valueDeclaration ?? symbol?.declarations?.[0];
      if (declaration) return this.#declared(declaration, path, seen);
    }
    throw new Untraceable(
      `cannot follow ${JSON.stringify(expression.getText().slice(0, 80))} at ${this.#where(expression)} to string literals`,
    );
  }

  /** The declaration of the parameter (or of the name bound from a parameter) that `expression` names, if it names one. */
  #parameterDeclaration(expression: ts.Expression): ts.ParameterDeclaration | ts.BindingElement | undefined {
    if (!ts.isIdentifier(expression)) return undefined;
    const declaration = this.#checker.getSymbolAtLocation(expression)?.valueDeclaration;
    if (!declaration) return undefined;
    if (ts.isParameter(declaration)) return declaration;
    let node: ts.Node = declaration;
    while (ts.isBindingElement(node)) node = node.parent.parent;
    return ts.isParameter(node) && ts.isBindingElement(declaration) ? declaration : undefined;
  }

  /** Whether `expression` names a parameter of a record function (that function hands it on). */
  #isForwardedParameter(expression: ts.Expression): boolean {
    if (!ts.isIdentifier(expression)) return false;
    const declaration = this.#checker.getSymbolAtLocation(expression)?.valueDeclaration;
    return declaration !== undefined && ts.isParameter(declaration) && this.#isRecorder(declaration.parent);
  }

  #initializerOf(symbol: ts.Symbol | undefined): ts.Expression | undefined {
    const declaration = symbol?.valueDeclaration;
    if (
      declaration &&
      (ts.isPropertyDeclaration(declaration) ||
        ts.isPropertyAssignment(declaration) ||
        ts.isVariableDeclaration(declaration))
    ) {
      return declaration.initializer;
    }
    return undefined;
  }

  #objectProperty(
    object: ts.ObjectLiteralExpression,
    name: string,
    path: readonly Step[],
    rest: readonly Step[],
    seen: Set<string>,
  ): Set<string> {
    const out = new Set<string>();
    for (const property of [...object.properties].reverse()) {
      if (ts.isPropertyAssignment(property) && this.#name(property) === name) {
        for (const v of this.#values(property.initializer, rest, seen)) out.add(v);
        return out;
      }
      if (ts.isShorthandPropertyAssignment(property) && property.name.text === name) {
        const value = this.#checker.getShorthandAssignmentValueSymbol(property);
        const declaration = value?.valueDeclaration ?? value?.declarations?.[0];
        if (!declaration) throw new Untraceable(`cannot resolve ${name} at ${this.#where(property)}`);
        for (const v of this.#declared(declaration, rest, seen)) out.add(v);
        return out;
      }
      if (ts.isSpreadAssignment(property)) {
        const type = this.#checker.getTypeAtLocation(property.expression);
        const parts = type.isUnion() ? type.types : [type];
        if (parts.some((t) => this.#checker.getPropertyOfType(t, name))) {
          for (const v of this.#values(property.expression, path, seen)) out.add(v);
        }
      }
    }
    return out; // absent: holds no reason
  }

  /** What a call returns, at `path`. */
  #returned(call: ts.CallExpression, path: readonly Step[], seen: Set<string>): Set<string> {
    const callee = call.expression;
    if (ts.isPropertyAccessExpression(callee)) {
      const method = callee.name.text;
      if (SAME_ELEMENTS_METHODS.has(method) && path[0]?.kind === 'element') {
        const extra = method === 'concat' ? call.arguments.map((a) => this.#values(a, path, seen)) : [];
        return new Set([...this.#values(callee.expression, path, seen), ...extra.flatMap((s) => [...s])]);
      }
      const callback = call.arguments[0];
      if (
        (method === 'map' || method === 'flatMap') &&
        path[0]?.kind === 'element' &&
        callback &&
        ts.isFunctionLike(callback)
      ) {
        return this.#functionReturns(callback, method === 'map' ? path.slice(1) : path, seen);
      }
    }
    const declaration = this.#checker.getResolvedSignature(call)?.getDeclaration();
    if (!declaration) throw new Untraceable(`cannot resolve the call at ${this.#where(call)}`);
    return this.#functionReturns(declaration, path, seen);
  }

  #functionReturns(fn: FunctionLike, path: readonly Step[], seen: Set<string>): Set<string> {
    const body = (fn as { body?: ts.Node }).body;
    if (!body)
      throw new Untraceable(
        `${this.#name(fn) ?? 'a function'} (${this.#where(fn)}) has no body to read its result from`,
      );
    if (!ts.isBlock(body)) return this.#values(body as ts.Expression, path, seen);
    const out = new Set<string>();
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node)) return; // returns of nested functions are theirs
      if (ts.isReturnStatement(node) && node.expression)
        for (const v of this.#values(node.expression, path, seen)) out.add(v);
      ts.forEachChild(node, visit);
    };
    ts.forEachChild(body, visit);
    return out;
  }

  /** The values of a declared name (variable, parameter, destructured binding), at `path`. */
  #declared(declaration: ts.Node, path: readonly Step[], seen: Set<string>): Set<string> {
    if (ts.isBindingElement(declaration)) {
      const pattern = declaration.parent;
      let step: Step;
      if (ts.isObjectBindingPattern(pattern)) {
        const key = declaration.propertyName ?? declaration.name;
        if (!ts.isIdentifier(key) && !ts.isStringLiteral(key))
          throw new Untraceable(`computed binding at ${this.#where(declaration)}`);
        step = { kind: 'property', name: key.text };
      } else step = { kind: 'element' };
      return this.#declared(pattern.parent, [step, ...path], seen);
    }
    if (ts.isVariableDeclaration(declaration)) {
      const statement = declaration.parent.parent;
      if (ts.isForOfStatement(statement))
        return this.#values(statement.expression, [{ kind: 'element' }, ...path], seen);
      if (declaration.initializer) return this.#values(declaration.initializer, path, seen);
    } else if (ts.isParameter(declaration)) {
      return this.#parameter(declaration, path, seen);
    } else if (ts.isPropertyDeclaration(declaration) && declaration.initializer) {
      return this.#values(declaration.initializer, path, seen);
    }
    throw new Untraceable(`cannot follow the declaration at ${this.#where(declaration)}`);
  }

  /** A parameter: what the callers of its function pass (a record function's own reason or type: forwarded). */
  #parameter(parameter: ts.ParameterDeclaration, path: readonly Step[], seen: Set<string>): Set<string> {
    const fn = parameter.parent;
    const index = fn.parameters.indexOf(parameter);
    if (this.#isRecorder(fn) && path.length === 0) return new Set(); // forwarded: its callers are record calls
    const sites = this.#sitesOf(fn);
    if (sites.length > 0) {
      const out = new Set<string>();
      for (const call of sites) {
        const argument = call.arguments[index];
        const values = argument
          ? this.#values(argument, path, seen)
          : parameter.initializer
            ? this.#values(parameter.initializer, path, seen)
            : new Set<string>();
        for (const v of values) out.add(v);
      }
      return out;
    }
    // A callback of an array method: its first parameter is an element of the array.
    const call = fn.parent;
    if (
      index === 0 &&
      ts.isCallExpression(call) &&
      ts.isPropertyAccessExpression(call.expression) &&
      ARRAY_CALLBACK_METHODS.has(call.expression.name.text)
    ) {
      return this.#values(call.expression.expression, [{ kind: 'element' }, ...path], seen);
    }
    throw new Untraceable(
      `no caller of ${this.#name(fn) ?? 'the function'} (${this.#where(fn)}) found to tell what its parameter holds`,
    );
  }

  /** The calls of `fn`, found by its name and confirmed by the checker. */
  #sitesOf(fn: FunctionLike): ts.CallExpression[] {
    const name = this.#name(fn);
    if (name === undefined) return [];
    return this.#callsNamed(name).filter((call) => this.#checker.getResolvedSignature(call)?.getDeclaration() === fn);
  }
}

/** Where the union of every component's Event reasons is declared. */
const UNION_FILE = 'src/k8s/event-recorder.ts';
const UNION_NAME = 'EventReason';

/** The string literals of the type alias `name` declared in `file`. */
function unionMembers(program: ts.Program, file: string, name: string): Set<string> {
  const source = program.getSourceFile(join(root, file));
  assert.ok(source, `${file} is not in the program`);
  const alias = source.statements.find(
    (s): s is ts.TypeAliasDeclaration => ts.isTypeAliasDeclaration(s) && s.name.text === name,
  );
  assert.ok(alias, `${file} declares no type ${name}`);
  const type = program.getTypeChecker().getTypeAtLocation(alias.name);
  const members = new Set<string>();
  for (const part of type.isUnion() ? type.types : [type]) {
    assert.ok(part.isStringLiteral(), `${name} in ${file} holds a member that is not a string literal`);
    members.add(part.value);
  }
  return members;
}

/** The reasons recorded by src/ (test files left out), compiled with the repository's compiler options. */
function traceRepository(): { recorded: Map<string, RecordedReason>; union: Set<string> } {
  const files = globSync('src/**/*.ts', { cwd: root })
    .filter((f) => !f.endsWith('.test.ts'))
    .map((f) => join(root, f));
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (p) => ts.sys.readFile(p));
  const options = ts.parseJsonConfigFileContent(config.config, ts.sys, root).options;
  const program = ts.createProgram(files, { ...options, noEmit: true });
  const wanted = new Set(files);
  return {
    recorded: new ReasonTracer(
      program,
      program.getSourceFiles().filter((f) => wanted.has(f.fileName)),
      root,
    ).reasons(),
    union: unionMembers(program, UNION_FILE, UNION_NAME),
  };
}

/** The rows of the doc's section: reason -> the type cell. */
function documentedReasons(markdown: string): Map<string, string> {
  const lines = markdown.split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '').trim() === SECTION);
  assert.ok(start >= 0, `${DOC} has no section "${SECTION}"`);
  const level = /^#+/.exec(lines[start] ?? '')?.[0].length ?? 2;
  const rows = new Map<string, string>();
  for (const line of lines.slice(start + 1)) {
    const heading = /^(#+) /.exec(line);
    if (heading && (heading[1]?.length ?? 0) <= level) break;
    const cells = line.split('|').map((c) => c.trim());
    const reason = /^`([A-Za-z][A-Za-z0-9]*)`$/.exec(cells[1] ?? '')?.[1];
    if (line.startsWith('|') && reason) rows.set(reason, cells[2] ?? '');
  }
  return rows;
}

const describeSites = (r: RecordedReason): string =>
  `${r.reason} (${[...r.types].sort().join(' or ') || 'type unknown'}; ${[...r.sites].sort().join(', ')})`;

describe('Event reasons', () => {
  const { recorded, union } = traceRepository();
  const documented = (): Map<string, string> => documentedReasons(readFileSync(join(root, DOC), 'utf8'));

  it(`every reason the code records has a row in ${DOC} ("${SECTION}")`, () => {
    const rows = documented();
    const missing = [...recorded.values()].filter((r) => !rows.has(r.reason));
    assert.deepEqual(
      missing.map(describeSites),
      [],
      `${DOC}, section "${SECTION}", has no row for ${missing.length} reason(s) the code records; add a row for each:\n  ${missing.map(describeSites).join('\n  ')}`,
    );
  });

  it('every row names a reason the code still records, with the types it is recorded as', () => {
    const rows = documented();
    const stale = [...rows.keys()].filter((reason) => !recorded.has(reason));
    assert.deepEqual(
      stale,
      [],
      `${DOC}, section "${SECTION}", lists reasons the code never records: ${stale.join(', ')}`,
    );
    const wrongType: string[] = [];
    for (const [reason, cell] of rows) {
      const code = recorded.get(reason);
      if (!code) continue;
      const inDoc = EVENT_TYPES.filter((t) => cell.includes(t));
      const inCode = EVENT_TYPES.filter((t) => code.types.has(t));
      if (inDoc.join() !== inCode.join())
        wrongType.push(
          `${reason}: the doc says ${inDoc.join(' or ') || 'nothing'}, the code records ${inCode.join(' or ')}`,
        );
    }
    assert.deepEqual(wrongType, [], `${DOC}, section "${SECTION}": wrong type column:\n  ${wrongType.join('\n  ')}`);
  });

  it(`the reason union ${UNION_NAME} (${UNION_FILE}) holds exactly the reasons of the doc's rows`, () => {
    const rows = documented();
    assert.deepEqual(
      [...union].filter((r) => !rows.has(r)).sort(),
      [],
      `members of ${UNION_NAME} with no row in ${DOC}`,
    );
    assert.deepEqual(
      [...rows.keys()].filter((r) => !union.has(r)).sort(),
      [],
      `rows of ${DOC} that ${UNION_NAME} does not hold`,
    );
  });

  it(`every reason recorded is a member of ${UNION_NAME}, and every member is recorded`, () => {
    assert.deepEqual([...recorded.keys()].filter((r) => !union.has(r)).sort(), []);
    assert.deepEqual(
      [...union].filter((r) => !recorded.has(r)).sort(),
      [],
      `members of ${UNION_NAME} no code records: drop them`,
    );
  });
});

describe('the reason tracer', () => {
  function traceFixture(source: string): Map<string, RecordedReason> {
    const dir = mkdtempSync(join(tmpdir(), 'beaconlb-reasons-'));
    try {
      const file = join(dir, 'fixture.ts');
      writeFileSync(file, source);
      const program = ts.createProgram([file], {
        strict: true,
        noEmit: true,
        target: ts.ScriptTarget.ES2022,
        lib: ['lib.es2023.d.ts'],
        types: [],
      });
      const files = program.getSourceFiles().filter((f) => f.fileName === file);
      return new ReasonTracer(program, files, dir).reasons();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const summary = (found: Map<string, RecordedReason>): Record<string, string> =>
    Object.fromEntries(
      [...found.values()]
        .sort((a, b) => a.reason.localeCompare(b.reason))
        .map((r) => [r.reason, [...r.types].sort().join(' or ')]),
    );

  it('follows literals, literal types, constants, conditionals, destructuring, callbacks, returns and callers', () => {
    const found = traceFixture(`
      interface Ports { recordEvent(target: string, type: 'Normal' | 'Warning', reason: string, message: string): void }
      type Why = 'Alpha' | 'Beta';
      const GAMMA = 'Gamma';
      const REASONS = { zeta: 'Zeta' } as const;
      interface Problem { reason: string; message: string }
      function problems(): Problem[] { return [{ reason: 'Eta', message: '' }, { reason: 'Theta', message: '' }]; }
      export function run(p: Ports, failures: Array<{ reason: Why; message: string }>, flag: boolean): void {
        p.recordEvent('x', 'Normal', 'Literal', 'm');
        p.recordEvent('x', flag ? 'Normal' : 'Warning', flag ? 'Cond1' : 'Cond2', 'm');
        p.recordEvent('x', 'Warning', GAMMA, 'm');
        p.recordEvent('x', 'Warning', REASONS.zeta, 'm');
        for (const f of failures) p.recordEvent('x', 'Warning', f.reason, f.message);
        warn(p, [{ reason: 'Delta', message: '' }]);
        once(p, 'Epsilon');
        for (const c of problems().filter(Boolean)) p.recordEvent('x', 'Warning', c.reason, c.message);
      }
      function warn(p: Ports, list: ReadonlyArray<{ reason: string; message: string }>): void {
        list.forEach(({ reason, message }) => { p.recordEvent('x', 'Warning', reason, message); });
      }
      function once(p: Ports, reason: string): void { p.recordEvent('x', 'Warning', reason, 'm'); }
      export function forwarder(p: Ports): Ports {
        return { recordEvent(target, type, reason, message) { p.recordEvent(target, type, reason, message); } };
      }
      export class Holder {
        readonly #recordEvent: Ports['recordEvent'];
        constructor(p: Ports) { this.#recordEvent = p.recordEvent.bind(p); }
        go(): void { this.#recordEvent('x', 'Warning', 'Iota', 'm'); }
      }
    `);
    assert.deepEqual(summary(found), {
      Alpha: 'Warning',
      Beta: 'Warning',
      Cond1: 'Normal or Warning',
      Cond2: 'Normal or Warning',
      Delta: 'Warning',
      Epsilon: 'Warning',
      Eta: 'Warning',
      Gamma: 'Warning',
      Iota: 'Warning',
      Literal: 'Normal',
      Theta: 'Warning',
      Zeta: 'Warning',
    });
  });

  it('reads a parameter typed with a whole reason union by its callers, and ignores a forwarder typed with one', () => {
    const found = traceFixture(`
      type Reason = 'Up' | 'Down' | 'Failed' | 'Unused';
      interface Ports { recordEvent(target: string, type: 'Normal' | 'Warning', reason: Reason, message: string): void }
      export function run(p: Ports): void {
        p.recordEvent('x', 'Normal', 'Up', 'm');
        warnOnce(p, 'Down');
        each(p, [{ reason: 'Failed', message: '' }]);
      }
      function warnOnce(p: Ports, reason: Reason): void { p.recordEvent('x', 'Warning', reason, 'm'); }
      function each(p: Ports, list: ReadonlyArray<{ reason: Reason; message: string }>): void {
        list.forEach(({ reason, message }) => { p.recordEvent('x', 'Warning', reason, message); });
      }
      export function forwarder(p: Ports): Ports {
        return { recordEvent(target, type, reason: Reason, message) { p.recordEvent(target, type, reason, message); } };
      }
    `);
    assert.deepEqual(summary(found), { Down: 'Warning', Failed: 'Warning', Up: 'Normal' });
  });

  it('fails, naming the place, on a reason it cannot follow to literals', () => {
    assert.throws(
      () =>
        traceFixture(`
          declare function record(type: 'Normal' | 'Warning', reason: string): void;
          export function run(n: number): void { record('Warning', \`Reason\${n}\`); }
        `),
      (error: Error) => error instanceof Untraceable && /recorded at fixture\.ts:3/.test(error.message),
    );
  });
});
