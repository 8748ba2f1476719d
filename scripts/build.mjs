#!/usr/bin/env node
// `npm run build`: compile the TypeScript (dist/), type-check the console and build it with Vite (dist/console, served
// by the control API at GET /). npm start, npm test and the Dockerfile all build through here.
import { spawnSync } from 'node:child_process';
import { cpSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const bin = (name) => path.join(root, 'node_modules/.bin', name);
const steps = [
  [bin('tsc'), ['-p', 'tsconfig.json']],
  [bin('tsc'), ['-p', 'console/tsconfig.json']],
  [bin('vite'), ['build', '--config', 'console/vite.config.ts']],
];
for (const [cmd, args] of steps) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.status !== 0) {
    console.error(`build: ${path.basename(cmd)} ${args.join(' ')} failed (${r.status ?? r.signal})`);
    process.exit(r.status || 1);
  }
}
// The output validators read their package lists at run time, next to the compiled files (validation/package-lists.ts).
cpSync(path.join(root, 'validation/data'), path.join(root, 'dist/validation/data'), { recursive: true });
