// Dependency validator. Every import must resolve: to a file of the change (or one that `fileExists` confirms), to
// the language's standard library, or to a package declared in the nearest manifest. An unresolved import is HIGH
// (the "hallucinated package"); inside try/except ImportError or try/catch it is MEDIUM (the code copes without it).
// Declared packages are checked too: known-malicious → CRITICAL, close to a popular name but not it → HIGH
// (typosquat), unbounded version or git/url/file source → MEDIUM, extra package indexes → MEDIUM.
import { builtinModules } from 'node:module';
import { posix } from 'node:path';
import ts from 'typescript';
import { editDistance } from './edit-distance.js';
import { jsImports } from './js-analysis.js';
import { isJsLike, isTestPath } from './languages.js';
import { normalizePyName, parseManifest, type DeclaredDependency, type Ecosystem, type Manifest } from './manifests.js';
import {
  MALICIOUS_PACKAGES,
  POPULAR_NPM,
  POPULAR_PYPI,
  PYTHON_ALWAYS_AVAILABLE,
  PYTHON_IMPORT_TO_DIST,
  PYTHON_STDLIB,
  type MaliciousPackage,
} from './package-lists.js';
import type { Project, ProjectFile } from './project.js';
import { pyImports } from './python-analysis.js';
import { isBlockingSeverity, type Finding, type Severity, type ValidatorOutcome } from './types.js';

/** The most popular names are what typosquatters imitate. */
export const TYPOSQUAT_TARGETS = 1500;

const NODE_BUILTINS = new Set(builtinModules);
// Only reachable with the node: prefix.
const NODE_PREFIX_ONLY = new Set(['test', 'test/reporters', 'sqlite', 'sea']);
const PY_STDLIB = new Set(PYTHON_STDLIB);

interface NameIndex {
  known: Set<string>;
  targets: string[];
}
let indexes: Record<Ecosystem, NameIndex> | null = null;
function nameIndexes(): Record<Ecosystem, NameIndex> {
  if (!indexes) {
    const denied = new Set(MALICIOUS_PACKAGES.filter((m) => !m.versions).map((m) => `${m.ecosystem}:${m.name.toLowerCase()}`));
    const build = (eco: Ecosystem, list: readonly string[]): NameIndex => {
      const norm = list.map((n) => (eco === 'pypi' ? normalizePyName(n) : n.toLowerCase())).filter((n) => !denied.has(`${eco}:${n}`));
      return { known: new Set(norm), targets: norm.slice(0, TYPOSQUAT_TARGETS) };
    };
    indexes = { npm: build('npm', POPULAR_NPM), pypi: build('pypi', POPULAR_PYPI) };
  }
  return indexes;
}

function normName(eco: Ecosystem, name: string): string {
  return eco === 'pypi' ? normalizePyName(name) : name.toLowerCase();
}

/**
 * The popular package this name imitates, or null. Allowed distance grows with length: names of 4–6 characters
 * within 1 edit, 7 and longer within 2 (distance 2 on a five-letter name matches too many honest names); names of 3
 * characters or fewer are never reported.
 */
export function typosquatTarget(eco: Ecosystem, name: string): string | null {
  const n = normName(eco, name);
  const idx = nameIndexes()[eco];
  if (idx.known.has(n) || n.length <= 3) return null;
  const max = n.length <= 6 ? 1 : 2;
  let best: string | null = null;
  let bestD = max + 1;
  for (const t of idx.targets) {
    if (Math.abs(t.length - n.length) > max || t.length <= 3) continue;
    const d = editDistance(n, t, max);
    if (d > 0 && d < bestD) {
      best = t;
      bestD = d;
      if (d === 1) break;
    }
  }
  return best;
}

export function maliciousEntry(eco: Ecosystem, name: string, spec: string): MaliciousPackage | null {
  // Exact names: the point of jeIlyfish is that it is not jellyfish.
  const exactVersion = spec.trim().replace(/^(==|=|v)/, '');
  for (const m of MALICIOUS_PACKAGES) {
    if (m.ecosystem !== eco || m.name !== name) continue;
    if (!m.versions || m.versions.includes(exactVersion)) return m;
  }
  return null;
}

