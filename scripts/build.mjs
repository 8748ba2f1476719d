#!/usr/bin/env node
// `npm run build`: compile the TypeScript (dist/), type-check the console and build it with Vite (dist/console, served
// by the control API at GET /). npm start, npm test and the Dockerfile all build through here.
// Incremental: tsc keeps its build info in dist/ (a warm build with nothing changed takes a second or two), and the
// console is rebuilt only when its sources changed (a hash of every file it is built from, kept in dist/console).
// `--force` (or a missing dist/) builds everything.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const force = process.argv.includes('--force');
const started = Date.now();

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${path.basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}

/** The files the console is built from: console/ itself and every source it imports from outside it, followed. */
export function consoleSources(dir = root) {
  const files = new Set();
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.add(p);
    }
  };
  walk(path.join(dir, 'console'));
  const queue = [...files].filter((f) => /\.(ts|tsx)$/.test(f));
  while (queue.length) {
    const file = queue.pop();
    for (const m of fs.readFileSync(file, 'utf8').matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const base = path.resolve(path.dirname(file), m[1]).replace(/\.js$/, '');
      const found = ['.ts', '.tsx', ''].map((ext) => base + ext).find((f) => fs.existsSync(f) && fs.statSync(f).isFile());
      if (found && !files.has(found)) {
        files.add(found);
        queue.push(found);
      }
    }
  }
  for (const f of ['package-lock.json', 'scripts/build.mjs']) files.add(path.join(dir, f));
  return [...files].sort();
}

function consoleHash() {
  const h = createHash('sha256');
  for (const f of consoleSources()) h.update(path.relative(root, f)).update('\0').update(fs.existsSync(f) ? fs.readFileSync(f) : '').update('\0');
  return h.digest('hex');
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (force) fs.rmSync(path.join(root, 'dist/.tsbuildinfo'), { force: true });
  run(bin('tsc'), ['-p', 'tsconfig.json', '--incremental', '--tsBuildInfoFile', 'dist/.tsbuildinfo']);
  // The output validators read their package lists at run time, next to the compiled files (validation/package-lists.ts).
  fs.cpSync(path.join(root, 'validation/data'), path.join(root, 'dist/validation/data'), { recursive: true });

  const stamp = path.join(root, 'dist/console/.source-hash');
  const hash = consoleHash();
  const built = fs.existsSync(path.join(root, 'dist/console/index.html')) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash;
  if (built && !force) {
    console.log(`build: console unchanged, not rebuilt (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  } else {
    run(bin('tsc'), ['-p', 'console/tsconfig.json', '--incremental', '--tsBuildInfoFile', 'dist/.console.tsbuildinfo']);
    run(bin('vite'), ['build', '--config', 'console/vite.config.ts']);
    fs.writeFileSync(stamp, hash);
    console.log(`build: done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
}
