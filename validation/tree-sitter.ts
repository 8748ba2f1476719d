// Tree-sitter (WASM, from @vscode/tree-sitter-wasm) for Python trees: one runtime and one parser per process, loaded on
// first use. Trees live in WASM memory: whoever parses must call tree.delete(). It stays for Python because nothing
// else here parses Python (JS/TS go through the TypeScript compiler). Not for shell: shell is judged by
// core/gate/shell-parse.ts (the gate's parser, so a script and an instruction are read alike) and syntax-checked by
// mvdan/sh (sh-syntax, check-shell-syntax.ts); tree-sitter-bash's error recovery both flagged valid scripts (heredocs,
// case patterns) and let invalid ones pass (`else fi`, a stray `done`), so it was never the verdict.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type * as TreeSitterTypes from '@vscode/tree-sitter-wasm';

export type TsNode = TreeSitterTypes.Node;
export type TsTree = TreeSitterTypes.Tree;
export type TreeSitterGrammar = 'python';

const require = createRequire(import.meta.url);

export interface TreeSitterParsers {
  parse(grammar: TreeSitterGrammar, text: string): TsTree;
}

let loading: Promise<TreeSitterParsers> | null = null;

async function load(): Promise<TreeSitterParsers> {
  // The package is a UMD bundle: require() is the reliable way to get its exports from ESM.
  const ts = require('@vscode/tree-sitter-wasm') as typeof TreeSitterTypes;
  const dir = dirname(require.resolve('@vscode/tree-sitter-wasm'));
  await ts.Parser.init({ locateFile: (file: string) => join(dir, file) });
  const parsers = new Map<TreeSitterGrammar, TreeSitterTypes.Parser>();
  for (const g of ['python'] as const) {
    const lang = await ts.Language.load(join(dir, `tree-sitter-${g}.wasm`));
    const p = new ts.Parser();
    p.setLanguage(lang);
    parsers.set(g, p);
  }
  return {
    parse(grammar, text) {
      const tree = parsers.get(grammar)!.parse(text);
      if (!tree) throw new Error(`tree-sitter returned no tree for ${grammar}`);
      return tree;
    },
  };
}

export function loadTreeSitter(): Promise<TreeSitterParsers> {
  if (!loading) {
    loading = load();
    loading.catch(() => {
      loading = null;
    });
  }
  return loading;
}

/** Depth-first walk without recursion (deep trees from generated code must not blow the stack). */
export function* walkTree(root: TsNode): Generator<TsNode> {
  const cursor = root.walk();
  try {
    let descending = true;
    for (;;) {
      if (descending) yield cursor.currentNode;
      if (descending && cursor.gotoFirstChild()) continue;
      if (cursor.gotoNextSibling()) {
        descending = true;
        continue;
      }
      if (!cursor.gotoParent()) return;
      descending = false;
    }
  } finally {
    cursor.delete();
  }
}
