#!/usr/bin/env node
// Regenerate the case table inside shell-wrapper/docker from core/policy/shell-rules.ts (via the compiled dist/,
// so build first): `npx tsc -p tsconfig.json && node shell-wrapper/gen-table.mjs`. test/wrapper/table.test.ts
// fails while the wrapper is out of date.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const { spliceShellTable } = await import(path.join(here, '../dist/core/policy/shell-table-sh.js'));
const file = path.join(here, 'docker');
const before = fs.readFileSync(file, 'utf8');
const after = spliceShellTable(before);
if (after === before) {
  process.stdout.write('shell-wrapper/docker: table up to date\n');
} else {
  fs.writeFileSync(file, after);
  process.stdout.write('shell-wrapper/docker: table regenerated\n');
}
