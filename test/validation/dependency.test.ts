// Dependency validator: import resolution (relative, built-in, declared, optional, aliases, Python import names),
// manifest parsing (package.json, requirements, pyproject [project] and Poetry), typosquats, denylist, pinning.
import t from 'tap';
import { typosquatTarget, validateDependencies } from '../../validation/dependency-validator.js';
import { editDistance } from '../../validation/edit-distance.js';
import { classifyNpmSpec, parsePep508, parsePyproject, parseRequirements, pyRangeBounded } from '../../validation/manifests.js';
import { buildProject } from '../../validation/project.js';
import type { Finding, SourceFile } from '../../validation/types.js';

async function deps(files: SourceFile[], extra: { fileExists?: (p: string) => Promise<boolean>; readFile?: (p: string) => Promise<string> } = {}): Promise<Finding[]> {
  const p = await buildProject(files, extra);
  try {
    return (await validateDependencies(p)).findings;
  } finally {
    p.dispose();
  }
}
const rules = (f: Finding[]) => f.map((x) => `${x.rule}@${x.file}:${x.line}`).sort();
const pkg = (deps: Record<string, string>, extra: Record<string, unknown> = {}): SourceFile => ({ path: 'package.json', content: JSON.stringify({ name: 'app', ...extra, dependencies: deps }, null, 2) });

t.test('edit distance counts adjacent swaps as one edit', async (t) => {
  t.equal(editDistance('lodash', 'lodahs'), 1);
  t.equal(editDistance('requests', 'reqeusts'), 1);
  t.equal(editDistance('colorama', 'colourama'), 1);
  t.equal(editDistance('express', 'expresss'), 1);
  t.equal(editDistance('abc', 'xyz'), 3);
  t.equal(editDistance('abcdef', 'uvwxyz', 2), 3, 'cut off at max + 1');
  t.equal(editDistance('', 'ab'), 2);
});

t.test('typosquat targets', async (t) => {
  const cases: [('npm' | 'pypi'), string, string | null][] = [
    ['npm', 'lodahs', 'lodash'],
    ['npm', 'expresss', 'express'],
    ['npm', 'reacct', 'react'],
    ['npm', 'lodash', null],
    ['npm', 'react-dom', null],
    ['npm', 'zod', null],
    ['npm', 'my-company-internal-thing', null],
    ['pypi', 'reqeusts', 'requests'],
    ['pypi', 'requests', null],
    ['pypi', 'Requests', null],
    ['pypi', 'python_dateutil', null],
    ['pypi', 'nunpy', 'numpy'],
    ['pypi', 'flask', null],
  ];
  for (const [eco, name, want] of cases) t.equal(typosquatTarget(eco, name), want, `${eco} ${name}`);
});

t.test('npm specs: registry ranges, tags, git/url/file', async (t) => {
  const cases: [string, string, boolean][] = [
    ['^4.18.2', 'registry', true],
    ['~1.2.3', 'registry', true],
    ['1.2.3', 'registry', true],
    ['1.x', 'registry', true],
    ['>=1.0.0 <2.0.0', 'registry', true],
    ['1.0.0 - 2.0.0', 'registry', true],
    ['*', 'registry', false],
    ['', 'registry', false],
    ['latest', 'registry', false],
    ['>=1.0.0', 'registry', false],
    ['^1.0.0 || >=3', 'registry', false],
    ['git+https://github.com/a/b.git', 'git', false],
    ['github:a/b', 'git', false],
    ['a/b#v1', 'git', false],
    ['https://example.com/a.tgz', 'url', false],
    ['file:../lib', 'file', false],
    ['workspace:*', 'workspace', true],
  ];
  for (const [spec, kind, bounded] of cases) {
    const c = classifyNpmSpec(spec);
    t.equal(c.kind, kind, `${spec} kind`);
    t.equal(c.bounded, bounded, `${spec} bounded`);
  }
  t.same(classifyNpmSpec('npm:lodash@^4.17.0'), { kind: 'registry', bounded: true, aliasOf: 'lodash' });
});

t.test('Python specs and requirements lines', async (t) => {
  t.equal(pyRangeBounded('==2.31.0'), true);
  t.equal(pyRangeBounded('~=2.31'), true);
  t.equal(pyRangeBounded('>=2,<3'), true);
  t.equal(pyRangeBounded('>=2'), false);
  t.equal(pyRangeBounded('!=1.0'), false);
  t.equal(pyRangeBounded(''), false);
  t.same(parsePep508('requests[socks] (>=2.0,<3) ; python_version < "3.12"'), { name: 'requests', spec: '>=2.0,<3', kind: 'registry', bounded: true });
  t.same(parsePep508('pkg @ git+https://github.com/a/pkg.git'), { name: 'pkg', spec: 'git+https://github.com/a/pkg.git', kind: 'git', bounded: false });
  t.equal(parsePep508('!!!'), null);
  const r = parseRequirements('# c\n-r base.txt\n--extra-index-url https://x.example/simple\nflask==3.0.0 --hash=sha256:aa\nrequests\n-e git+https://g.example/a/b.git#egg=bee\nnot a req!\n');
  t.same(r.includes, ['base.txt']);
  t.same(r.extraIndexes, [{ url: 'https://x.example/simple', line: 3 }]);
  t.same(r.deps.map((d) => [d.name, d.kind, d.bounded, d.line]), [['flask', 'registry', true, 4], ['requests', 'registry', false, 5], ['bee', 'git', false, 6]]);
  t.same(r.errors.map((e) => e.line), [7]);
});

