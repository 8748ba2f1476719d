// docs/errors.md and the error table (core/errors.ts) say the same: every code of the table is documented with
// its status, and every documented code exists (after fastify's test/internals/errors.test.js).
import fs from 'node:fs';
import t from 'tap';
import { ERRORS } from '../../core/errors.js';

const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
// A documented code is a table row: | `WGM_ERR_X` | 403 | meaning | what to do |
const rows = new Map<string, { status: number; meaning: string; todo: string }>();
for (const m of doc.matchAll(/^\| `(WGM_ERR_[A-Z_]+)` \| (\d{3}) \| ([^|]*) \| ([^|]*) \|$/gm)) {
  t.notOk(rows.has(m[1]), `${m[1]} is documented once`);
  rows.set(m[1], { status: Number(m[2]), meaning: m[3].trim(), todo: m[4].trim() });
}

t.test('every code of the table is documented, with its status, what it means and what to do', async (t) => {
  for (const [code, { status }] of Object.entries(ERRORS)) {
    const row = rows.get(code);
    if (!t.ok(row, `${code} is in docs/errors.md`)) continue;
    t.equal(row!.status, status, `${code}: the documented status is the table's`);
    t.ok(row!.meaning.length > 10 && row!.todo.length > 3, `${code}: meaning and what to do are filled in`);
  }
});

t.test('every documented code exists in the table', async (t) => {
  for (const code of rows.keys()) t.ok(Object.hasOwn(ERRORS, code), `${code} exists in core/errors.ts`);
  // Any mention elsewhere in the document (prose) names a real code too.
  for (const m of doc.matchAll(/WGM_ERR_[A-Z_]*[A-Z]/g)) {
    t.ok(Object.hasOwn(ERRORS, m[0]), `${m[0]} (mentioned) exists`);
  }
});
