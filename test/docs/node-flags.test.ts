// Wingman runs with the same node flags however it is started: the CLI's first line (npm's bin link, `wingman …`),
// the image's ENTRYPOINT, `npm start`, and the helpers and benches that start it as it ships.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import t from 'tap';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const read = (f: string) => fs.readFileSync(path.join(root, f), 'utf8');

t.test('every way of starting Wingman passes the flags bin/wingman.js names', (t) => {
  const shebang = read('bin/wingman.js').split('\n')[0];
  const m = /^#!\/usr\/bin\/env -S node((?: --[a-z-]+=\S+)+)$/.exec(shebang);
  t.ok(m, `bin/wingman.js starts node with its flags: ${shebang}`);
  const flags = (m?.[1] ?? '').trim().split(' ');
  t.same(flags, ['--max-semi-space-size=64']);
  const entry = JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(read('Dockerfile'))?.[1] ?? '[]') as string[];
  t.same(entry, ['node', ...flags, 'bin/wingman.js'], 'the image');
  for (const f of ['scripts/start.mjs', 'test/helpers/wingman-up.ts', 'bench/proxy-targets.ts', 'bench/proxy-load.ts']) {
    for (const flag of flags) t.ok(read(f).includes(`'${flag}'`), `${f} passes ${flag}`);
  }
  t.end();
});