t.test('pyproject: [project], optional deps, dependency-groups and Poetry', async (t) => {
  const m = parsePyproject('pyproject.toml', `[project]
name = "svc"
dependencies = ["fastapi>=0.110,<1", "httpx"]

[project.optional-dependencies]
dev = ["pytest==8.0.0"]

[dependency-groups]
lint = ["ruff==0.4.0", {include-group = "x"}]

[tool.poetry.dependencies]
python = "^3.11"
pydantic = "^2.6"
rich = "*"
mylib = { git = "https://github.com/a/mylib.git" }

[tool.poetry.group.test.dependencies]
hypothesis = { version = ">=6" }
`);
  t.equal(m.name, 'svc');
  const got = Object.fromEntries(m.deps.map((d) => [d.name, [d.kind, d.bounded, d.section]]));
  t.same(got, {
    fastapi: ['registry', true, 'project.dependencies'],
    httpx: ['registry', false, 'project.dependencies'],
    pytest: ['registry', true, 'project.optional-dependencies.dev'],
    ruff: ['registry', true, 'dependency-groups.lint'],
    pydantic: ['registry', true, 'tool.poetry.dependencies'],
    rich: ['registry', false, 'tool.poetry.dependencies'],
    mylib: ['git', false, 'tool.poetry.dependencies'],
    hypothesis: ['registry', false, 'tool.poetry.group.test.dependencies'],
  });
  t.equal(m.deps.find((d) => d.name === 'rich')!.line, 14, 'line of the Poetry entry');
});

t.test('JS imports resolve to files, built-ins, declared packages, or are findings', async (t) => {
  const f = await deps([
    pkg({ express: '^4.18.2', '@scope/lib': '1.0.0', lodash: 'npm:lodash@^4.17.0' }, { devDependencies: { tap: '^21.0.0' }, imports: { '#internal/*': './src/internal/*.js' } }),
    { path: 'tsconfig.json', content: '{ "compilerOptions": { "paths": { "@/*": ["src/*"] } } }' },
    { path: 'src/util.ts', content: 'export const u = 1;\n' },
    { path: 'src/dir/index.ts', content: 'export const d = 1;\n' },
    {
      path: 'src/app.ts',
      content: [
        "import express from 'express';",
        "import { u } from './util.js';",
        "import { d } from './dir';",
        "import fs from 'node:fs/promises';",
        "import path from 'path';",
        "import { test } from 'node:test';",
        "import sub from '@scope/lib/sub';",
        "import _ from 'lodash';",
        "import i from '#internal/x';",
        "import a from '@/alias';",
        "export type T = typeof import('express');",
        "const later = await import('express');",
        "import gone from './missing.js';",
        "import fake from 'left-padder-pro';",
        "import typo from 'lodahs';",
        "import nope from 'node:nonexistent';",
        'try { require("optional-native"); } catch {}',
        "import ok from 'app/sub';",
        "import axios from 'axios';",
        '',
      ].join('\n'),
    },
    { path: 'test/app.test.ts', content: "import t from 'tap';\nimport { u } from '../src/util.js';\n" },
  ]);
  t.same(rules(f), [
    'dependency.unresolved-local@src/app.ts:13',
    'dependency.unresolved@src/app.ts:14',
    'dependency.unresolved@src/app.ts:15',
    'dependency.unresolved@src/app.ts:16',
    'dependency.unresolved@src/app.ts:17',
    'dependency.unresolved@src/app.ts:19',
  ]);
  const by = (line: number) => f.find((x) => x.line === line)!;
  t.equal(by(14).severity, 'HIGH');
  t.match(by(14).message, /hallucinated or missing dependency/);
  t.match(by(15).message, /Did you mean "lodash"/);
  t.equal(by(17).severity, 'MEDIUM', 'optional require inside try');
  t.match(by(19).message, /real npm package: declare it/);
});

t.test('no package.json anywhere: every bare import is unresolved', async (t) => {
  const f = await deps([{ path: 'index.js', content: "const x = require('express');\nconst fs = require('fs');\n" }]);
  t.same(rules(f), ['dependency.unresolved@index.js:1']);
  t.match(f[0].message, /no package\.json declares it/);
});

