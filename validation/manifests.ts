// Dependency manifests, parsed into one shape: package.json (npm), requirements*.txt and pyproject.toml
// ([project] dependencies / optional-dependencies, [dependency-groups], Poetry's tables). setup.py and Pipfile are
// not read: a Python project that declares its dependencies only there gets "undeclared import" findings.
import { posix } from 'node:path';
import { parse as parseToml } from 'smol-toml';

export type Ecosystem = 'npm' | 'pypi';
export type SpecKind = 'registry' | 'git' | 'url' | 'file' | 'workspace';

export interface DeclaredDependency {
  ecosystem: Ecosystem;
  /** As written. */
  name: string;
  /** Version range, tag, or URL; '' when none was given. */
  spec: string;
  kind: SpecKind;
  /** A version range with an upper bound (or an exact pin); false for '*', 'latest', '>=x', no version. */
  bounded: boolean;
  /** `npm:real-name@range` aliases: the package actually installed. */
  aliasOf?: string;
  section: string;
  line: number;
}

export interface Manifest {
  ecosystem: Ecosystem;
  path: string;
  dir: string;
  deps: DeclaredDependency[];
  /** package.json "name" / [project].name / [tool.poetry].name */
  name?: string;
  /** package.json "imports" keys (`#internal` specifiers). */
  importKeys?: string[];
  /** requirements `-r other.txt` / `-c` includes, as paths relative to the manifest's directory. */
  includes?: string[];
  /** `--extra-index-url` and friends (dependency confusion). */
  extraIndexes?: { url: string; line: number }[];
  errors: { line: number; message: string }[];
}

export function isManifestPath(path: string): boolean {
  const b = posix.basename(path).toLowerCase();
  return b === 'package.json' || b === 'pyproject.toml' || /^requirements.*\.(txt|in)$/.test(b);
}

