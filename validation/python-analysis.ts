// Facts about one Python file from its tree-sitter tree: imports (with relative level and whether a try/except
// ImportError guards them) and calls with the callee resolved through import aliases. Comments and string contents
// never produce a call or an import.
import type { TsNode, TsTree } from './tree-sitter.js';

export interface PyImport {
  /** Dotted module name without the leading dots ('' for `from . import x`). */
  module: string;
  /** Number of leading dots: 0 for absolute imports. */
  level: number;
  /** For `from M import a, b`: a, b (submodules or attributes). */
  names: string[];
  line: number;
  column: number;
  optional: boolean;
}

export interface PyCall {
  callee: string;
  node: TsNode;
  positional: TsNode[];
  keywords: Map<string, TsNode>;
  line: number;
  column: number;
}

const IMPORT_ERRORS = /\b(ImportError|ModuleNotFoundError|Exception|BaseException)\b/;

function guardedByImportError(node: TsNode): boolean {
  let child: TsNode = node;
  for (let p = node.parent; p; child = p, p = p.parent) {
    if (p.type === 'function_definition' || p.type === 'class_definition') return false;
    if (p.type === 'try_statement' && p.childForFieldName('body')?.equals(child)) {
      for (const c of p.namedChildren) {
        if (c?.type !== 'except_clause') continue;
        const caught = c.namedChildren.filter((x) => x && x.type !== 'block').map((x) => x!.text).join(' ');
        if (caught === '' || IMPORT_ERRORS.test(caught)) return true;
      }
    }
  }
  return false;
}

function at(n: TsNode): { line: number; column: number } {
  return { line: n.startPosition.row + 1, column: n.startPosition.column + 1 };
}

// Every node type any validator asks for, fetched in one descendantsOfType call per tree (inside WASM; walking node by
// node from JS costs a marshalled object per node) and cached per tree.
const INDEXED_TYPES = [
  'import_statement',
  'import_from_statement',
  'call',
  'string',
  'binary_operator',
  'decorator',
  'print_statement',
  'exec_statement',
];
const indexCache = new WeakMap<TsNode['tree'], Map<string, TsNode[]>>();

/** Nodes of the given types in document order. */
export function nodesOfType(root: TsNode, types: string[]): TsNode[] {
  const isRoot = root.parent === null;
  if (!isRoot || types.some((t) => !INDEXED_TYPES.includes(t))) return root.descendantsOfType(types).filter((n): n is TsNode => n !== null);
  let idx = indexCache.get(root.tree);
  if (!idx) {
    idx = new Map();
    for (const n of root.descendantsOfType(INDEXED_TYPES)) {
      if (!n) continue;
      const list = idx.get(n.type) ?? [];
      list.push(n);
      idx.set(n.type, list);
    }
    indexCache.set(root.tree, idx);
  }
  const out = types.flatMap((t) => idx.get(t) ?? []);
  return types.length > 1 ? out.sort((a, b) => a.startIndex - b.startIndex) : out;
}

export function pyImports(tree: TsTree): PyImport[] {
  const out: PyImport[] = [];
  for (const n of nodesOfType(tree.rootNode, ['import_statement', 'import_from_statement'])) {
    if (n.type === 'import_statement') {
      for (const c of n.childrenForFieldName('name')) {
        if (!c) continue;
        const dn = c.type === 'aliased_import' ? c.childForFieldName('name') : c;
        if (dn) out.push({ module: dn.text, level: 0, names: [], ...at(dn), optional: guardedByImportError(n) });
      }
    } else if (n.type === 'import_from_statement') {
      const mod = n.childForFieldName('module_name');
      if (!mod) continue;
      const names = n
        .childrenForFieldName('name')
        .filter((x): x is TsNode => !!x)
        .map((x) => (x.type === 'aliased_import' ? (x.childForFieldName('name')?.text ?? '') : x.text));
      if (mod.type === 'relative_import') {
        const prefix = mod.namedChildren.find((x) => x?.type === 'import_prefix');
        const dn = mod.namedChildren.find((x) => x?.type === 'dotted_name');
        out.push({ module: dn?.text ?? '', level: prefix?.text.length ?? 1, names, ...at(mod), optional: guardedByImportError(n) });
      } else {
        out.push({ module: mod.text, level: 0, names, ...at(mod), optional: guardedByImportError(n) });
      }
    }
  }
  return out;
}

