// The dependency validator's package lists are data (validation/data/), read at run time; they are in the form
// scripts/gen-package-lists.mjs writes, and hold what the lists written as code held (8000 npm and 8000 PyPI names,
// most popular first; 320 stdlib modules; 65 known-malicious packages).
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';
import { MALICIOUS_PACKAGES, POPULAR_NPM, POPULAR_PYPI, PYTHON_ALWAYS_AVAILABLE, PYTHON_IMPORT_TO_DIST, PYTHON_STDLIB } from '../../validation/package-lists.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

t.test('the data files are in the generator’s normal form', async (t) => {
  t.doesNotThrow(() => execFileSync(process.execPath, ['scripts/gen-package-lists.mjs', '--check'], { cwd: root, stdio: 'pipe' }));
});

t.test('the lists load with their order and sizes', async (t) => {
  t.equal(POPULAR_NPM.length, 8000);
  t.same(POPULAR_NPM.slice(0, 3), ['semver', 'ansi-styles', 'debug'], 'most downloaded first');
  t.equal(POPULAR_PYPI.length, 8000);
  t.same(POPULAR_PYPI.slice(0, 3), ['boto3', 'packaging', 'urllib3']);
  t.equal(PYTHON_STDLIB.length, 320);
  t.ok(PYTHON_STDLIB.includes('distutils'), 'modules removed in 3.12 still resolve');
  t.equal(MALICIOUS_PACKAGES.length, 65);
  t.match(MALICIOUS_PACKAGES.find((m) => m.name === 'event-stream'), { ecosystem: 'npm', versions: ['3.3.6'] });
  t.same(PYTHON_IMPORT_TO_DIST.yaml, ['pyyaml']);
  t.ok(PYTHON_ALWAYS_AVAILABLE.has('pip'));
  for (const list of [POPULAR_NPM, POPULAR_PYPI, PYTHON_STDLIB]) t.ok(list.every((n) => n !== '' && !n.startsWith('#') && n.trim() === n));
});