// ------------------------------------------------------------------ manifests in reach of a file

const PY_MANIFEST_NAMES = ['pyproject.toml', 'requirements.txt', 'requirements-dev.txt', 'dev-requirements.txt', 'requirements-test.txt'];

class ManifestIndex {
  private given = new Map<string, Manifest>();
  private fetched = new Map<string, Manifest | null>();
  readonly all: Manifest[] = [];

  constructor(private project: Project) {
    for (const f of project.files) {
      const m = parseManifest(f.path, f.content);
      if (m) {
        this.given.set(f.path, m);
        this.all.push(m);
      }
    }
  }

  private async load(path: string): Promise<Manifest | null> {
    if (this.given.has(path)) return this.given.get(path)!;
    if (this.fetched.has(path)) return this.fetched.get(path)!;
    let m: Manifest | null = null;
    if (this.project.readFile) {
      try {
        if (!this.project.fileExists || (await this.project.fileExists(path))) m = parseManifest(path, await this.project.readFile(path));
      } catch {
        m = null;
      }
    }
    this.fetched.set(path, m);
    return m;
  }

  /** Ancestor directories, nearest first: 'a/b' → ['a/b', 'a', '.'] (and up to 5 levels of '..' for relative paths). */
  static ancestors(dir: string): string[] {
    const out: string[] = [];
    let d = dir === '' ? '.' : dir;
    for (let i = 0; i < 64; i++) {
      out.push(d);
      if (d === '/' || d === '../../../../..') break;
      const up = d === '.' ? '..' : d.startsWith('..') && /^(\.\.\/?)+$/.test(d) ? `${d}/..` : posix.dirname(d);
      if (up === d) break;
      d = up;
    }
    return out;
  }

  async nearest(file: string, eco: Ecosystem): Promise<Manifest[]> {
    for (const dir of ManifestIndex.ancestors(posix.dirname(file))) {
      const join = (n: string) => (dir === '.' ? n : `${dir}/${n}`);
      if (eco === 'npm') {
        const m = await this.load(join('package.json'));
        if (m) return [m];
      } else {
        const found: Manifest[] = [];
        for (const m of this.all) if (m.ecosystem === 'pypi' && m.dir === dir) found.push(m);
        for (const n of PY_MANIFEST_NAMES) {
          const p = join(n);
          if (this.given.has(p)) continue;
          const m = await this.load(p);
          if (m) found.push(m);
        }
        if (found.length) return this.withIncludes(found);
      }
    }
    return [];
  }

  private async withIncludes(ms: Manifest[]): Promise<Manifest[]> {
    const out = [...ms];
    const seen = new Set(ms.map((m) => m.path));
    for (let i = 0; i < out.length && i < 32; i++) {
      for (const inc of out[i].includes ?? []) {
        const p = posix.normalize(posix.join(out[i].dir, inc));
        if (seen.has(p)) continue;
        seen.add(p);
        const m = await this.load(p);
        if (m) out.push(m);
      }
    }
    return out;
  }
}

// ------------------------------------------------------------------ resolution helpers

const JS_EXTS = ['.ts', '.tsx', '.mts', '.cts', '.js', '.jsx', '.mjs', '.cjs', '.json', '.node', '.d.ts'];

async function localExists(project: Project, path: string): Promise<boolean> {
  if (project.byPath.has(path)) return true;
  if (!project.fileExists) return false;
  try {
    return await project.fileExists(path);
  } catch {
    return false;
  }
}

