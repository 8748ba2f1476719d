// Facts about one JS/TS file from its TypeScript syntax tree: the modules it imports, and its calls with the callee
// resolved through imports (so `exec` from child_process is told apart from `RegExp.prototype.exec`). Only code
// is looked at: comments and the contents of strings never produce a call or an import.
import ts from 'typescript';

export interface ImportRef {
  specifier: string;
  line: number;
  column: number;
  /** Inside a `try` block: the code copes with the module being absent. */
  optional: boolean;
}

export interface CallSite {
  /** Dotted callee with module bindings resolved: `child_process.exec`, `eval`, `describe.only`, `db.query`. */
  callee: string;
  node: ts.CallExpression | ts.NewExpression;
  args: readonly ts.Expression[];
  isNew: boolean;
  line: number;
  column: number;
}

function pos(sf: ts.SourceFile, node: ts.Node): { line: number; column: number } {
  const lc = sf.getLineAndCharacterOfPosition(node.getStart(sf));
  return { line: lc.line + 1, column: lc.character + 1 };
}

function inTry(node: ts.Node): boolean {
  let child: ts.Node = node;
  for (let p = node.parent; p; child = p, p = p.parent) {
    if (ts.isTryStatement(p) && p.tryBlock === child) return true;
    if (ts.isFunctionLike(p)) return false;
  }
  return false;
}

function stringArg(node: ts.Expression | undefined): string | null {
  if (!node) return null;
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  return null;
}

/** Iterative walk (generated code can be deep), parents before children, siblings in source order. */
export function forEachNode(sf: ts.SourceFile, visit: (n: ts.Node) => void): void {
  const stack: ts.Node[] = [sf];
  const kids: ts.Node[] = [];
  const push = (c: ts.Node) => {
    kids.push(c);
  };
  while (stack.length) {
    const n = stack.pop()!;
    visit(n);
    kids.length = 0;
    n.forEachChild(push);
    for (let i = kids.length - 1; i >= 0; i--) stack.push(kids[i]);
  }
}

/** Every node of the kinds the validators look at, from one walk per file (cached: several validators ask). */
export interface JsNodes {
  modules: (ts.ImportDeclaration | ts.ExportDeclaration | ts.ImportEqualsDeclaration | ts.ImportTypeNode)[];
  calls: (ts.CallExpression | ts.NewExpression)[];
  vars: ts.VariableDeclaration[];
  props: ts.PropertyAssignment[];
  binaries: ts.BinaryExpression[];
  templates: ts.TemplateExpression[];
}

const nodeCache = new WeakMap<ts.SourceFile, JsNodes>();

export function jsNodes(sf: ts.SourceFile): JsNodes {
  const hit = nodeCache.get(sf);
  if (hit) return hit;
  const out: JsNodes = { modules: [], calls: [], vars: [], props: [], binaries: [], templates: [] };
  forEachNode(sf, (n) => {
    switch (n.kind) {
      case ts.SyntaxKind.ImportDeclaration:
      case ts.SyntaxKind.ExportDeclaration:
      case ts.SyntaxKind.ImportEqualsDeclaration:
      case ts.SyntaxKind.ImportType:
        out.modules.push(n as JsNodes['modules'][number]);
        break;
      case ts.SyntaxKind.CallExpression:
      case ts.SyntaxKind.NewExpression:
        out.calls.push(n as ts.CallExpression | ts.NewExpression);
        break;
      case ts.SyntaxKind.VariableDeclaration:
        out.vars.push(n as ts.VariableDeclaration);
        break;
      case ts.SyntaxKind.PropertyAssignment:
        out.props.push(n as ts.PropertyAssignment);
        break;
      case ts.SyntaxKind.BinaryExpression:
        out.binaries.push(n as ts.BinaryExpression);
        break;
      case ts.SyntaxKind.TemplateExpression:
        out.templates.push(n as ts.TemplateExpression);
        break;
    }
  });
  nodeCache.set(sf, out);
  return out;
}

export function jsImports(sf: ts.SourceFile): ImportRef[] {
  const out: ImportRef[] = [];
  const add = (spec: string, at: ts.Node) => out.push({ specifier: spec, ...pos(sf, at), optional: inTry(at) });
  const nodes = jsNodes(sf);
  for (const n of nodes.modules) {
    if ((ts.isImportDeclaration(n) || ts.isExportDeclaration(n)) && n.moduleSpecifier && ts.isStringLiteral(n.moduleSpecifier)) {
      add(n.moduleSpecifier.text, n.moduleSpecifier);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      const s = stringArg(n.moduleReference.expression);
      if (s !== null) add(s, n.moduleReference.expression);
    } else if (ts.isImportTypeNode(n) && ts.isLiteralTypeNode(n.argument) && ts.isStringLiteral(n.argument.literal)) {
      add(n.argument.literal.text, n.argument.literal);
    }
  }
  for (const n of nodes.calls) {
    if (!ts.isCallExpression(n)) continue;
    const e = n.expression;
    const isRequire = ts.isIdentifier(e) && e.text === 'require';
    const isResolve = ts.isPropertyAccessExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require' && e.name.text === 'resolve';
    const isDynamic = e.kind === ts.SyntaxKind.ImportKeyword;
    if ((isRequire || isResolve || isDynamic) && n.arguments.length >= 1) {
      const s = stringArg(n.arguments[0]);
      if (s !== null) add(s, n.arguments[0]);
    }
  }
  return out.sort((a, b) => a.line - b.line || a.column - b.column);
}

