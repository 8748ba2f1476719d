// core/util/load-once.ts: one load shared by concurrent callers; a failed load is a coded 500 naming what could not
// be loaded (the cause kept), and is not remembered: the next call loads again.
import t from 'tap';
import { isWingmanError } from '../../core/errors.js';
import { loadOnce } from '../../core/util/load-once.js';

t.test('concurrent callers share one load', async (t) => {
  let loads = 0;
  const get = loadOnce('the thing', async () => {
    loads++;
    await new Promise((r) => setTimeout(r, 10));
    return { v: 1 };
  });
  const [a, b] = await Promise.all([get(), get()]);
  t.equal(a, b);
  t.equal(await get(), a);
  t.equal(loads, 1);
});

t.test('a failed load is WGM_ERR_INTERNAL naming what, and is tried again', async (t) => {
  let loads = 0;
  const cause = new Error('Cannot find module x');
  const get = loadOnce('the thing', async () => {
    loads++;
    if (loads === 1) throw cause;
    return 'loaded';
  });
  const err = await get().catch((e: unknown) => e);
  t.ok(isWingmanError(err, 'WGM_ERR_INTERNAL'));
  t.equal((err as Error).message, 'internal error: the thing could not be loaded');
  t.equal((err as Error).cause, cause);
  t.equal(await get(), 'loaded');
  t.equal(loads, 2);
});