/** Candidates for a relative JS import, in the order Node / TypeScript / bundlers try them. */
function jsRelativeCandidates(fromFile: string, spec: string): string[] {
  const base = posix.normalize(spec.startsWith('/') ? spec : posix.join(posix.dirname(fromFile), spec));
  const out = [base];
  // NodeNext: './x.js' is written for './x.ts'.
  const m = /^(.*)\.(m|c)?js$/.exec(base);
  if (m) out.push(`${m[1]}.${m[2] ?? ''}ts`, `${m[1]}.${m[2] ?? ''}tsx`, `${m[1]}.tsx`);
  if (/\.jsx$/.test(base)) out.push(base.replace(/\.jsx$/, '.tsx'));
  for (const e of JS_EXTS) out.push(base + e);
  for (const e of JS_EXTS) out.push(`${base}/index${e}`);
  out.push(`${base}/package.json`);
  return out.map((p) => (p.startsWith('./') ? p.slice(2) : p));
}

function npmPackageName(spec: string): string {
  const parts = spec.split('/');
  return spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0];
}

/** tsconfig/jsconfig `paths` prefixes (`@/*` → '@/'), from the given files. */
function pathAliases(project: Project): string[] {
  const out: string[] = [];
  for (const f of project.files) {
    const b = posix.basename(f.path);
    if (!/^(tsconfig|jsconfig)(\..*)?\.json$/.test(b)) continue;
    const parsed = ts.parseConfigFileTextToJson(f.path, f.content);
    const paths = (parsed.config as { compilerOptions?: { paths?: Record<string, unknown> } } | undefined)?.compilerOptions?.paths;
    for (const k of Object.keys(paths ?? {})) out.push(k.replace(/\*$/, ''));
  }
  return out.filter((p) => p.length > 0);
}

// ------------------------------------------------------------------ entry

export async function validateDependencies(project: Project): Promise<ValidatorOutcome> {
  const findings: Finding[] = [];
  const push = (severity: Severity, file: string, line: number, column: number | undefined, rule: string, message: string) =>
    findings.push({ validator: 'dependency', severity, file, line, column, rule, message, blocking: isBlockingSeverity(severity) });
  const manifests = new ManifestIndex(project);
  const workspaceNames = new Set(manifests.all.map((m) => m.name).filter((n): n is string => !!n));
  const aliases = pathAliases(project);
  let checked = 0;

  // Declared dependencies of the manifests in the change.
  for (const m of manifests.all) {
    checked++;
    for (const e of m.errors) {
      if (/is not valid (JSON|TOML)|not a valid requirement|URL requirement/.test(e.message)) continue; // syntax reports these
      push('HIGH', m.path, e.line, undefined, 'dependency.manifest-invalid', e.message);
    }
    for (const d of m.deps) checkDeclared(d, m, push);
    for (const x of m.extraIndexes ?? []) {
      push('MEDIUM', m.path, x.line, undefined, 'dependency.extra-index', 'an extra package index allows dependency confusion: pin packages to one index');
    }
  }

  // Imports of the code in the change.
  let localPy: Set<string> | null = null;
  for (const f of project.files) {
    if (f.binary) continue;
    if (isJsLike(f.language) && f.ts) {
      checked++;
      await checkJsImports(project, f, manifests, workspaceNames, aliases, push);
    } else if (f.language === 'python' && f.tree) {
      checked++;
      localPy ??= pythonLocalNames(project);
      await checkPyImports(project, f, manifests, localPy, push);
    }
  }
  return { findings, checked, base: 100, notes: [] };
}

type Push = (severity: Severity, file: string, line: number, column: number | undefined, rule: string, message: string) => void;

