// The gate and its secret scanner load on the first /check, not at start (core/gate/gate-pool.ts,
// core/secrets/scan-secrets.ts). A part that cannot load fails closed: /check answers 500 saying what could not be
// loaded, stores no decision and approves nothing, not even an instruction with no secret in it; the sidecar keeps
// serving. A load failure is made real by mocking the module with an export whose getter throws (the mocked module's
// evaluation, hence its import, fails). That the first /check of a real sidecar process waits for secretlint is in
// test/validation/process-modules.test.ts.
import t, { type Test } from 'tap';
import { migratedTestDb } from '../helpers/db.js';
import type * as SidecarEnvModule from './sidecar-env.js';
import { instructionMarkdown } from './sidecar-env.js';

const cannotLoad = (name: string) => ({
  get [name](): never {
    throw new Error(`${name}: module cannot load (test)`);
  },
});

const tdb = await migratedTestDb();
t.teardown(() => tdb.drop());

type Mocks = Record<string, unknown>;

// tap replaces what the mocked module itself imports (statically, or with import()), not what modules deeper down
// import: each module that loads on first use is mocked where its import() is, and the result handed up the graph,
// module by module, as the mock of its importer, up to the sidecar the test builds.
async function sidecarWith(t: Test, pool: Mocks): Promise<typeof SidecarEnvModule> {
  const gatePool = await t.mockImport('../../core/gate/gate-pool.js', pool);
  const app = await t.mockImport('../../sidecar/app.js', { '../../core/gate/gate-pool.js': gatePool });
  return t.mockImport<typeof SidecarEnvModule>('./sidecar-env.js', { '../../sidecar/app.js': app });
}

async function scannerCannotLoad(t: Test) {
  const scan = await t.mockImport('../../core/secrets/scan-secrets.js', { '../../core/secrets/secretlint-secrets.js': cannotLoad('findSecretlintSecrets') });
  const check = await t.mockImport('../../core/gate/check-instruction.js', { '../../core/secrets/scan-secrets.js': scan });
  return sidecarWith(t, { '../../core/gate/check-instruction.js': check });
}

const gateCannotLoad = (t: Test) => sidecarWith(t, { '../../core/gate/check-instruction.js': cannotLoad('checkInstruction') });

for (const [what, load, said] of [
  ['the secret scanner', scannerCannotLoad, /secret scan failed/],
  ['the gate', gateCannotLoad, /the instruction gate could not be loaded/],
] as const) {
  t.test(`${what} cannot load: /check is a 500, nothing stored, nothing approved`, async (t) => {
    const env = await load(t);
    const sc = await env.startSidecarEnv({ databaseUrl: tdb.url, container: 'wgmtest-gate-load-none', docker: 'engine', verifyLoop: { enabled: false } });
    t.teardown(() => sc.close());
    const decisions = async () => (await sc.db.query<{ n: number }>('SELECT count(*)::int AS n FROM instructions')).rows[0].n;
    const before = await decisions();
    for (let i = 0; i < 2; i++) {
      // twice: a failed load is tried again, and fails again, closed
      const r = await sc.post('/check', instructionMarkdown(), { 'content-type': 'text/markdown' });
      t.equal(r.status, 500, JSON.stringify(r.json));
      t.equal(r.json.code, 'WGM_ERR_INTERNAL');
      t.match(r.json.message, said);
      t.notOk(r.json.approved, 'not approved');
    }
    t.equal(await decisions(), before, 'no decision stored');
    t.match(await sc.get('/health'), { json: { store: { ok: true }, bus: { ok: true } } }, 'the sidecar still serves');
  });
}