/** Local name → dotted module path it stands for. */
function bindings(tree: TsTree): Map<string, string> {
  const b = new Map<string, string>();
  for (const n of nodesOfType(tree.rootNode, ['import_statement', 'import_from_statement'])) {
    if (n.type === 'import_statement') {
      for (const c of n.childrenForFieldName('name')) {
        if (!c) continue;
        if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (name && alias) b.set(alias, name);
        } else {
          const first = c.text.split('.')[0];
          b.set(first, first);
        }
      }
    } else if (n.type === 'import_from_statement') {
      const mod = n.childForFieldName('module_name');
      if (!mod || mod.type === 'relative_import') continue;
      for (const c of n.childrenForFieldName('name')) {
        if (!c) continue;
        if (c.type === 'aliased_import') {
          const name = c.childForFieldName('name')?.text;
          const alias = c.childForFieldName('alias')?.text;
          if (name && alias) b.set(alias, `${mod.text}.${name}`);
        } else b.set(c.text, `${mod.text}.${c.text}`);
      }
    }
  }
  return b;
}

function dotted(n: TsNode | null, b: Map<string, string>): string | null {
  if (!n) return null;
  if (n.type === 'identifier') return b.get(n.text) ?? n.text;
  if (n.type === 'attribute') {
    const left = dotted(n.childForFieldName('object'), b);
    const attr = n.childForFieldName('attribute')?.text;
    return left && attr ? `${left}.${attr}` : null;
  }
  return null;
}

export function pyCalls(tree: TsTree): PyCall[] {
  const b = bindings(tree);
  const out: PyCall[] = [];
  for (const n of nodesOfType(tree.rootNode, ['call'])) {
    const callee = dotted(n.childForFieldName('function'), b);
    if (!callee) continue;
    const args = n.childForFieldName('arguments');
    const positional: TsNode[] = [];
    const keywords = new Map<string, TsNode>();
    for (const a of args?.namedChildren ?? []) {
      if (!a || a.type === 'comment') continue;
      if (a.type === 'keyword_argument') {
        const k = a.childForFieldName('name')?.text;
        const v = a.childForFieldName('value');
        if (k && v) keywords.set(k, v);
      } else if (a.type !== 'list_splat' && a.type !== 'dictionary_splat') positional.push(a);
    }
    out.push({ callee, node: n, positional, keywords, ...at(n) });
  }
  return out;
}

/** A plain string literal (no f-string interpolation), or implicit concatenation of such; its value, roughly. */
export function pyLiteralString(n: TsNode | undefined | null): string | null {
  if (!n) return null;
  if (n.type === 'concatenated_string') {
    const parts = n.namedChildren.map((c) => pyLiteralString(c));
    return parts.every((p) => p !== null) ? parts.join('') : null;
  }
  if (n.type !== 'string') return null;
  if (n.namedChildren.some((c) => c?.type === 'interpolation')) return null;
  return n.namedChildren
    .filter((c) => c?.type === 'string_content' || c?.type === 'escape_sequence')
    .map((c) => c!.text)
    .join('');
}

/** The static text of a string node including f-strings, with interpolations dropped. */
export function pyStaticText(n: TsNode): string {
  return n.namedChildren
    .filter((c) => c?.type === 'string_content')
    .map((c) => c!.text)
    .join(' ');
}

export function pyHasInterpolation(n: TsNode): boolean {
  return n.type === 'string' && n.namedChildren.some((c) => c?.type === 'interpolation');
}

export { at as pyPosition };
