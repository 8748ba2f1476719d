// Ownership routes: ops adopt objects that already exist on the engine for a worker (`wingman workers adopt`) and
// see what it owns (`wingman workers show`). Refs resolve on the engine first; a missing one records nothing;
// another worker's object moves only with --force; bad input is a 4xx. Adopted objects are the worker's own
// through its socket, and no other worker's.
import t from 'tap';
import { docker, dockerOk, testLabels, testName, TEST_IMAGE } from '../helpers/env.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';

let w: Wingman;
const labelArgs = Object.entries(testLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]);
const vol = testName('own-vol');
const vol2 = testName('own-vol2');
const net = testName('own-net');
const box = testName('own-box');
const tag = `${testName('own-img')}:v1`;
let boxId: string;
let netId: string;

t.before(async () => {
  w = await startWingman();
  await dockerOk(['volume', 'create', ...labelArgs, vol]);
  await dockerOk(['volume', 'create', ...labelArgs, vol2]);
  netId = await dockerOk(['network', 'create', ...labelArgs, net]);
  boxId = await dockerOk(['create', '--name', box, ...labelArgs, TEST_IMAGE, 'sleep', '600']);
  await dockerOk(['tag', TEST_IMAGE, tag]);
});
t.teardown(async () => {
  await docker(['rm', '-f', box]);
  await docker(['network', 'rm', net]);
  await docker(['volume', 'rm', '-f', vol, vol2]);
  await docker(['rmi', tag]);
  await w.close();
});

const auth = () => ({ authorization: `Bearer ${w.apiToken}` });
const owned = async (kind: string, id: string) =>
  (await w.db.query<{ worker: string; name: string | null; source: string }>(`SELECT worker, name, source FROM owned_objects WHERE kind = $1 AND id = $2`, [kind, id])).rows[0];

t.test('ops adopt existing objects for a worker through the CLI', async (t) => {
  const v = await w.cli(['workers', 'adopt', 'w1', 'volume', vol]);
  t.equal(v.code, 0, v.stderr);
  t.equal(v.stdout.trim(), `adopted volume ${vol} (${vol}) for w1`);
  const n = await w.cli(['workers', 'adopt', 'w1', 'network', net]);
  t.equal(n.code, 0, n.stderr);
  t.equal(n.stdout.trim(), `adopted network ${netId.slice(0, 12)} (${net}) for w1`);
  // by short id: the store keys containers by the engine's full id
  const c = await w.cli(['workers', 'adopt', 'w1', 'container', boxId.slice(0, 12)]);
  t.equal(c.code, 0, c.stderr);
  t.equal(c.stdout.trim(), `adopted container ${boxId.slice(0, 12)} (${box}) for w1`);
  // a reference is keyed as `docker images` shows it
  const i = await w.cli(['workers', 'adopt', 'w1', 'image', `docker.io/library/${tag}`]);
  t.equal(i.code, 0, i.stderr);
  t.equal(i.stdout.trim(), `adopted image ${tag} (${tag}) for w1`);

  t.match(await owned('volume', vol), { worker: 'w1', name: vol, source: 'adopted' });
  t.match(await owned('network', netId), { worker: 'w1', name: net, source: 'adopted' });
  t.match(await owned('container', boxId), { worker: 'w1', name: box, source: 'adopted' });
  t.match(await owned('image', tag), { worker: 'w1', name: tag, source: 'adopted' });
  const ev = await w.db.query<{ actor: string; event: string }>(`SELECT actor, event FROM ownership_events WHERE object_id = $1`, [boxId]);
  t.equal(ev.rows.length, 1);
  t.match(ev.rows[0], { event: 'adopted', actor: /^api:.+/ }, 'who adopted it is recorded');

  const again = await w.cli(['workers', 'adopt', 'w1', 'volume', vol]);
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /already its own/, 'adopting what the worker owns changes nothing');

  const show = await w.cli(['workers', 'show', 'w1']);
  t.equal(show.code, 0, show.stderr);
  const lines = show.stdout.trim().split('\n');
  t.equal(lines[0], 'w1  not locked');
  t.match(show.stdout, new RegExp(`containers:\\n  container +${boxId.slice(0, 12)} +${box} +adopted`));
  t.match(show.stdout, new RegExp(`networks:\\n  network +${netId.slice(0, 12)} +${net} +adopted`));
  t.match(show.stdout, new RegExp(`volumes:\\n  volume +${vol} +${vol} +adopted`));
  t.match(show.stdout, new RegExp(`images:\\n  image +${tag} +${tag} +adopted`));
  t.notMatch(show.stdout, boxId, 'container ids are shortened');

  const api = await w.control.server.inject({ method: 'GET', url: '/workers/w1/objects', headers: auth() });
  t.equal(api.statusCode, 200, api.body);
  const body = api.json();
  t.equal(body.worker.name, 'w1');
  t.equal(body.worker.locked, false);
  t.same(
    body.objects.map((o: { kind: string; id: string }) => `${o.kind} ${o.id}`).sort(),
    [`container ${boxId}`, `image ${tag}`, `network ${netId}`, `volume ${vol}`].sort(),
  );
  for (const o of body.objects) t.match(o, { source: 'adopted', created_at: String, name: String });
  const vols = await w.control.server.inject({ method: 'GET', url: '/workers/w1/objects?kind=volume', headers: auth() });
  t.same(vols.json().objects.map((o: { id: string }) => o.id), [vol], '?kind= filters');

  const empty = await w.cli(['workers', 'show', 'w2']);
  t.equal(empty.code, 0, empty.stderr);
  t.equal(empty.stdout, 'w2  not locked\nowns no objects\n');
});

