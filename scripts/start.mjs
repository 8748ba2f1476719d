// `npm start` on a fresh clone: install what is missing, build, and run `wingman up`.
import { execSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
if (!fs.existsSync('node_modules/.package-lock.json') && !fs.existsSync('node_modules/typescript')) {
  console.log('wingman: installing dependencies (npm ci)…');
  execSync('npm ci --no-fund --no-audit', { stdio: 'inherit' });
}
console.log('wingman: building…');
execSync(`${JSON.stringify(process.execPath)} scripts/build.mjs`, { stdio: 'inherit' });
// With the node flags bin/wingman.js names (its first line).
const child = spawn(process.execPath, ['--max-semi-space-size=64', 'bin/wingman.js', 'up', ...process.argv.slice(2)], { stdio: 'inherit' });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(signal ? 1 : (code ?? 0)));