function checkDeclared(d: DeclaredDependency, m: Manifest, push: Push): void {
  const real = d.aliasOf ?? d.name;
  const bad = maliciousEntry(d.ecosystem, real, d.spec);
  if (bad) {
    push('CRITICAL', m.path, d.line, undefined, 'dependency.malicious', `"${real}${bad.versions ? '@' + d.spec : ''}" is a known-malicious package: ${bad.why}`);
    return;
  }
  const target = d.kind === 'registry' ? typosquatTarget(d.ecosystem, real) : null;
  if (target) push('HIGH', m.path, d.line, undefined, 'dependency.typosquat', `"${real}" is one or two letters away from the popular package "${target}" (typosquat?)`);
  if (d.kind === 'git' || d.kind === 'url' || d.kind === 'file') {
    push('MEDIUM', m.path, d.line, undefined, 'dependency.non-registry', `"${d.name}" comes from a ${d.kind} source, not the registry: unreviewed and unpinned`);
  } else if (d.kind === 'registry' && !d.bounded) {
    push('MEDIUM', m.path, d.line, undefined, 'dependency.unpinned', `"${d.name}" is not pinned (${d.spec === '' ? 'no version' : d.spec}): give it an upper bound or exact version`);
  }
}

function hintFor(eco: Ecosystem, name: string): string {
  const bad = MALICIOUS_PACKAGES.find((m) => m.ecosystem === eco && m.name === name && !m.versions);
  if (bad) return ` It is also a known-malicious package (${bad.why}).`;
  const t = typosquatTarget(eco, name);
  return t ? ` Did you mean "${t}"?` : '';
}

async function checkJsImports(project: Project, f: ProjectFile, manifests: ManifestIndex, workspaces: Set<string>, aliases: string[], push: Push): Promise<void> {
  let nearest: Manifest[] | null = null;
  for (const imp of jsImports(f.ts!)) {
    const spec = imp.specifier;
    const unresolved = (rule: string, msg: string) =>
      push(imp.optional ? 'MEDIUM' : 'HIGH', f.path, imp.line, imp.column, rule, imp.optional ? `${msg} (optional: inside try)` : msg);
    if (spec.startsWith('.') || spec.startsWith('/')) {
      let ok = false;
      for (const c of jsRelativeCandidates(f.path, spec)) if ((ok = await localExists(project, c))) break;
      if (!ok) unresolved('dependency.unresolved-local', `relative import "${spec}" does not resolve to a file`);
      continue;
    }
    if (spec.startsWith('node:')) {
      const name = spec.slice(5);
      if (!NODE_BUILTINS.has(name) && !NODE_BUILTINS.has(`node:${name}`) && !NODE_PREFIX_ONLY.has(name)) {
        unresolved('dependency.unresolved', `"${spec}" is not a Node.js built-in module`);
      }
      continue;
    }
    if (NODE_BUILTINS.has(spec) && !NODE_PREFIX_ONLY.has(spec)) continue;
    if (/^https?:\/\//.test(spec)) {
      push('MEDIUM', f.path, imp.line, imp.column, 'dependency.remote-import', `import from a URL: "${spec.slice(0, 80)}"`);
      continue;
    }
    if (aliases.some((a) => spec.startsWith(a))) continue;
    nearest ??= await manifests.nearest(f.path, 'npm');
    const pkg = nearest[0];
    if (spec.startsWith('#')) {
      if (pkg?.importKeys?.some((k) => k === spec || (k.endsWith('*') && spec.startsWith(k.slice(0, -1))))) continue;
      unresolved('dependency.unresolved', `"${spec}" is not in the "imports" of ${pkg ? pkg.path : 'any package.json'}`);
      continue;
    }
    const name = npmPackageName(spec);
    if (pkg?.name === name || workspaces.has(name)) continue;
    const declared = pkg?.deps.some((d) => d.name === name || `@types/${name.replace(/^@/, '').replace('/', '__')}` === d.name);
    if (declared) continue;
    const where = pkg ? `not declared in ${pkg.path}` : 'no package.json declares it';
    const hint = nameIndexes().npm.known.has(name.toLowerCase()) ? ` "${name}" is a real npm package: declare it.` : hintFor('npm', name);
    unresolved('dependency.unresolved', `"${name}" is imported but ${where}, and it is not a Node.js built-in (hallucinated or missing dependency).${hint}`);
  }
}

