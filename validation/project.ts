// The parsed form of a change set, built once and shared by every validator so that each file is parsed once:
// TypeScript source files for JS/TS, tree-sitter trees for Python, YAML documents. Shell is read where it is judged,
// by core/gate/shell-parse.ts (shell-analysis.ts), whose parse is cheap and synchronous. The validators are functions
// of this object (plus options); only building it is asynchronous (WASM loading).
import { posix } from 'node:path';
import ts from 'typescript';
import YAML from 'yaml';
import { detectLanguage, isJsLike, type Language } from './languages.js';
import { loadTreeSitter, type TsTree } from './tree-sitter.js';
import type { SourceFile } from './types.js';

export interface ProjectFile {
  path: string;
  content: string;
  language: Language;
  /** NUL bytes: not text, not analysed beyond the secret scan. */
  binary: boolean;
  ts?: ts.SourceFile;
  /** Python only. */
  tree?: TsTree;
  yaml?: YAML.Document.Parsed[];
}

export interface UnreadableFile {
  path: string;
  reason: string;
}

export interface Project {
  files: ProjectFile[];
  byPath: Map<string, ProjectFile>;
  unreadable: UnreadableFile[];
  /** The TS program over all JS/TS files (syntactic diagnostics only: no lib, no resolution). */
  program?: ts.Program;
  fileExists?: (path: string) => Promise<boolean>;
  readFile?: (path: string) => Promise<string>;
  dispose(): void;
}

/** POSIX-style path, no leading './', no duplicate or trailing slashes. Paths are labels; '..' is kept as given. */
export function normalizePath(p: string): string {
  let s = p.replace(/\\/g, '/');
  s = posix.normalize(s);
  if (s.startsWith('./')) s = s.slice(2);
  if (s.length > 1 && s.endsWith('/')) s = s.slice(0, -1);
  return s;
}

function scriptKind(l: Language, path: string): ts.ScriptKind {
  if (l === 'tsx') return ts.ScriptKind.TSX;
  if (l === 'typescript') return ts.ScriptKind.TS;
  return /\.jsx$/i.test(path) ? ts.ScriptKind.JSX : ts.ScriptKind.JS;
}

// Program file names must be unique and look like what they are to the compiler.
function programName(f: ProjectFile, i: number): string {
  const ext = f.language === 'tsx' ? '.tsx' : f.language === 'typescript' ? (f.path.endsWith('.d.ts') ? '.d.ts' : '.ts') : '.js';
  return `/__wgm/${i}${ext}`;
}

export async function buildProject(
  files: SourceFile[],
  opts: {
    unreadable?: UnreadableFile[];
    fileExists?: (path: string) => Promise<boolean>;
    readFile?: (path: string) => Promise<string>;
  } = {},
): Promise<Project> {
  const out: ProjectFile[] = files.map((f) => {
    const path = normalizePath(f.path);
    const binary = f.content.includes('\u0000');
    return { path, content: f.content, language: binary ? 'other' : detectLanguage(path, f.content), binary };
  });

  const sfs = new Map<string, ts.SourceFile>();
  out.forEach((f, i) => {
    if (!isJsLike(f.language)) return;
    const name = programName(f, i);
    f.ts = ts.createSourceFile(name, f.content, ts.ScriptTarget.Latest, true, scriptKind(f.language, f.path));
    sfs.set(name, f.ts);
  });
  let program: ts.Program | undefined;
  if (sfs.size > 0) {
    const host: ts.CompilerHost = {
      getSourceFile: (n) => sfs.get(n),
      getDefaultLibFileName: () => '/__wgm/lib.d.ts',
      writeFile: () => undefined,
      getCurrentDirectory: () => '/',
      getCanonicalFileName: (n) => n,
      useCaseSensitiveFileNames: () => true,
      getNewLine: () => '\n',
      fileExists: (n) => sfs.has(n),
      readFile: () => undefined,
    };
    program = ts.createProgram({
      rootNames: [...sfs.keys()],
      options: {
        noResolve: true,
        noLib: true,
        allowJs: true,
        jsx: ts.JsxEmit.Preserve,
        target: ts.ScriptTarget.Latest,
        module: ts.ModuleKind.ESNext,
        types: [],
      },
      host,
    });
  }

  // Loaded (once per process) only when a change has Python in it.
  const parsers = out.some((f) => f.language === 'python') ? await loadTreeSitter() : null;
  const trees: TsTree[] = [];
  for (const f of out) {
    if (f.language === 'python') f.tree = parsers!.parse('python', f.content);
    else if (f.language === 'yaml') f.yaml = YAML.parseAllDocuments(f.content, { prettyErrors: false, uniqueKeys: true });
    if (f.tree) trees.push(f.tree);
  }

  const byPath = new Map(out.map((f) => [f.path, f]));
  return {
    files: out,
    byPath,
    unreadable: opts.unreadable ?? [],
    program,
    fileExists: opts.fileExists,
    readFile: opts.readFile,
    dispose() {
      for (const t of trees.splice(0)) t.delete();
    },
  };
}

/** 1-based line and column of an offset. */
export function lineCol(content: string, offset: number): { line: number; column: number } {
  let line = 1;
  let last = -1;
  const end = Math.min(offset, content.length);
  for (let i = 0; i < end; i++) {
    if (content.charCodeAt(i) === 10) {
      line++;
      last = i;
    }
  }
  return { line, column: end - last };
}
