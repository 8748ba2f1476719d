// The acceptance corpus: small projects across the languages, each with the decision (and where it matters the
// exact score) the table says. Clean code approves; each blocking class rejects; the boundary scores 29/30/69/70 land
// where decide() puts them; the regressions of the original (all tests failing, hallucinated import without tests,
// missing dependency plus failing tests, a MEDIUM alone, a missing file) stay fixed. No result carries a secret.
import t from 'tap';
import { validateOutput } from '../../validation/validate-output.js';
import type { Decision, SourceFile, ValidationInput } from '../../validation/types.js';
import { FAKE_AWS_ID, FAKE_GITHUB_TOKEN, FAKE_PASSWORD, j } from './fixtures/helpers.js';

interface Project {
  name: string;
  files: SourceFile[];
  input?: Omit<ValidationInput, 'files'>;
  decision: Decision;
  score?: number;
  /** Rules that must be among the findings. */
  rules?: string[];
  /** Rules that must not be. */
  notRules?: string[];
}

const SECRETS = [FAKE_AWS_ID, FAKE_GITHUB_TOKEN, FAKE_PASSWORD];

const npm = (deps: Record<string, string>, dev: Record<string, string> = {}, extra: Record<string, unknown> = {}): SourceFile => ({
  path: 'package.json',
  content: JSON.stringify({ name: 'svc', version: '1.0.0', type: 'module', ...extra, dependencies: deps, devDependencies: dev }, null, 2) + '\n',
});
const f = (path: string, ...lines: string[]): SourceFile => ({ path, content: lines.join('\n') + '\n' });
const tap = (n: number, failing = 0): string =>
  ['TAP version 14', `1..${n}`, ...Array.from({ length: n }, (_, i) => `${i < failing ? 'not ok' : 'ok'} ${i + 1} - case ${i + 1}`)].join('\n') + '\n';
const junit = (n: number, failing = 0): string =>
  `<?xml version="1.0"?>\n<testsuite name="s" tests="${n}" failures="${failing}">\n` +
  Array.from({ length: n }, (_, i) => (i < failing ? `<testcase name="t${i}"><failure message="x"/></testcase>` : `<testcase name="t${i}"/>`)).join('\n') +
  '\n</testsuite>\n';

// A small clean TypeScript service used by several rows.
const TS_APP = f('src/app.ts', "import express from 'express';", "import { greet } from './greet.js';", 'export const app = express();', "app.get('/', (_req, res) => { res.send(greet('you')); });");
const TS_GREET = f('src/greet.ts', 'export function greet(name: string): string {', '  return `hello ${name}`;', '}');
const TS_TEST = f('test/greet.test.ts', "import t from 'tap';", "import { greet } from '../src/greet.js';", "t.equal(greet('a'), 'hello a');");
const TS_PKG = npm({ express: '^4.18.2' }, { tap: '^21.0.0', typescript: '~6.0.3' });
const TS_CLEAN = [TS_PKG, TS_APP, TS_GREET, TS_TEST];

const PY_REQ = f('requirements.txt', 'flask==3.0.0', 'requests>=2.31,<3');
const PY_APP = f('app/main.py', 'import os', 'import requests', 'from flask import Flask', 'from .util import slug', '', 'app = Flask(__name__)', '', '@app.get("/")', 'def index():', '    return slug(os.environ.get("NAME", "x"))');
const PY_UTIL = f('app/util.py', 'def slug(s: str) -> str:', '    return s.lower().replace(" ", "-")');
const PY_INIT = f('app/__init__.py', '');
const PY_TEST = f('tests/test_util.py', 'from app.util import slug', '', 'def test_slug():', '    assert slug("A B") == "a-b"');
const PY_CLEAN = [PY_REQ, PY_APP, PY_UTIL, PY_INIT, PY_TEST];

const unpinned = (n: number, offset = 0) => Object.fromEntries(Array.from({ length: n }, (_, i) => [['left-pad', 'chalk', 'ms', 'debug', 'semver', 'uuid', 'dotenv', 'yargs', 'commander', 'glob'][i + offset], '*']));
const evalLiterals = (n: number) => Array.from({ length: n }, (_, i) => `export const v${i} = eval("${i} + 1");`);
const skips = (n: number) => ["import t from 'tap';", ...Array.from({ length: n }, (_, i) => `t.skip('case ${i}', async () => {});`), "t.test('real', async () => {});"];

