// Which parser a file goes through, from its name first and its shebang second.
import { posix } from 'node:path';

export type Language =
  | 'javascript'
  | 'typescript'
  | 'tsx'
  | 'python'
  | 'bash'
  | 'sh'
  | 'bats'
  | 'json'
  | 'jsonc'
  | 'yaml'
  | 'dockerfile'
  | 'requirements'
  | 'toml'
  | 'other';

// JSON files that tools read with comments and trailing commas allowed.
const JSONC_NAMES = new Set([
  'tsconfig.json',
  'jsconfig.json',
  '.eslintrc.json',
  '.babelrc',
  'devcontainer.json',
  '.devcontainer.json',
  'settings.json',
  'extensions.json',
  'launch.json',
  'tasks.json',
  'tslint.json',
  'api-extractor.json',
]);

const BY_EXT: Record<string, Language> = {
  '.js': 'javascript',
  '.mjs': 'javascript',
  '.cjs': 'javascript',
  '.jsx': 'javascript',
  '.ts': 'typescript',
  '.mts': 'typescript',
  '.cts': 'typescript',
  '.tsx': 'tsx',
  '.py': 'python',
  '.pyi': 'python',
  '.bash': 'bash',
  '.bats': 'bats',
  '.json': 'json',
  '.jsonc': 'jsonc',
  '.json5': 'other',
  '.yml': 'yaml',
  '.yaml': 'yaml',
  '.toml': 'toml',
  '.dockerfile': 'dockerfile',
};

export function shebangInterpreter(content: string): string | null {
  if (!content.startsWith('#!')) return null;
  const first = content.slice(2, content.indexOf('\n') === -1 ? undefined : content.indexOf('\n')).trim();
  const parts = first.split(/\s+/);
  let prog = posix.basename(parts[0] ?? '');
  // `#!/usr/bin/env -S node --flag` and `#!/usr/bin/env python3`
  if (prog === 'env') prog = posix.basename(parts.find((p, i) => i > 0 && !p.startsWith('-')) ?? '');
  return prog || null;
}

function byShebang(content: string): Language | null {
  const prog = shebangInterpreter(content);
  if (!prog) return null;
  if (/^(node|nodejs|deno|bun)$/.test(prog)) return 'javascript';
  if (/^(ts-node|tsx)$/.test(prog)) return 'typescript';
  if (/^python(\d(\.\d+)?)?$/.test(prog)) return 'python';
  if (prog === 'bash') return 'bash';
  if (/^(sh|dash|ash)$/.test(prog)) return 'sh';
  if (prog === 'bats') return 'bats';
  return null;
}

export function detectLanguage(path: string, content: string): Language {
  const base = posix.basename(path);
  const lower = base.toLowerCase();
  if (lower === 'dockerfile' || lower === 'containerfile' || lower.startsWith('dockerfile.')) return 'dockerfile';
  if (JSONC_NAMES.has(lower) || /^tsconfig\..*\.json$/.test(lower)) return 'jsonc';
  if (/^requirements.*\.(txt|in)$/.test(lower) || /^constraints.*\.txt$/.test(lower)) return 'requirements';
  if (lower.endsWith('.d.ts')) return 'typescript';
  const ext = posix.extname(lower);
  // A .sh file without a POSIX shebang is most often bash in practice; bash accepts POSIX scripts.
  if (ext === '.sh') return byShebang(content) === 'sh' ? 'sh' : 'bash';
  const known = BY_EXT[ext];
  if (known) return known;
  if (ext === '') return byShebang(content) ?? 'other';
  return 'other';
}

export function isCodeLanguage(l: Language): boolean {
  return l === 'javascript' || l === 'typescript' || l === 'tsx' || l === 'python' || l === 'bash' || l === 'sh';
}

export function isJsLike(l: Language): boolean {
  return l === 'javascript' || l === 'typescript' || l === 'tsx';
}

export function isShellLike(l: Language): boolean {
  return l === 'bash' || l === 'sh' || l === 'bats';
}

const TEST_DIR = /(^|\/)(test|tests|__tests__|spec|specs|e2e)\//;
const TEST_NAME = /(\.|_|-)(test|spec)\.[cm]?[jt]sx?$|^test_.*\.py$|_test\.py$|^conftest\.py$|\.bats$/;

/** A test file by the conventions of the common runners (tap, jest, vitest, mocha, node:test, pytest, bats). */
export function isTestPath(path: string): boolean {
  const p = path.replace(/\\/g, '/');
  return TEST_DIR.test(p) || TEST_NAME.test(posix.basename(p));
}
