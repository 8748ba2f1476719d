// core/util/defer-cjs.ts: a CommonJS module required by a package at load time is a stand-in until first used; its
// first call (or property read) loads the real module, which then answers as itself. Nothing is deferred for a
// module already loaded or not found.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import t from 'tap';
import { deferCjs } from '../../core/util/defer-cjs.js';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-defer-'));
t.teardown(() => fs.rmSync(dir, { recursive: true, force: true }));
const g = globalThis as { deferLoads?: string[] };
g.deferLoads = [];
fs.writeFileSync(path.join(dir, 'fn.js'), `globalThis.deferLoads.push('fn'); module.exports = function (a, b) { return [this && this.tag, a + b]; };`);
fs.writeFileSync(path.join(dir, 'obj.js'), `globalThis.deferLoads.push('obj'); module.exports = { twice: (x) => 2 * x, name: 'obj' };`);
fs.writeFileSync(path.join(dir, 'user.js'), `const fn = require('./fn.js'); const obj = require('./obj.js'); module.exports = { fn, obj };`);
const req = createRequire(path.join(dir, 'index.js'));

t.test('stand-ins until first use, then the real modules', async (t) => {
  t.equal(deferCjs(req, './fn.js', 'function'), true);
  t.equal(deferCjs(req, './obj.js', 'object'), true);
  const user = req('./user.js') as { fn: (this: unknown, a: number, b: number) => [unknown, number]; obj: { twice(x: number): number; name: string } };
  t.same(g.deferLoads, [], 'required, not loaded');
  t.same(user.fn.call({ tag: 'me' }, 2, 3), ['me', 5], 'a call loads the function and passes this and the arguments');
  t.same(g.deferLoads, ['fn']);
  t.equal(user.obj.twice(4), 8, 'a property read loads the object');
  t.equal(user.obj.name, 'obj');
  t.same(g.deferLoads, ['fn', 'obj'], 'each loaded once');
  t.equal(typeof (req('./fn.js') as unknown), 'function', 'a later require gets the real module');
  t.same(g.deferLoads, ['fn', 'obj']);
});

t.test('nothing deferred for a module already loaded or not found', async (t) => {
  t.equal(deferCjs(req, './fn.js', 'function'), false);
  t.equal(deferCjs(req, './missing.js', 'function'), false);
});