const CORPUS: Project[] = [
  // ------------------------------------------------ clean code approves
  { name: 'TypeScript service with tests and passing TAP', files: TS_CLEAN, input: { test_results: tap(4) }, decision: 'AUTO_APPROVE', score: 100 },
  { name: 'TypeScript service with tests, no results', files: TS_CLEAN, decision: 'AUTO_APPROVE', score: 90 },
  { name: 'CommonJS library with jest-style test', decision: 'AUTO_APPROVE', score: 90, files: [
    npm({ lodash: '^4.17.21' }, { jest: '^29.7.0' }, { type: 'commonjs' }),
    f('lib/index.js', "const fs = require('fs');", "const _ = require('lodash');", "const { join } = require('node:path');", 'module.exports = (p) => _.uniq(fs.readdirSync(join(p, ".")));'),
    f('lib/index.test.js', "const list = require('./index');", "test('lists', () => { expect(list('.')).toBeDefined(); });"),
  ] },
  { name: 'React TSX component with vitest', decision: 'AUTO_APPROVE', input: { test_results: 'Tests  3 passed (3)\n' }, score: 100, files: [
    npm({ react: '^18.2.0' }, { vitest: '^1.6.0', '@testing-library/react': '^15.0.0' }),
    f('src/Button.tsx', "import React from 'react';", 'export function Button({ label }: { label: string }) {', '  return <button type="button">{label}</button>;', '}'),
    f('src/Button.test.tsx', "import { it, expect } from 'vitest';", "import { render } from '@testing-library/react';", "import { Button } from './Button';", "it('renders', () => { expect(render(<Button label=\"x\" />)).toBeTruthy(); });"),
  ] },
  { name: 'npm workspace importing a sibling package by name', decision: 'AUTO_APPROVE', files: [
    { path: 'packages/core/package.json', content: JSON.stringify({ name: '@acme/core', version: '1.0.0' }) },
    f('packages/core/index.js', 'export const one = 1;'),
    { path: 'packages/web/package.json', content: JSON.stringify({ name: '@acme/web', dependencies: { '@acme/core': 'workspace:*' } }) },
    f('packages/web/index.js', "import { one } from '@acme/core';", 'export const two = one + 1;'),
    f('packages/web/index.test.js', "import { two } from './index.js';", "import assert from 'node:assert';", 'assert.equal(two, 2);'),
  ] },
  { name: 'Flask app with pytest and a passing pytest summary', files: PY_CLEAN, input: { test_results: '==== 5 passed in 0.12s ====\n' }, decision: 'AUTO_APPROVE', score: 100 },
  { name: 'Poetry project with JUnit results', decision: 'AUTO_APPROVE', input: { test_results: junit(6) }, score: 100, files: [
    f('pyproject.toml', '[tool.poetry]', 'name = "calc"', '', '[tool.poetry.dependencies]', 'python = "^3.11"', 'pydantic = "^2.6"', 'PyYAML = "^6.0"'),
    f('calc/__init__.py', ''),
    f('calc/core.py', 'import yaml', 'from pydantic import BaseModel', 'from . import units', '', 'class Cfg(BaseModel):', '    n: int', '', 'def load(s):', '    return Cfg(**yaml.safe_load(s))'),
    f('calc/units.py', 'M = 1'),
    f('tests/test_core.py', 'from calc.core import load', '', 'def test_load():', '    assert load("n: 1").n == 1'),
  ] },
  { name: 'POSIX deploy script alone (no tests: lower score, still approved)', decision: 'AUTO_APPROVE', score: 80, files: [
    f('scripts/deploy.sh', '#!/bin/sh', 'set -eu', 'for f in dist/*.js; do', '  [ -f "$f" ] && cp "$f" /srv/app/', 'done', 'chmod 755 /srv/app/run'),
  ] },
  { name: 'Dockerfile and compose, hardened', decision: 'AUTO_APPROVE', score: 100, files: [
    f('Dockerfile', 'FROM node:20.11-slim AS build', 'WORKDIR /app', 'COPY . .', 'RUN npm ci && npm run build', 'FROM node:20.11-slim', 'COPY --from=build /app/dist /app', 'USER node', 'CMD ["node", "/app/index.js"]'),
    f('docker-compose.yml', 'services:', '  web:', '    build: .', '    read_only: true', '    cap_drop: [ALL]', '    volumes:', '      - ./data:/data', '    environment:', '      - DOCKER_HOST=unix:///var/run/docker.sock'),
  ] },
  { name: 'configuration only: JSON, YAML, tsconfig', decision: 'AUTO_APPROVE', score: 100, files: [
    f('config/app.json', '{ "port": 8080, "features": ["a", "b"] }'),
    f('.github/workflows/ci.yml', 'on: push', 'jobs:', '  test:', '    runs-on: ubuntu-latest', '    steps:', '      - run: npm test'),
    f('tsconfig.json', '{', '  // strict everywhere', '  "compilerOptions": { "strict": true, },', '}'),
  ] },
  { name: 'regression: a MEDIUM finding alone is not auto-rejected', files: [...TS_CLEAN.slice(1), npm({ express: '^4.18.2', chalk: '*' }, { tap: '^21.0.0' })], decision: 'AUTO_APPROVE', rules: ['dependency.unpinned'] },
  { name: 'exec in comments, strings and fixtures does not fire', decision: 'AUTO_APPROVE', files: [
    npm({}, { tap: '^21.0.0' }),
    f('src/docs.ts', '// never call exec(userInput) or eval(x)', 'export const WARNING = "exec(cmd) and eval(code) are banned";', 'const re = /(\\d+)/;', 'export const first = (s: string) => re.exec(s)?.[1];'),
    f('test/fixtures.test.ts', "import t from 'tap';", 't.equal("os.system(cmd)".length, 14);', "t.equal('curl x | sh'.length, 11);"),
    f('tools/notes.py', '# eval(x) is forbidden', 'DOC = "pickle.loads(data) and yaml.load(s) are unsafe"'),
  ] },
  { name: 'Python with optional import fallback', decision: 'AUTO_APPROVE', rules: ['dependency.unresolved'], files: [
    f('requirements.txt', 'requests==2.31.0'),
    f('svc/fast.py', 'try:', '    import orjson as json', 'except ImportError:', '    import json', 'import requests'),
    f('tests/test_fast.py', 'import svc.fast'),
  ] },

  // ------------------------------------------------ each blocking class rejects
  { name: 'syntax: TypeScript', files: [...TS_CLEAN.slice(0, 2), f('src/greet.ts', 'export function greet(name: string {', '  return name;', '}'), TS_TEST], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'syntax: Python', files: [PY_REQ, PY_INIT, PY_UTIL, PY_TEST, f('app/main.py', 'def index(:', '    return 1')], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'syntax: YAML workflow', files: [f('.github/workflows/ci.yml', 'on: push', 'jobs:', '  test: runs-on: ubuntu')], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'syntax: Dockerfile', files: [f('Dockerfile', 'FROM node:20', 'COPPY . /app', 'USER node')], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'syntax: bash', files: [f('run.sh', '#!/bin/bash', 'case "$1" in', '  a) echo a ;;')], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'syntax: package.json', files: [{ path: 'package.json', content: '{ "name": "x", }' }, f('index.js', 'export const a = 1;')], decision: 'AUTO_REJECT', rules: ['syntax.parse-error'] },
  { name: 'security: eval of request data', files: [...TS_CLEAN.slice(0, 3), TS_TEST, f('src/calc.ts', 'export const calc = (expr: string) => eval(expr);')], decision: 'AUTO_REJECT', rules: ['js.eval'] },
  { name: 'security: child_process with a template command', files: [npm({}), f('src/git.js', "import { execSync } from 'node:child_process';", 'export const log = (ref) => execSync(`git log ${ref}`).toString();')], decision: 'AUTO_REJECT', rules: ['js.child-process'] },
  { name: 'security: Python pickle and yaml.load', files: [PY_REQ, PY_INIT, PY_TEST, PY_UTIL, f('app/main.py', 'import pickle', 'import yaml', 'def load(b, s):', '    return pickle.loads(b), yaml.load(s)')], decision: 'AUTO_REJECT', rules: ['py.pickle-load', 'py.yaml-load'] },
  { name: 'security: SQL by f-string', files: [PY_REQ, PY_INIT, PY_TEST, PY_UTIL, f('app/main.py', 'import sqlite3', 'def find(name):', '    con = sqlite3.connect("a.db")', '    return con.execute(f"SELECT * FROM users WHERE name = \'{name}\'").fetchall()')], decision: 'AUTO_REJECT', rules: ['py.sql-built'] },
  { name: 'security: curl | sh in an install script', files: [f('install.sh', '#!/bin/sh', 'curl -fsSL https://get.example.com/install.sh | sh')], decision: 'AUTO_REJECT', rules: ['sh.curl-pipe-shell'] },
  { name: 'security: rm -rf of an unguarded variable', files: [f('clean.sh', '#!/bin/bash', 'rm -rf "$PREFIX/"*')], decision: 'AUTO_REJECT', rules: ['sh.rm-rf-root'] },
  { name: 'security: privileged compose service with the Docker socket', files: [f('compose.yaml', 'services:', '  agent:', '    image: agent:1.0', '    privileged: true', '    volumes:', '      - /var/run/docker.sock:/var/run/docker.sock')], decision: 'AUTO_REJECT', rules: ['compose.privileged', 'compose.docker-socket'] },
  { name: 'security: Dockerfile running as root with a remote ADD', files: [f('Dockerfile', 'FROM python:3.12-slim', 'ADD https://example.com/tool.tgz /opt/', 'USER root', 'CMD ["python", "-m", "app"]')], decision: 'AUTO_REJECT', rules: ['docker.user-root', 'docker.add-remote'] },
  { name: 'security: AWS key in code', files: [...TS_CLEAN, f('src/aws.ts', `export const AWS_ACCESS_KEY_ID = "${FAKE_AWS_ID}";`)], decision: 'AUTO_REJECT', rules: ['secret.aws_access_key_id'] },
  { name: 'security: token and password in a .env file', files: [f('.env', `GITHUB_TOKEN=${FAKE_GITHUB_TOKEN}`, `DB_PASSWORD=${FAKE_PASSWORD}`), f('README.md', '# svc')], decision: 'AUTO_REJECT' },
  { name: 'regression: hallucinated import with no tests', files: [TS_PKG, f('src/pay.ts', "import { charge } from 'stripe-payments-simplified';", 'export const pay = (n: number) => charge(n);')], decision: 'AUTO_REJECT', rules: ['dependency.unresolved'] },
  { name: 'dependency: hallucinated Python package', files: [PY_REQ, PY_INIT, PY_UTIL, PY_TEST, f('app/main.py', 'from flask import Flask', 'import flask_superauth_pro', 'app = Flask(__name__)')], decision: 'AUTO_REJECT', rules: ['dependency.unresolved'] },
  { name: 'dependency: typosquat in package.json', files: [npm({ expresss: '^4.18.2' }), f('index.js', "import e from 'expresss';", 'export default e;')], decision: 'AUTO_REJECT', rules: ['dependency.typosquat'] },
  { name: 'dependency: known-malicious requirement', files: [f('requirements.txt', 'python3-dateutil==2.8.1'), f('a.py', 'import dateutil')], decision: 'AUTO_REJECT', rules: ['dependency.malicious'] },
  { name: 'dependency: relative import of a file that is not there', files: [TS_PKG, f('src/app.ts', "import { x } from './nothing.js';", 'export const y = x;')], decision: 'AUTO_REJECT', rules: ['dependency.unresolved-local'] },
  { name: 'regression: all tests failing', files: TS_CLEAN, input: { test_results: tap(4, 4) }, decision: 'AUTO_REJECT', rules: ['test.failed'] },
  { name: 'tests: one JUnit failure', files: PY_CLEAN, input: { test_results: junit(5, 1) }, decision: 'AUTO_REJECT', rules: ['test.failed'] },
  { name: 'tests: fewer tests than expected', files: TS_CLEAN, input: { test_results: tap(3), expected_total: 10 }, decision: 'AUTO_REJECT', rules: ['test.count-short'] },
  { name: 'tests: runTests re-run fails', files: TS_CLEAN, input: { runTests: async () => ({ exitCode: 1, output: tap(4, 1) }) }, decision: 'AUTO_REJECT', rules: ['test.failed'] },
  { name: 'regression: missing dependency plus failing tests', files: [TS_PKG, TS_GREET, TS_TEST, f('src/app.ts', "import express from 'express';", "import helmet from 'helmet';", 'export const app = express().use(helmet());')], input: { test_results: tap(4, 2) }, decision: 'AUTO_REJECT', rules: ['dependency.unresolved', 'test.failed'] },
  { name: 'regression: a listed file that does not exist', files: TS_CLEAN, input: { paths: ['src/ghost.ts'], readFile: async () => { throw Object.assign(new Error('no such file'), { code: 'ENOENT' }); } }, decision: 'AUTO_REJECT', rules: ['syntax.file-unreadable'] },
  { name: 'a listed file that cannot be read', files: [], input: { paths: ['src/secret.ts'], readFile: async () => { throw Object.assign(new Error('denied'), { code: 'EACCES' }); } }, decision: 'AUTO_REJECT', rules: ['syntax.file-unreadable'] },
  { name: 'a high score does not save a HIGH finding', files: [...TS_CLEAN, f('src/tls.ts', "import https from 'node:https';", "export const agent = new https.Agent({ rejectUnauthorized: false });")], input: { test_results: tap(4) }, decision: 'AUTO_REJECT', score: 88, rules: ['js.tls-unverified'] },

  // ------------------------------------------------ boundaries and manual review
  // 25 + 30·0.8 (2 MEDIUM) + 20·0.3 (7 MEDIUM) + 25·0.6 (tests, no results) = 70
  { name: 'boundary: score 70 approves', decision: 'AUTO_APPROVE', score: 70, files: [npm(unpinned(7)), f('src/a.ts', ...evalLiterals(2)), f('src/a.test.ts', "import './a.js';")] },
  // 25 + 30·0.7 (3 MEDIUM) + 20·0.4 (6 MEDIUM) + 25·0.6 = 69
  { name: 'boundary: score 69 needs review', decision: 'MANUAL_REVIEW', score: 69, files: [npm(unpinned(6)), f('src/a.ts', ...evalLiterals(3)), f('src/a.test.ts', "import './a.js';")] },
  // 25 + 0 (10 MEDIUM) + 0 (10 MEDIUM) + 25·0.2 (60 − 4 skipped) = 30
  { name: 'boundary: score 30 needs review', decision: 'MANUAL_REVIEW', score: 30, files: [npm(unpinned(10), { tap: '^21.0.0' }), f('src/a.ts', ...evalLiterals(10)), f('test/a.test.ts', ...skips(4))] },
  // 25 + 0 (10 MEDIUM) + 20·0.2 (8 MEDIUM) + 0 (60 − 6 skipped) = 29
  { name: 'boundary: score 29 needs review (no blocking issue, so not rejected)', decision: 'MANUAL_REVIEW', score: 29, files: [npm(unpinned(8), { tap: '^21.0.0' }), f('src/a.ts', ...evalLiterals(10)), f('test/a.test.ts', ...skips(6))] },
  { name: 'focused test and skipped tests with medium findings need review', decision: 'MANUAL_REVIEW', files: [
    npm({ ...unpinned(5) }, { jest: '^29.7.0' }),
    f('src/sum.js', 'export const sum = (a, b) => a + b;', ...Array.from({ length: 4 }, (_, i) => `export const c${i} = eval("${i}");`)),
    f('src/sum.test.js', "import { sum } from './sum.js';", "describe.only('sum', () => {", "  it.skip('adds', () => expect(sum(1, 2)).toBe(3));", "  xit('adds more', () => {});", '});'),
  ], rules: ['test.focused', 'test.skipped'] },
];