function pyLocalCandidates(fromFile: string, top: string): string[] {
  const out: string[] = [];
  for (const dir of ManifestIndex.ancestors(posix.dirname(fromFile)).slice(0, 8)) {
    const j = (p: string) => (dir === '.' ? p : `${dir}/${p}`);
    out.push(j(`${top}.py`), j(`${top}/__init__.py`), j(`src/${top}/__init__.py`), j(`src/${top}.py`));
  }
  return out;
}

/** Directories and modules of the change: `import utils` resolves when a utils.py or a utils/ with Python is in it. */
function pythonLocalNames(project: Project): Set<string> {
  const localTops = new Set<string>();
  for (const g of project.files) {
    if (!g.path.endsWith('.py')) continue;
    const parts = g.path.split('/');
    parts[parts.length - 1] = parts[parts.length - 1].replace(/\.py$/, '');
    for (const p of parts) localTops.add(p);
  }
  return localTops;
}

async function checkPyImports(project: Project, f: ProjectFile, manifests: ManifestIndex, localTops: Set<string>, push: Push): Promise<void> {
  let declared: { names: Set<string>; manifests: Manifest[] } | null = null;
  const isTest = isTestPath(f.path);
  for (const imp of pyImports(f.tree!)) {
    const unresolved = (rule: string, msg: string) =>
      push(imp.optional ? 'MEDIUM' : 'HIGH', f.path, imp.line, imp.column, rule, imp.optional ? `${msg} (optional: inside try/except ImportError)` : msg);
    if (imp.level > 0) {
      let base = posix.dirname(f.path);
      for (let i = 1; i < imp.level; i++) base = posix.dirname(base);
      const j = (p: string) => (base === '.' ? p : `${base}/${p}`);
      const modPath = imp.module.replace(/\./g, '/');
      const cands = imp.module
        ? [j(`${modPath}.py`), j(`${modPath}/__init__.py`), j(`${modPath}.pyi`)]
        : [j('__init__.py'), ...imp.names.flatMap((n) => [j(`${n}.py`), j(`${n}/__init__.py`)])];
      let ok = false;
      for (const c of cands) if ((ok = await localExists(project, c))) break;
      if (!ok && imp.module) ok = project.files.some((g) => g.path.startsWith(j(`${modPath}/`)));
      if (!ok) unresolved('dependency.unresolved-local', `relative import "${'.'.repeat(imp.level)}${imp.module}" does not resolve to a module`);
      continue;
    }
    const top = imp.module.split('.')[0];
    if (PY_STDLIB.has(top) || PYTHON_ALWAYS_AVAILABLE.has(top)) continue;
    if (isTest && (top === 'pytest' || top === '_pytest')) continue;
    if (localTops.has(top)) continue;
    let local = false;
    for (const c of pyLocalCandidates(f.path, top)) if ((local = await localExists(project, c))) break;
    if (local) continue;
    if (!declared) {
      const ms = await manifests.nearest(f.path, 'pypi');
      declared = { names: new Set(ms.flatMap((m) => [...m.deps.map((d) => normalizePyName(d.name)), ...(m.name ? [normalizePyName(m.name)] : [])])), manifests: ms };
    }
    const candidates = [...(PYTHON_IMPORT_TO_DIST[top] ?? []), top, `python-${top}`, `py${top}`, `${top}-python`].map(normalizePyName);
    if (candidates.some((c) => declared!.names.has(c))) continue;
    const where = declared.manifests.length ? `not declared in ${declared.manifests.map((m) => m.path).join(', ')}` : 'no requirements.txt or pyproject.toml declares it';
    const dist = PYTHON_IMPORT_TO_DIST[top]?.[0];
    const hint = dist
      ? ` It is provided by the "${dist}" distribution: declare it.`
      : nameIndexes().pypi.known.has(normalizePyName(top))
        ? ` "${top}" is a real PyPI package: declare it.`
        : hintFor('pypi', top);
    unresolved('dependency.unresolved', `"${top}" is imported but ${where}, and it is not in the standard library (hallucinated or missing dependency).${hint}`);
  }
}
