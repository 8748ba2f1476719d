#!/usr/bin/env node
// Writes docs/configuration.md from the config schema (core/config.ts, through core/config-doc.ts). Compiles first
// (incremental, so this is quick after a build). `--check` exits 1 when the file differs instead of writing it.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const tsc = spawnSync(path.join(root, 'node_modules/.bin/tsc'), ['-p', 'tsconfig.json'], { cwd: root, stdio: 'inherit' });
if (tsc.status !== 0) process.exit(tsc.status || 1);
const { configReference } = await import(pathToFileURL(path.join(root, 'dist/core/config-doc.js')).href);
const file = path.join(root, 'docs/configuration.md');
const text = configReference();
if (process.argv.includes('--check')) {
  const same = fs.existsSync(file) && fs.readFileSync(file, 'utf8') === text;
  console.log(same ? 'docs/configuration.md is up to date' : 'docs/configuration.md is stale: run node scripts/gen-config-doc.mjs');
  process.exit(same ? 0 : 1);
}
fs.writeFileSync(file, text);
console.log(`wrote ${path.relative(root, file)}`);
