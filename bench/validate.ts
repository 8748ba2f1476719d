// Output-validation throughput over a ~1 MB generated corpus of mixed projects (TS, JS, TSX, Python, shell, JSON,
// YAML, Dockerfile, compose, package.json, requirements), with the real secret scanner. Prints files/s and MB/s for
// one batch call, and p50/p99/max per file for one call per file (what a sidecar pays for a single-file check).
// Run: npm run bench -- validate   or   node --import @tapjs/typescript/import bench/validate.ts [targetBytes]
import { performance } from 'node:perf_hooks';
import { validateOutput } from '../validation/index.js';
import type { SourceFile } from '../validation/types.js';

const MB = 1024 * 1024;
const target = Number(process.argv[2] ?? MB);

function tsFile(i: number): SourceFile {
  const body = Array.from({ length: 20 + (i % 30) }, (_, k) => `export function f${k}(a: number, b: string): string {\n  const xs = [a, ${k}].map((v) => v * 2);\n  return \`\${b}:\${xs.join(',')}\`;\n}\n`).join('');
  return { path: `svc${i % 7}/src/mod${i}.ts`, content: `import express from 'express';\nimport { join } from 'node:path';\nimport { helper } from './helper.js';\n${body}export const app = express();\nvoid join; void helper;\n` };
}
function tsxFile(i: number): SourceFile {
  return { path: `svc${i % 7}/src/View${i}.tsx`, content: `import React from 'react';\nexport function View${i}({ items }: { items: string[] }) {\n  return <ul>{items.map((x) => <li key={x}>{x}</li>)}</ul>;\n}\n`.repeat(1) };
}
function jsFile(i: number): SourceFile {
  const body = Array.from({ length: 15 }, (_, k) => `function g${k}(x) { return require('fs').existsSync(x) ? ${k} : -${k}; }\n`).join('');
  return { path: `svc${i % 7}/lib/util${i}.js`, content: `const _ = require('lodash');\nconst { execFile } = require('node:child_process');\n${body}module.exports = { _, execFile };\n` };
}
function testFile(i: number): SourceFile {
  return { path: `svc${i % 7}/test/mod${i}.test.ts`, content: `import t from 'tap';\nimport { helper } from '../src/helper.js';\nt.equal(helper, 1);\nt.test('x${i}', async (t) => { t.ok(true); });\n` };
}
function pyFile(i: number): SourceFile {
  const body = Array.from({ length: 20 }, (_, k) => `def h${k}(x, y=None):\n    """Doc ${k}."""\n    data = {"k": x, "n": ${k}}\n    return json.dumps(data) if y else requests.get(f"https://api.example/{x}", timeout=5)\n\n`).join('');
  return { path: `py${i % 5}/pkg/m${i}.py`, content: `import json\nimport os\nimport requests\nfrom . import base\n\n${body}` };
}
function shFile(i: number): SourceFile {
  return { path: `svc${i % 7}/scripts/s${i}.sh`, content: `#!/usr/bin/env bash\nset -euo pipefail\nfor f in "$@"; do\n  if [ -f "$f" ]; then\n    echo "ok $f" | tee -a log.txt\n  fi\ndone\ncase "\${1:-}" in\n  a) echo a ;;\n  *) echo other ;;\nesac\n` };
}
function yamlFile(i: number): SourceFile {
  return { path: `svc${i % 7}/.github/workflows/ci${i}.yml`, content: `on: [push]\njobs:\n  test:\n    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v4\n      - run: npm ci && npm test\n` };
}
function jsonFile(i: number): SourceFile {
  return { path: `svc${i % 7}/config/c${i}.json`, content: JSON.stringify({ name: `c${i}`, items: Array.from({ length: 30 }, (_, k) => ({ id: k, tag: `t${k}` })) }, null, 2) };
}
function fixed(): SourceFile[] {
  const out: SourceFile[] = [];
  for (let s = 0; s < 7; s++) {
    out.push({ path: `svc${s}/package.json`, content: JSON.stringify({ name: `svc${s}`, dependencies: { express: '^4.18.2', lodash: '^4.17.21', react: '^18.2.0' }, devDependencies: { tap: '^21.0.0' } }, null, 2) });
    out.push({ path: `svc${s}/src/helper.ts`, content: 'export const helper = 1;\n' });
    out.push({ path: `svc${s}/Dockerfile`, content: 'FROM node:20.11-slim\nWORKDIR /app\nCOPY . .\nRUN npm ci --omit=dev && chmod 755 /app/run.sh\nUSER node\nCMD ["node", "index.js"]\n' });
    out.push({ path: `svc${s}/docker-compose.yml`, content: `services:\n  svc${s}:\n    build: .\n    ports: ["80${s}0:8080"]\n    volumes:\n      - ./data:/data\n` });
  }
  for (let p = 0; p < 5; p++) {
    out.push({ path: `py${p}/requirements.txt`, content: 'requests==2.31.0\nflask>=3,<4\n' });
    out.push({ path: `py${p}/pkg/__init__.py`, content: '' });
    out.push({ path: `py${p}/pkg/base.py`, content: 'X = 1\n' });
  }
  return out;
}

