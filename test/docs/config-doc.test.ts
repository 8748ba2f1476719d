// docs/configuration.md is what the config schema generates (scripts/gen-config-doc.mjs): every variable
// Wingman reads is documented, with its default, and nothing documented is gone.
import fs from 'node:fs';
import t from 'tap';
import { configSchema } from '../../core/config.js';
import { configReference } from '../../core/config-doc.js';

t.test('docs/configuration.md is the generated reference', async (t) => {
  const doc = fs.readFileSync(new URL('../../docs/configuration.md', import.meta.url), 'utf8');
  t.equal(doc, configReference(), 'up to date (regenerate: node scripts/gen-config-doc.mjs)');
});

t.test('every variable has a line', async (t) => {
  const text = configReference();
  for (const name of Object.keys(configSchema.shape)) t.match(text, new RegExp(`^\\| \`${name}\` \\|`, 'm'), name);
});
