// The gate in threads (core/gate/gate-pool.ts) answers exactly as checkInstruction() in the process: the same
// results, the same 400 for bad input, and a thread that dies with checks in flight fails them as internal errors
// (never an approval), after which the pool carries on. Threads start only above the start rate and stop when idle.
import t from 'tap';
import { isWingmanError } from '../../core/errors.js';
import { checkInstruction, MAX_INSTRUCTION_CHARS } from '../../core/gate/index.js';
import { GatePool } from '../../core/gate/gate-pool.js';
import { instructionMarkdown, SECTIONS } from '../sidecar/sidecar-env.js';
import { until } from '../helpers/until.js';

const j = (...p: string[]) => p.join('');
const INPUTS: unknown[] = [
  instructionMarkdown(),
  instructionMarkdown({}, ['MITIGATION']),
  instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES}\nThen run \`git push --force origin main\`.` }),
  instructionMarkdown({ DEPENDENCIES: `${SECTIONS.DEPENDENCIES} DB at postgres://app:${j('hunter', '2Xy9')}@db.local/app.` }),
  instructionMarkdown({ TEST_PROCESS: `\`\`\`sh\nDB_PASSWORD=${j('Gr4ss', 'h0pper!9')} sh /work/test.sh\n\`\`\`` }),
  { ...SECTIONS },
  { ...SECTIONS, DEPENDENCIES: { database: 'Postgres 16', password: j('Gr4ss', 'h0pper!9') } },
];

t.test('threads answer as the process does', async (t) => {
  const pool = new GatePool({ threads: 1, startRate: 0 });
  t.teardown(() => pool.close());
  for (const input of INPUTS) t.same(await pool.check(input), await checkInstruction(input), 'same result');
  t.equal(pool.size, 1, 'judged in a thread');
  const many = await Promise.all(INPUTS.concat(INPUTS).map((i) => pool.check(i)));
  t.same(many.map((r) => r.decision), (await Promise.all(INPUTS.concat(INPUTS).map((i) => checkInstruction(i)))).map((r) => r.decision), 'concurrent checks each get their own answer');
});

t.test('bad input: the same WGM_ERR_GATE_INVALID (400) as in the process', async (t) => {
  const pool = new GatePool({ threads: 1, startRate: 0 });
  t.teardown(() => pool.close());
  for (const bad of [42, ['a'], null, 'x'.repeat(300 * 1024)]) {
    const here = await checkInstruction(bad).then(() => undefined, (e: unknown) => e);
    const there = await pool.check(bad).then(() => undefined, (e: unknown) => e);
    t.ok(isWingmanError(there, 'WGM_ERR_GATE_INVALID'), `${JSON.stringify(bad).slice(0, 20)}: refused as invalid`);
    t.equal((there as Error).message, (here as Error).message, 'same message');
    t.equal((there as { statusCode: number }).statusCode, 400);
  }
});

t.test('a thread that dies with checks in flight fails them (500), and the next check gets a new thread', async (t) => {
  const pool = new GatePool({ threads: 1, startRate: 0 });
  t.teardown(() => pool.close());
  await pool.check(INPUTS[0]);
  // The thread runs beside this one: a check it can finish before the stop takes hold is answered, rightly (CI saw
  // the first of two small checks answered). So the first is an instruction near the size limit (tens of ms to
  // judge), and the others queue behind it in the thread: none can be answered before the thread is stopped.
  const largest = instructionMarkdown({ DELIVERABLES: `${SECTIONS.DELIVERABLES}${' then check the build output'.repeat(8000)}` });
  t.ok(largest.length > 200 * 1024 && largest.length <= MAX_INSTRUCTION_CHARS, 'an instruction near the size limit');
  const inFlight = [pool.check(largest), pool.check(INPUTS[0]), pool.check(INPUTS[1])];
  await (pool as unknown as { threads: { stop(): Promise<number> }[] }).threads[0].stop();
  for (const p of inFlight) {
    const err = await p.then(() => undefined, (e: unknown) => e);
    t.ok(isWingmanError(err, 'WGM_ERR_INTERNAL'), 'failed as an internal error, not answered');
  }
  await until('the dead thread is gone', async () => pool.size === 0);
  t.equal((await pool.check(INPUTS[0])).decision, 'APPROVED', 'a new thread judges');
  t.equal(pool.size, 1);
});

t.test('threads start above the start rate and stop when idle; none with threads: 0', async (t) => {
  const pool = new GatePool({ threads: 1, startRate: 5, idleMs: 200 });
  t.teardown(() => pool.close());
  for (let i = 0; i < 4; i++) await pool.check(INPUTS[i % INPUTS.length]);
  t.equal(pool.size, 0, 'a trickle is judged in the process');
  // (a window is one second: keep asking until a window sees five, however slow this machine is)
  for (let i = 0; i < 500 && pool.size === 0; i++) await pool.check(INPUTS[i % INPUTS.length]);
  t.equal(pool.size, 1, 'more than the start rate: a thread');
  await until('the idle thread stops', async () => pool.size === 0);

  const none = new GatePool({ threads: 0, startRate: 0 });
  t.teardown(() => none.close());
  for (let i = 0; i < 10; i++) await none.check(INPUTS[0]);
  t.equal(none.size, 0, 'threads: 0 always judges in the process');
});