function corpus(bytes: number): SourceFile[] {
  const gens = [tsFile, tsFile, jsFile, pyFile, pyFile, shFile, testFile, tsxFile, yamlFile, jsonFile];
  const files = fixed();
  let size = files.reduce((s, f) => s + f.content.length, 0);
  for (let i = 0; size < bytes; i++) {
    const f = gens[i % gens.length](i);
    files.push(f);
    size += f.content.length;
  }
  return files;
}

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
}

const files = corpus(target);
const bytes = files.reduce((s, f) => s + Buffer.byteLength(f.content), 0);
console.log(`corpus: ${files.length} files, ${(bytes / MB).toFixed(2)} MB`);

// Warm-up: loads TypeScript, tree-sitter, sh-syntax and secretlint once, as a long-running process would have.
await validateOutput({ files: files.slice(0, 40) });

const runs = 3;
const batch: number[] = [];
let decision = '';
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  const res = await validateOutput({ files });
  batch.push(performance.now() - t0);
  decision = `${res.decision} score ${res.score}, ${res.findings.length} findings`;
}
const best = Math.min(...batch);
console.log(`batch (one call, ${runs} runs, best): ${best.toFixed(0)} ms → ${(files.length / (best / 1000)).toFixed(0)} files/s, ${(bytes / MB / (best / 1000)).toFixed(2)} MB/s  [${decision}]`);

// The same batch without the secret scan, to tell this library's cost from the shared scanner's.
const stubbed: number[] = [];
for (let r = 0; r < runs; r++) {
  const t0 = performance.now();
  await validateOutput({ files }, { scanSecrets: async () => [] });
  stubbed.push(performance.now() - t0);
}
const bestStub = Math.min(...stubbed);
console.log(`batch without the secret scan (best of ${runs}): ${bestStub.toFixed(0)} ms → ${(files.length / (bestStub / 1000)).toFixed(0)} files/s, ${(bytes / MB / (bestStub / 1000)).toFixed(2)} MB/s`);

const per: number[] = [];
for (const f of files) {
  const t0 = performance.now();
  await validateOutput({ files: [f] });
  per.push(performance.now() - t0);
}
const total = per.reduce((a, b) => a + b, 0);
console.log(`per file (one call each, ${files.length} calls): p50 ${pct(per, 50).toFixed(2)} ms, p99 ${pct(per, 99).toFixed(2)} ms, max ${Math.max(...per).toFixed(2)} ms, ${(files.length / (total / 1000)).toFixed(0)} files/s, ${(bytes / MB / (total / 1000)).toFixed(2)} MB/s`);