function stripNode(m: string): string {
  return m.startsWith('node:') ? m.slice(5) : m;
}

/**
 * Local names bound to modules or module exports: `import cp from 'child_process'` → cp = child_process,
 * `import { exec as run } from 'node:child_process'` → run = child_process.exec,
 * `const { execSync } = require('child_process')` → execSync = child_process.execSync.
 */
function moduleBindings(sf: ts.SourceFile): Map<string, string> {
  const b = new Map<string, string>();
  const requireOf = (e: ts.Expression | undefined): string | null => {
    if (e && ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require') return stringArg(e.arguments[0]);
    if (e && ts.isAwaitExpression(e) && ts.isCallExpression(e.expression) && e.expression.expression.kind === ts.SyntaxKind.ImportKeyword)
      return stringArg(e.expression.arguments[0]);
    return null;
  };
  const nodes = jsNodes(sf);
  for (const n of [...nodes.modules, ...nodes.vars] as ts.Node[]) {
    if (ts.isImportDeclaration(n) && ts.isStringLiteral(n.moduleSpecifier) && n.importClause) {
      const mod = stripNode(n.moduleSpecifier.text);
      const c = n.importClause;
      if (c.name) b.set(c.name.text, mod);
      const nb = c.namedBindings;
      if (nb && ts.isNamespaceImport(nb)) b.set(nb.name.text, mod);
      if (nb && ts.isNamedImports(nb)) for (const el of nb.elements) b.set(el.name.text, `${mod}.${(el.propertyName ?? el.name).text}`);
    } else if (ts.isImportEqualsDeclaration(n) && ts.isExternalModuleReference(n.moduleReference)) {
      const s = stringArg(n.moduleReference.expression);
      if (s !== null) b.set(n.name.text, stripNode(s));
    } else if (ts.isVariableDeclaration(n)) {
      const mod = requireOf(n.initializer);
      if (mod === null) continue;
      const m = stripNode(mod);
      if (ts.isIdentifier(n.name)) b.set(n.name.text, m);
      else if (ts.isObjectBindingPattern(n.name))
        for (const el of n.name.elements) {
          if (!ts.isIdentifier(el.name)) continue;
          const prop = el.propertyName && ts.isIdentifier(el.propertyName) ? el.propertyName.text : el.name.text;
          b.set(el.name.text, `${m}.${prop}`);
        }
    }
  }
  return b;
}

/** `a.b.c` for identifier/property chains (with `require('m').x` resolved to `m.x`); null for anything else. */
function dotted(e: ts.Expression, bindings: Map<string, string>): string | null {
  if (ts.isIdentifier(e)) return bindings.get(e.text) ?? e.text;
  if (ts.isPropertyAccessExpression(e) || ts.isPropertyAccessChain(e)) {
    const left = dotted(e.expression, bindings);
    return left === null ? null : `${left}.${e.name.text}`;
  }
  if (ts.isElementAccessExpression(e) && ts.isStringLiteral(e.argumentExpression)) {
    const left = dotted(e.expression, bindings);
    return left === null ? null : `${left}.${e.argumentExpression.text}`;
  }
  if (ts.isCallExpression(e) && ts.isIdentifier(e.expression) && e.expression.text === 'require') {
    const s = stringArg(e.arguments[0]);
    return s === null ? null : stripNode(s);
  }
  if (ts.isParenthesizedExpression(e)) return dotted(e.expression, bindings);
  return null;
}

const callCache = new WeakMap<ts.SourceFile, CallSite[]>();

export function jsCalls(sf: ts.SourceFile): CallSite[] {
  const hit = callCache.get(sf);
  if (hit) return hit;
  const bindings = moduleBindings(sf);
  const out: CallSite[] = [];
  for (const n of jsNodes(sf).calls) {
    const callee = dotted(n.expression, bindings);
    if (callee === null) continue;
    out.push({ callee, node: n, args: n.arguments ?? [], isNew: ts.isNewExpression(n), ...pos(sf, n) });
  }
  callCache.set(sf, out);
  return out;
}

/**
 * Names declared once, as `const`, with a string literal initialiser: `const CMD = 'git status'`. A call passing such
 * a name passes a literal in effect.
 */
export function constStrings(sf: ts.SourceFile): Map<string, string> {
  const seen = new Map<string, string | null>();
  for (const n of jsNodes(sf).vars) {
    if (!ts.isIdentifier(n.name)) continue;
    const list = n.parent;
    const isConst = ts.isVariableDeclarationList(list) && (list.flags & ts.NodeFlags.Const) !== 0;
    const s = stringArg(n.initializer);
    const prev = seen.get(n.name.text);
    seen.set(n.name.text, isConst && s !== null && prev === undefined ? s : null);
  }
  const out = new Map<string, string>();
  for (const [k, v] of seen) if (v !== null) out.set(k, v);
  return out;
}

/** The literal string value of an expression, following const string bindings; null when not a literal. */
export function literalValue(e: ts.Expression | undefined, consts: Map<string, string>): string | null {
  if (!e) return null;
  const s = stringArg(e);
  if (s !== null) return s;
  if (ts.isIdentifier(e)) return consts.get(e.text) ?? null;
  if (ts.isParenthesizedExpression(e)) return literalValue(e.expression, consts);
  if (ts.isBinaryExpression(e) && e.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const l = literalValue(e.left, consts);
    const r = literalValue(e.right, consts);
    return l !== null && r !== null ? l + r : null;
  }
  return null;
}

export { pos as nodePosition };