t.test('manifests in parent directories are read through readFile (partial change sets)', async (t) => {
  const disk: Record<string, string> = {
    'package.json': JSON.stringify({ name: 'root', dependencies: { express: '4.18.2' } }),
    'src/util.ts': 'export {}',
  };
  const readFile = async (p: string) => {
    if (!(p in disk)) throw Object.assign(new Error('nope'), { code: 'ENOENT' });
    return disk[p];
  };
  const fileExists = async (p: string) => p in disk;
  const f = await deps([{ path: 'src/app.ts', content: "import e from 'express';\nimport { x } from './util.js';\nimport y from 'yargs';\n" }], { readFile, fileExists });
  t.same(rules(f), ['dependency.unresolved@src/app.ts:3']);
  t.match(f[0].message, /not declared in package\.json/);
});

t.test('Python imports: stdlib, local modules, relative, declared under other names, optional', async (t) => {
  const f = await deps([
    { path: 'requirements.txt', content: 'PyYAML==6.0.1\nbeautifulsoup4==4.12.3\npython-dateutil==2.9.0\nrequests==2.31.0\n-r requirements-extra.txt\n' },
    { path: 'requirements-extra.txt', content: 'scikit-learn==1.4.0\n' },
    { path: 'app/__init__.py', content: '' },
    { path: 'app/models.py', content: 'X = 1\n' },
    {
      path: 'app/main.py',
      content: [
        'import os, sys, json',
        'import yaml',
        'from bs4 import BeautifulSoup',
        'from dateutil import parser',
        'import requests.adapters',
        'from sklearn.linear_model import LinearRegression',
        'from . import models',
        'from .models import X',
        'from app import models as m2',
        'from .missing import Y',
        'import fastjsonparser',
        'try:',
        '    import ujson as json2',
        'except ImportError:',
        '    json2 = json',
        'import reqeusts',
        'import numpy',
        'from __future__ import annotations',
        '',
      ].join('\n'),
    },
    { path: 'tests/test_main.py', content: 'import pytest\nfrom app.main import X\n' },
  ]);
  t.same(rules(f), [
    'dependency.unresolved-local@app/main.py:10',
    'dependency.unresolved@app/main.py:11',
    'dependency.unresolved@app/main.py:13',
    'dependency.unresolved@app/main.py:16',
    'dependency.unresolved@app/main.py:17',
  ]);
  const by = (line: number) => f.find((x) => x.line === line)!;
  t.equal(by(13).severity, 'MEDIUM', 'guarded by except ImportError');
  t.match(by(16).message, /Did you mean "requests"/);
  t.match(by(17).message, /real PyPI package: declare it/);
});

t.test('declared dependencies: malicious, typosquat, unpinned, non-registry, extra index', async (t) => {
  const f = await deps([
    pkg({ 'event-stream': '3.3.6', 'flatmap-stream': '^0.1.1', crossenv: '^6.1.1', expresss: '^4.0.0', chalk: '*', 'left-pad': 'latest', mylib: 'github:me/mylib', express: '^4.18.2', 'event-stream-safe-fork': '^1.0.0' }),
    { path: 'svc/requirements.txt', content: '--extra-index-url https://pkgs.example/simple\ncolourama==0.1\njeIlyfish==0.1\nrequests>=2\nflask\nreqeusts==2.31.0\nnumpy==1.26.4\n' },
  ]);
  const sev = Object.fromEntries(f.map((x) => [`${x.file}:${x.line}:${x.rule}`, x.severity]));
  const pkgLine = (name: string) => f.find((x) => x.file === 'package.json' && x.message.includes(`"${name}`))?.line;
  t.equal(sev[`package.json:${pkgLine('event-stream')}:dependency.malicious`], 'CRITICAL', 'event-stream@3.3.6');
  t.equal(sev[`package.json:${pkgLine('flatmap-stream')}:dependency.malicious`], 'CRITICAL');
  t.equal(sev[`package.json:${pkgLine('crossenv')}:dependency.malicious`], 'CRITICAL');
  t.equal(sev[`package.json:${pkgLine('expresss')}:dependency.typosquat`], 'HIGH');
  t.equal(sev[`package.json:${pkgLine('chalk')}:dependency.unpinned`], 'MEDIUM');
  t.equal(sev[`package.json:${pkgLine('left-pad')}:dependency.unpinned`], 'MEDIUM');
  t.equal(sev[`package.json:${pkgLine('mylib')}:dependency.non-registry`], 'MEDIUM');
  t.notOk(f.some((x) => x.message.startsWith('"express"')), 'express ^4 is fine');
  t.notOk(f.some((x) => x.message.includes('event-stream-safe-fork')), 'a longer name is not a typosquat');
  const req = f.filter((x) => x.file === 'svc/requirements.txt').map((x) => `${x.line}:${x.rule}:${x.severity}`).sort();
  t.same(req, [
    '1:dependency.extra-index:MEDIUM',
    '2:dependency.malicious:CRITICAL',
    '3:dependency.malicious:CRITICAL',
    '4:dependency.unpinned:MEDIUM',
    '5:dependency.unpinned:MEDIUM',
    '6:dependency.typosquat:HIGH',
  ]);
});

t.test('a version-specific denylist entry does not fire on other versions', async (t) => {
  const f = await deps([pkg({ 'event-stream': '4.0.1', 'ua-parser-js': '1.0.37' })]);
  t.same(f, []);
});