t.test('an image named by id adopts every reference it has', async (t) => {
  const id = (await dockerOk(['image', 'inspect', '-f', '{{.Id}}', tag])).trim();
  const r = await w.control.server.inject({
    method: 'POST',
    url: '/workers/w-img/adopt',
    headers: auth(),
    payload: { kind: 'image', refs: [id] },
  });
  t.equal(r.statusCode, 404, 'w-img is no worker yet');
  const add = await w.cli(['workers', 'add', 'w-img']);
  t.equal(add.code, 0, add.stderr);
  const r2 = await w.control.server.inject({
    method: 'POST',
    url: '/workers/w-img/adopt',
    headers: auth(),
    payload: { kind: 'image', refs: [id], by: 'tester', force: true },
  });
  t.equal(r2.statusCode, 200, r2.body);
  const ids = r2.json().adopted.map((o: { id: string }) => o.id);
  t.ok(ids.includes(tag) && ids.includes(TEST_IMAGE), `both references: ${ids.join(', ')}`);
  t.match(r2.json().adopted.find((o: { id: string }) => o.id === tag), { previous_owner: 'w1' });
  t.equal((await owned('image', tag))?.worker, 'w-img');
  const ev = await w.db.query<{ actor: string }>(`SELECT actor FROM ownership_events WHERE object_id = $1 ORDER BY id DESC LIMIT 1`, [tag]);
  t.equal(ev.rows[0]?.actor, 'api:tester');
  // give it back, so the later groups see w1's objects as they were
  const back = await w.cli(['workers', 'adopt', 'w1', 'image', tag, '--force']);
  t.equal(back.code, 0, back.stderr);
  t.match(back.stdout, /was w-img's/);
});

t.test("another worker's object moves only with --force", async (t) => {
  const r = await w.cli(['workers', 'adopt', 'w2', 'volume', vol]);
  t.equal(r.code, 1);
  t.match(r.stderr, new RegExp(`^wingman: conflict: volume ${vol} is owned by w1; adopt with force to move it\\n$`));
  t.equal((await owned('volume', vol))?.worker, 'w1', 'still w1s');

  const mixed = await w.control.server.inject({
    method: 'POST',
    url: '/workers/w2/adopt',
    headers: auth(),
    payload: { kind: 'volume', refs: [vol2, vol] },
  });
  t.equal(mixed.statusCode, 409);
  t.equal(mixed.json().code, 'WGM_ERR_API_CONFLICT');
  t.equal(await owned('volume', vol2), undefined, 'nothing recorded when one is taken');

  const a = await w.cli(['workers', 'adopt', 'w1', 'volume', vol2]);
  t.equal(a.code, 0, a.stderr);
  const f = await w.cli(['workers', 'adopt', 'w2', 'volume', vol2, '--force']);
  t.equal(f.code, 0, f.stderr);
  t.equal(f.stdout.trim(), `adopted volume ${vol2} (${vol2}) for w2 (was w1's)`);
  t.match(await owned('volume', vol2), { worker: 'w2', source: 'adopted' });
});

t.test('an unknown ref is a 404 naming it, and nothing is recorded', async (t) => {
  const missing = testName('own-missing');
  const fresh = testName('own-fresh');
  await dockerOk(['volume', 'create', ...labelArgs, fresh]);
  t.teardown(() => docker(['volume', 'rm', '-f', fresh]).then(() => undefined));
  const r = await w.cli(['workers', 'adopt', 'w1', 'volume', fresh, missing]);
  t.equal(r.code, 1);
  t.equal(r.stderr, `wingman: not found: no volume ${missing} on the engine\n`);
  t.equal(await owned('volume', fresh), undefined, 'the one that exists was not recorded either');
  const noImage = 'sha256:' + '0'.repeat(64);
  for (const [kind, ref] of [
    ['container', missing],
    ['network', missing],
    ['image', missing],
    ['image', noImage],
  ] as const) {
    const x = await w.control.server.inject({ method: 'POST', url: '/workers/w1/adopt', headers: auth(), payload: { kind, refs: [ref] } });
    t.equal(x.statusCode, 404, `${kind} ${ref}: ${x.body}`);
    t.equal(x.json().code, 'WGM_ERR_API_NOT_FOUND');
    t.match(x.json().message, ref, 'names it');
  }
  const rows = await w.db.query(`SELECT 1 FROM owned_objects WHERE id LIKE $1`, [`%${missing}%`]);
  t.equal(rows.rows.length, 0);
});

t.test('bad input is a 4xx with a message, unknown workers a 404', async (t) => {
  // '4xx': dockerd decides between 400 and 404 (an invalid reference), Fastify between 400 and 415 (a text body)
  const rows: Array<[string, string, unknown, number | '4xx']> = [
    ['POST', '/workers/w1/adopt', { kind: 'secret', refs: [vol] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'exec', refs: [vol] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: [] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume' }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: [vol], extra: 1 }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: [vol], force: 'yes' }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: Array.from({ length: 101 }, (_, i) => `v${i}`) }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: ['../../info'] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'volume', refs: ['a/../../info'] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'container', refs: ['x?all=1'] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'image', refs: ['busybox/../../../info'] }, 400],
    ['POST', '/workers/w1/adopt', { kind: 'image', refs: ['UPPER:case'] }, '4xx'],
    ['POST', '/workers/w1/adopt', 'not json', '4xx'],
    ['POST', '/workers/Bad%20Name/adopt', { kind: 'volume', refs: [vol] }, 400],
    ['POST', '/workers/nobody/adopt', { kind: 'volume', refs: [vol] }, 404],
    ['GET', '/workers/nobody/objects', undefined, 404],
    ['GET', '/workers/w1/objects?kind=secret', undefined, 400],
  ];
  for (const [method, url, payload, status] of rows) {
    const r = await w.control.server.inject({ method: method as 'GET', url, headers: auth(), payload: payload as object });
    const what = `${method} ${url} ${JSON.stringify(payload)} → ${status}: ${r.body}`;
    if (status === '4xx') t.ok(r.statusCode >= 400 && r.statusCode < 500, what);
    else t.equal(r.statusCode, status, what);
    t.type(r.json().message, 'string');
  }
  for (const [method, url] of [
    ['POST', '/workers/w1/adopt'],
    ['GET', '/workers/w1/objects'],
  ] as const) {
    const r = await w.control.server.inject({ method, url, payload: method === 'POST' ? { kind: 'volume', refs: [vol] } : undefined });
    t.equal(r.statusCode, 401, `${method} ${url} needs the token`);
  }
  t.equal((await owned('volume', vol))?.worker, 'w1', 'nothing moved');

  const kind = await w.cli(['workers', 'adopt', 'w1', 'secret', 'x']);
  t.equal(kind.code, 1);
  t.equal(kind.stderr, 'wingman: unknown kind secret: one of container, volume, network, image\n');
  const usage = await w.cli(['workers', 'adopt', 'w1', 'volume']);
  t.equal(usage.code, 1);
  t.match(usage.stderr, /usage: wingman workers adopt/);
  const nobody = await w.cli(['workers', 'show', 'nobody']);
  t.equal(nobody.code, 1);
  t.equal(nobody.stderr, 'wingman: not found: no worker nobody\n');
  const nobodyAdopt = await w.cli(['workers', 'adopt', 'nobody', 'volume', vol]);
  t.equal(nobodyAdopt.code, 1);
  t.equal(nobodyAdopt.stderr, 'wingman: not found: no worker nobody\n');
});

t.test("show prints a locked worker's lock state", async (t) => {
  const add = await w.cli(['workers', 'add', 'w-locked']);
  t.equal(add.code, 0, add.stderr);
  const lock = await w.cli(['lockdown', 'w-locked', '--why', 'testing show', '--by', 'tester']);
  t.equal(lock.code, 0, lock.stderr);
  const show = await w.cli(['workers', 'show', 'w-locked']);
  t.equal(show.code, 0, show.stderr);
  t.match(show.stdout, /^w-locked {2}LOCKED \(testing show\) by api:tester at \S+\nowns no objects\n$/);
});

t.test('adopted objects are usable through the worker socket', async (t) => {
  const mine = await w.dockerAs('w1', ['inspect', '-f', '{{.Id}}', box]);
  t.equal(mine.code, 0, `w1 inspects its adopted container: ${mine.stderr}`);
  t.equal(mine.stdout.trim(), boxId);
  const myVol = await w.dockerAs('w1', ['volume', 'inspect', '-f', '{{.Name}}', vol]);
  t.equal(myVol.code, 0, `w1 inspects its adopted volume: ${myVol.stderr}`);
  const theirs = await w.dockerAs('w2', ['inspect', box]);
  t.not(theirs.code, 0, 'w2 cannot inspect w1s container');
  t.match(theirs.stderr, /not w2's/);
  const theirVol = await w.dockerAs('w2', ['volume', 'inspect', vol]);
  t.not(theirVol.code, 0, 'w2 cannot inspect w1s volume');
  t.match(theirVol.stderr, /not w2's/);
});