/** PEP 503 normalised distribution name. */
export function normalizePyName(name: string): string {
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

function lineOf(content: string, index: number): number {
  if (index < 0) return 1;
  let n = 1;
  for (let i = 0; i < index && i < content.length; i++) if (content.charCodeAt(i) === 10) n++;
  return n;
}

function findLine(content: string, needles: string[], from = 0): number {
  for (const n of needles) {
    const i = content.indexOf(n, from);
    // A needle may start with the newline before the line it looks for.
    if (i >= 0) return lineOf(content, n.startsWith('\n') ? i + 1 : i);
  }
  return from > 0 ? lineOf(content, from) : 1;
}

// ---------------------------------------------------------------- npm

const NPM_DIST_TAGS = /^(latest|next|canary|beta|alpha|rc|dev|nightly|experimental|insiders)$/i;

/** Is an npm semver range bounded above? Every `||` alternative must be. */
export function npmRangeBounded(range: string): boolean {
  const r = range.trim();
  if (r === '' || r === '*' || /^[xX]$/.test(r) || NPM_DIST_TAGS.test(r)) return false;
  return r.split('||').every((alt) => {
    const a = alt.trim();
    if (a === '' || a === '*' || /^[xX]$/.test(a)) return false;
    // Hyphen ranges "1.0.0 - 2.0.0" are bounded.
    if (/\s-\s/.test(a)) return true;
    const parts = a.split(/\s+/).filter(Boolean);
    const hasLower = parts.some((p) => /^>=?/.test(p));
    const hasUpper = parts.some((p) => /^<=?/.test(p));
    if (hasLower && !hasUpper) return false;
    // A lone comparator-free version ("1.2.3", "^1.2", "~1", "1.x") is bounded.
    return true;
  });
}

export function classifyNpmSpec(spec: string): { kind: SpecKind; bounded: boolean; aliasOf?: string } {
  const s = spec.trim();
  if (s.startsWith('workspace:')) return { kind: 'workspace', bounded: true };
  if (s.startsWith('npm:')) {
    const rest = s.slice(4);
    const at = rest.lastIndexOf('@');
    const name = at > 0 ? rest.slice(0, at) : rest;
    const range = at > 0 ? rest.slice(at + 1) : '';
    return { kind: 'registry', bounded: npmRangeBounded(range), aliasOf: name };
  }
  if (/^(git\+|git:|github:|gitlab:|bitbucket:|gist:)/.test(s)) return { kind: 'git', bounded: false };
  if (/^https?:/i.test(s)) return { kind: 'url', bounded: false };
  if (/^(file:|link:|portal:|\.{0,2}\/|~\/)/.test(s)) return { kind: 'file', bounded: false };
  // GitHub shorthand "user/repo" or "user/repo#ref".
  if (/^[\w.-]+\/[\w.-]+(#.*)?$/.test(s)) return { kind: 'git', bounded: false };
  return { kind: 'registry', bounded: npmRangeBounded(s) };
}

const NPM_SECTIONS = ['dependencies', 'devDependencies', 'peerDependencies', 'optionalDependencies'] as const;

export function parsePackageJson(path: string, content: string): Manifest {
  const m: Manifest = { ecosystem: 'npm', path, dir: posix.dirname(path), deps: [], errors: [] };
  let json: unknown;
  try {
    json = JSON.parse(content.replace(/^\uFEFF/, ''));
  } catch (e) {
    m.errors.push({ line: 1, message: `package.json is not valid JSON: ${(e as Error).message}` });
    return m;
  }
  if (!json || typeof json !== 'object' || Array.isArray(json)) {
    m.errors.push({ line: 1, message: 'package.json is not an object' });
    return m;
  }
  const pkg = json as Record<string, unknown>;
  if (typeof pkg.name === 'string') m.name = pkg.name;
  if (pkg.imports && typeof pkg.imports === 'object') m.importKeys = Object.keys(pkg.imports);
  for (const section of NPM_SECTIONS) {
    const deps = pkg[section];
    if (deps === undefined) continue;
    if (!deps || typeof deps !== 'object' || Array.isArray(deps)) {
      m.errors.push({ line: findLine(content, [`"${section}"`]), message: `"${section}" is not an object` });
      continue;
    }
    const sectionAt = content.indexOf(`"${section}"`);
    for (const [name, spec] of Object.entries(deps as Record<string, unknown>)) {
      const line = findLine(content, [`"${name}"`], Math.max(sectionAt, 0));
      if (typeof spec !== 'string') {
        m.errors.push({ line, message: `${section}.${name} is not a string` });
        continue;
      }
      m.deps.push({ ecosystem: 'npm', name, spec, ...classifyNpmSpec(spec), section, line });
    }
  }
  return m;
}

// ---------------------------------------------------------------- Python (PEP 508)

const PY_NAME = /^([A-Za-z0-9]|[A-Za-z0-9][A-Za-z0-9._-]*[A-Za-z0-9])$/;

/** Bounded: an exact pin (==, ===, ~=) or an upper bound (<, <=). `==1.*` counts as bounded. */
export function pyRangeBounded(spec: string): boolean {
  const s = spec.replace(/\s+/g, '');
  if (s === '') return false;
  return s.split(',').some((c) => /^(===?|~=|<=?)/.test(c) && !/^<=?$/.test(c));
}

export interface Pep508 {
  name: string;
  spec: string;
  kind: SpecKind;
  bounded: boolean;
}

export function parsePep508(text: string): Pep508 | null {
  const noMarker = text.split(';')[0].trim();
  const at = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*@\s*(\S+)$/.exec(noMarker);
  if (at) {
    const url = at[3];
    return { name: at[1], spec: url, kind: /^git\+/.test(url) ? 'git' : /^file:/.test(url) ? 'file' : 'url', bounded: false };
  }
  const m = /^([A-Za-z0-9][A-Za-z0-9._-]*)\s*(\[[^\]]*\])?\s*(\(?\s*([<>=!~][^;]*?)\s*\)?)?\s*$/.exec(noMarker);
  if (!m || !PY_NAME.test(m[1])) return null;
  const spec = (m[4] ?? '').trim();
  return { name: m[1], spec, kind: 'registry', bounded: pyRangeBounded(spec) };
}

export function parseRequirements(content: string): {
  deps: Omit<DeclaredDependency, 'section'>[];
  includes: string[];
  extraIndexes: { url: string; line: number }[];
  errors: { line: number; message: string }[];
} {
  const deps: Omit<DeclaredDependency, 'section'>[] = [];
  const includes: string[] = [];
  const extraIndexes: { url: string; line: number }[] = [];
  const errors: { line: number; message: string }[] = [];
  const lines = content.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let text = lines[i];
    // Backslash continuations join physical lines.
    while (text.endsWith('\\') && i + 1 < lines.length) text = text.slice(0, -1) + ' ' + lines[++i];
    text = text.replace(/(^|\s)#.*$/, '').trim();
    if (text === '') continue;
    // Per-requirement options such as --hash are allowed after the requirement.
    const hashless = text.replace(/\s+--hash[=\s]\S+/g, '').trim();
    let m: RegExpExecArray | null;
    if ((m = /^(-r|--requirement|-c|--constraint)[=\s]+(\S+)$/.exec(hashless))) {
      includes.push(m[2]);
      continue;
    }
    if ((m = /^(--extra-index-url|--index-url|-i|--find-links|-f)[=\s]+(\S+)$/.exec(hashless))) {
      if (m[1] !== '--index-url' && m[1] !== '-i') extraIndexes.push({ url: m[2], line: lineNo });
      continue;
    }
    if (/^--?[a-z]/.test(hashless) && !/^(-e|--editable)[=\s]/.test(hashless)) continue; // other pip options
    const target = hashless.replace(/^(-e|--editable)[=\s]+/, '');
    if (/^(git\+|hg\+|svn\+|bzr\+|https?:|file:|\.{0,2}\/)/.test(target)) {
      const egg = /[#&]egg=([A-Za-z0-9._-]+)/.exec(target);
      const kind: SpecKind = /^git\+/.test(target) ? 'git' : /^https?:/.test(target) ? 'url' : /^(file:|\.{0,2}\/)/.test(target) ? 'file' : 'url';
      if (egg) deps.push({ ecosystem: 'pypi', name: egg[1], spec: target, kind, bounded: false, line: lineNo });
      else if (kind !== 'file') errors.push({ line: lineNo, message: 'URL requirement without #egg=<name>' });
      continue;
    }
    const r = parsePep508(target);
    if (!r) {
      errors.push({ line: lineNo, message: `not a valid requirement: ${target.slice(0, 60)}` });
      continue;
    }
    deps.push({ ecosystem: 'pypi', name: r.name, spec: r.spec, kind: r.kind, bounded: r.bounded, line: lineNo });
  }
  return { deps, includes, extraIndexes, errors };
}

export function parseRequirementsManifest(path: string, content: string): Manifest {
  const r = parseRequirements(content);
  return {
    ecosystem: 'pypi',
    path,
    dir: posix.dirname(path),
    deps: r.deps.map((d) => ({ ...d, section: 'requirements' })),
    includes: r.includes,
    extraIndexes: r.extraIndexes,
    errors: r.errors,
  };
}

// Poetry constraints: "^1.2", "~1.2", "1.2.*", ">=1,<2" and "*". Caret and tilde are bounded.
function poetryBounded(spec: string): boolean {
  const s = spec.trim();
  if (s === '' || s === '*') return false;
  if (/^[\^~]/.test(s) || /^\d/.test(s)) return true;
  return pyRangeBounded(s);
}

export function parsePyproject(path: string, content: string): Manifest {
  const m: Manifest = { ecosystem: 'pypi', path, dir: posix.dirname(path), deps: [], errors: [] };
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(content);
  } catch (e) {
    const err = e as { line?: number; message?: string };
    m.errors.push({ line: err.line ?? 1, message: `pyproject.toml is not valid TOML: ${(err.message ?? '').split('\n')[0]}` });
    return m;
  }
  const obj = (v: unknown): Record<string, unknown> | undefined =>
    v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  const pep508List = (list: unknown, section: string, headerNeedle: string) => {
    if (!Array.isArray(list)) return;
    const from = Math.max(content.indexOf(headerNeedle), 0);
    for (const item of list) {
      if (typeof item !== 'string') continue; // PEP 735 {include-group = ...}
      const r = parsePep508(item);
      const line = findLine(content, [`"${item}"`, `'${item}'`], from);
      if (!r) m.errors.push({ line, message: `not a valid requirement: ${item.slice(0, 60)}` });
      else m.deps.push({ ecosystem: 'pypi', name: r.name, spec: r.spec, kind: r.kind, bounded: r.bounded, section, line });
    }
  };
  const project = obj(doc.project);
  if (project) {
    if (typeof project.name === 'string') m.name = project.name;
    pep508List(project.dependencies, 'project.dependencies', 'dependencies');
    const opt = obj(project['optional-dependencies']);
    for (const [k, v] of Object.entries(opt ?? {})) pep508List(v, `project.optional-dependencies.${k}`, 'optional-dependencies');
  }
  for (const [k, v] of Object.entries(obj(doc['dependency-groups']) ?? {})) pep508List(v, `dependency-groups.${k}`, 'dependency-groups');

  const poetry = obj(obj(doc.tool)?.poetry);
  if (poetry) {
    if (typeof poetry.name === 'string' && !m.name) m.name = poetry.name;
    const tables: [string, Record<string, unknown> | undefined][] = [
      ['tool.poetry.dependencies', obj(poetry.dependencies)],
      ['tool.poetry.dev-dependencies', obj(poetry['dev-dependencies'])],
    ];
    for (const [g, t] of Object.entries(obj(poetry.group) ?? {})) tables.push([`tool.poetry.group.${g}.dependencies`, obj(obj(t)?.dependencies)]);
    for (const [section, table] of tables) {
      if (!table) continue;
      const header = `[${section}]`;
      const from = Math.max(content.indexOf(header), 0);
      for (const [name, v] of Object.entries(table)) {
        if (name.toLowerCase() === 'python') continue;
        const line = findLine(content, [`\n${name} `, `\n${name}=`, `"${name}"`], from);
        const specs = Array.isArray(v) ? v : [v];
        let kind: SpecKind = 'registry';
        let spec = '';
        let bounded = true;
        for (const s of specs) {
          if (typeof s === 'string') {
            spec = s;
            bounded &&= poetryBounded(s);
          } else if (obj(s)) {
            const t = obj(s)!;
            if (typeof t.git === 'string') {
              kind = 'git';
              spec = t.git;
              bounded = false;
            } else if (typeof t.url === 'string') {
              kind = 'url';
              spec = t.url;
              bounded = false;
            } else if (typeof t.path === 'string') {
              kind = 'file';
              spec = t.path;
              bounded = false;
            } else {
              spec = typeof t.version === 'string' ? t.version : '';
              bounded &&= poetryBounded(spec);
            }
          }
        }
        m.deps.push({ ecosystem: 'pypi', name, spec, kind, bounded, section, line });
      }
    }
  }
  return m;
}

export function parseManifest(path: string, content: string): Manifest | null {
  const b = posix.basename(path).toLowerCase();
  if (b === 'package.json') return parsePackageJson(path, content);
  if (b === 'pyproject.toml') return parsePyproject(path, content);
  if (/^requirements.*\.(txt|in)$/.test(b)) return parseRequirementsManifest(path, content);
  return null;
}
