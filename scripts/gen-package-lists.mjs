#!/usr/bin/env node
// Writes the dependency validator's name lists under validation/data/ (one name a line, `#` lines are comments):
//   npm-popular.txt   npm packages, most downloaded first
//   pypi-popular.txt  PyPI projects, most downloaded first
//   python-stdlib.txt top-level modules of the Python standard library
// The validator reads them at run time (validation/package-lists.ts); order matters in the popular lists (the head
// is the set of typosquat targets).
//
// What this script does, honestly: it does NOT reach any registry itself. The lists in the repository were taken in
// 2026 (npm: monthly download counts; PyPI: the monthly top-projects ranking published by hugovk/top-pypi-packages;
// stdlib: the union of sys.stdlib_module_names of CPython 3.10-3.13). To refresh them, download the statistics by
// hand and give the files to this script:
//   --npm-counts FILE   JSON of {name: count} or api.npmjs.org's bulk answer {name: {downloads}} (from
//                       https://api.npmjs.org/downloads/point/last-month/<name>,<name>,… in batches of 128; the
//                       names to ask about are the current list plus any candidates). Ranked by count, top --limit.
//   --pypi-top FILE     top-pypi-packages-30-days.json ({rows: [{project, download_count}]}), top --limit.
//   --stdlib            add the local python3's sys.stdlib_module_names (3.10+) to the stdlib list (a union, so
//                       modules removed in later versions keep resolving).
// Without options it rewrites the current files in normal form (trimmed, de-duplicated, order kept, header);
// --check exits 1 when a file is not in that form (nothing is written).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dataDir = path.join(root, 'validation/data');

const HEADERS = {
  'npm-popular.txt': 'npm packages, most downloaded first (monthly downloads, taken 2026). Regenerate: scripts/gen-package-lists.mjs',
  'pypi-popular.txt': 'PyPI projects, most downloaded first (monthly top-projects ranking, taken 2026). Regenerate: scripts/gen-package-lists.mjs',
  'python-stdlib.txt': 'Python standard library top-level modules: union of sys.stdlib_module_names of CPython 3.10-3.13. Regenerate: scripts/gen-package-lists.mjs --stdlib',
};

const args = process.argv.slice(2);
const opt = (name) => {
  const i = args.indexOf(name);
  return i < 0 ? undefined : args[i + 1];
};
const check = args.includes('--check');
const limit = Number(opt('--limit') ?? 8000);

function readList(file) {
  const p = path.join(dataDir, file);
  if (!fs.existsSync(p)) return [];
  return fs
    .readFileSync(p, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
}

const uniq = (names) => [...new Set(names)];

function render(file, names) {
  return `# ${HEADERS[file]}\n${names.join('\n')}\n`;
}

const lists = {
  'npm-popular.txt': readList('npm-popular.txt'),
  'pypi-popular.txt': readList('pypi-popular.txt'),
  'python-stdlib.txt': readList('python-stdlib.txt'),
};

const npmCounts = opt('--npm-counts');
if (npmCounts) {
  const raw = JSON.parse(fs.readFileSync(npmCounts, 'utf8'));
  const count = (v) => (typeof v === 'number' ? v : typeof v?.downloads === 'number' ? v.downloads : -1);
  lists['npm-popular.txt'] = Object.entries(raw)
    .map(([name, v]) => [name, count(v)])
    .filter(([, n]) => n >= 0)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, limit)
    .map(([name]) => name);
}
const pypiTop = opt('--pypi-top');
if (pypiTop) {
  const raw = JSON.parse(fs.readFileSync(pypiTop, 'utf8'));
  lists['pypi-popular.txt'] = [...raw.rows]
    .sort((a, b) => b.download_count - a.download_count)
    .slice(0, limit)
    .map((r) => String(r.project).toLowerCase());
}
if (args.includes('--stdlib')) {
  const out = execFileSync('python3', ['-c', 'import sys; print("\\n".join(sorted(sys.stdlib_module_names)))'], { encoding: 'utf8' });
  lists['python-stdlib.txt'] = [...new Set([...lists['python-stdlib.txt'], ...out.split('\n').filter(Boolean)])].sort();
}

let stale = 0;
for (const [file, names] of Object.entries(lists)) {
  const text = render(file, uniq(names));
  const p = path.join(dataDir, file);
  const current = fs.existsSync(p) ? fs.readFileSync(p, 'utf8') : '';
  if (current === text) continue;
  if (check) {
    console.error(`gen-package-lists: ${path.relative(root, p)} is not in normal form (run node scripts/gen-package-lists.mjs)`);
    stale++;
  } else {
    fs.mkdirSync(dataDir, { recursive: true });
    fs.writeFileSync(p, text);
    console.log(`gen-package-lists: wrote ${path.relative(root, p)} (${uniq(names).length} names)`);
  }
}
process.exit(stale ? 1 : 0);
