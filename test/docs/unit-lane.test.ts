// The fast lane (npm run test:unit, scripts/test-unit.mjs) lists files that exist and are tests.
import fs from 'node:fs';
import t from 'tap';
// @ts-expect-error a plain .mjs script without types
import { UNIT_TESTS } from '../../scripts/test-unit.mjs';

t.test('every file of the unit lane exists', async (t) => {
  const files = UNIT_TESTS;
  t.ok(files.length > 10);
  for (const f of files) t.ok(fs.existsSync(new URL(`../../${f}`, import.meta.url)) && f.endsWith('.test.ts'), f);
});