t.test('the corpus has at least 40 projects', async (t) => {
  t.ok(CORPUS.length >= 40, `${CORPUS.length} projects`);
  const languages = new Set(CORPUS.flatMap((p) => p.files.map((x) => x.path.split('.').pop())));
  for (const ext of ['ts', 'tsx', 'js', 'py', 'sh', 'json', 'yml', 'toml', 'txt']) t.ok(languages.has(ext), `covers .${ext}`);
  t.ok(CORPUS.some((p) => p.files.some((x) => x.path === 'Dockerfile')), 'covers Dockerfile');
});

for (const p of CORPUS) {
  t.test(p.name, async (t) => {
    const r = await validateOutput({ files: p.files, ...p.input });
    const found = new Set(r.findings.map((x) => x.rule));
    t.equal(r.decision, p.decision, `decision (score ${r.score}; ${r.blocking_issues.slice(0, 3).join(' | ')})`);
    if (p.score !== undefined) t.equal(r.score, p.score, 'score');
    for (const rule of p.rules ?? []) t.ok(found.has(rule), `finds ${rule}`);
    for (const rule of p.notRules ?? []) t.notOk(found.has(rule), `does not find ${rule}`);
    if (p.decision === 'AUTO_REJECT') t.ok(r.blocking_issues.length > 0, 'says why');
    else t.same(r.blocking_issues, [], 'no blocking issue');
    t.ok(r.score >= 0 && r.score <= 100);
    const text = JSON.stringify(r);
    for (const s of SECRETS) t.notOk(text.includes(s), 'no secret in the result');
    t.notOk(text.includes(j('AKIA', 'Z3MS')), 'not even a long prefix of one');
  });
}
