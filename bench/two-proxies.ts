// Two proxies sharing one control, for the figure in issue #11 ("lock reaches both in 26–151 ms, approval races
// resolve to exactly one run"): `wingman control` and two `wingman proxy` processes on one Postgres database and
// one (prefixed) Redis, each proxy with its own data and socket directories.
//  (i)  lock propagation: w1 is locked through the control API; each proxy is asked a non-read call by w1 in a
//       tight loop until it refuses it as locked (ms from sending the lock), then the same for the unlock.
//  (ii) approval races: the same held call on both proxies (two approvals), both approved at once, each approve
//       sent twice at once: every approval must run its call exactly once. Then one grant token (POST /approvals)
//       presented on both proxies at once: exactly one call may pass.
// Runs are counted by the engine itself: the call is `kill -s WINCH` on a busybox `sleep`, which ignores it, so
// every run is one `kill` event and the canary keeps running.
// Run: npm run bench -- two-proxies [rounds=20]
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../test/helpers/db.js';
import { docker, dockerOk, testEnv, testLabels, testName, TEST_IMAGE } from '../test/helpers/env.js';
import { freePort, startUp, type UpProcess } from '../test/helpers/wingman-up.js';

const ROUNDS = Number(process.argv[2] ?? 20);

interface Answer {
  status: number;
  body: string;
}

function call(agent: http.Agent | undefined, socketPath: string, method: string, p: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const req = http.request(
      { agent, socketPath, method, path: p, headers: { host: 'docker', ...(data ? { 'content-type': 'application/json', 'content-length': String(data.length) } : {}), ...headers } },
      (res) => {
        let text = '';
        res.on('data', (d) => (text += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(data);
  });
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'wgmtest-2p-'));
const database = await createTestDatabase();
const apiToken = `wgmtest-token-${randomBytes(12).toString('hex')}`;
const prefix = `wgmtest-${randomBytes(4).toString('hex')}`;
const common: Record<string, string> = {
  DATABASE_URL: database.url,
  REDIS_URL: testEnv().redisUrl,
  WINGMAN_REDIS_PREFIX: prefix,
  WINGMAN_UPSTREAM: testEnv().dockerHost,
  WINGMAN_WORKERS: 'w1,w2',
  WINGMAN_APPROVAL_TIMEOUT_S: '120',
  WINGMAN_API_TOKEN: apiToken,
  WINGMAN_HOST: '127.0.0.1',
  WINGMAN_LOG_LEVEL: 'warn',
};
const procs: UpProcess[] = [];
const canary = testName('2p');
const volume = testName('2p-vol');
const controlPort = await freePort();
const controlUrl = `http://127.0.0.1:${controlPort}`;

async function api(method: string, p: string, body?: unknown): Promise<{ status: number; json: any }> {
  const res = await fetch(`${controlUrl}${p}`, {
    method,
    headers: { authorization: `Bearer ${apiToken}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

async function waitFor(what: string, fn: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await fn().catch(() => false))) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** `kill` events of the canary the engine recorded since `since` (unix seconds, fractional). */
async function kills(since: number): Promise<number> {
  const out = await dockerOk(['events', '--since', since.toFixed(3), '--until', (Date.now() / 1000).toFixed(3), '--filter', `container=${canary}`, '--filter', 'event=kill', '--format', '{{.Action}}']);
  return out.split('\n').filter(Boolean).length;
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};
const fmt = (xs: number[]) => `min ${Math.min(...xs).toFixed(0)} / p50 ${pct(xs, 50).toFixed(0)} / max ${Math.max(...xs).toFixed(0)} ms`;

try {
  const control = await startUp({ ...common, WINGMAN_DATA_DIR: path.join(dir, 'c', 'data'), WINGMAN_SOCKET_DIR: path.join(dir, 'c', 's'), WINGMAN_PORT: String(controlPort) }, 'control');
  procs.push(control);
  await waitFor('the control API', async () => (await fetch(`${controlUrl}/health`)).status === 200);
  const sockets: string[] = [];
  for (const n of ['a', 'b']) {
    const proxy = await startUp({ ...common, WINGMAN_DATA_DIR: path.join(dir, n, 'data'), WINGMAN_SOCKET_DIR: path.join(dir, n, 's'), WINGMAN_PORT: String(await freePort()) }, 'proxy');
    procs.push(proxy);
    const sock = path.join(dir, n, 's', 'w1', 'docker.sock');
    await waitFor(`proxy ${n}`, async () => (await call(undefined, sock, 'GET', '/_ping')).status === 200);
    sockets.push(sock);
  }
  const agents = sockets.map(() => new http.Agent({ keepAlive: true, maxSockets: 4 }));

  await dockerOk(['run', '-d', '--name', canary, ...Object.entries(testLabels()).flatMap(([k, v]) => ['--label', `${k}=${v}`]), TEST_IMAGE, 'sleep', '3600']);
  const adopt = await api('POST', '/workers/w1/adopt', { kind: 'container', refs: [canary], by: 'bench', force: true });
  if (adopt.status !== 200) throw new Error(`adopt: ${adopt.status} ${JSON.stringify(adopt.json)}`);

  // (i) lock propagation. The probe creates one volume (the same name every time: creating it again is a no-op).
  const probe = (i: number) => call(agents[i], sockets[i], 'POST', '/v1.41/volumes/create', {}, JSON.stringify({ Name: volume }));
  for (const i of [0, 1]) {
    const r = await probe(i);
    if (r.status !== 201) throw new Error(`probe on proxy ${i}: ${r.status} ${r.body}`);
  }
  const lockMs: number[][] = [[], []];
  const unlockMs: number[][] = [[], []];
  const lockApiMs: number[] = [];
  const isLocked = (r: Answer) => r.status === 403 && r.body.includes('is locked down');
  for (let round = 0; round < ROUNDS; round++) {
    for (const [verb, want, into] of [['lockdown', true, lockMs], ['unlock', false, unlockMs]] as const) {
      const t0 = performance.now();
      const sent = api('POST', `/workers/w1/${verb}`, { by: 'bench', why: `two-proxies round ${round}` }).then((r) => {
        if (r.status !== 200) throw new Error(`${verb}: ${r.status} ${JSON.stringify(r.json)}`);
        if (verb === 'lockdown') lockApiMs.push(performance.now() - t0);
      });
      await Promise.all([
        sent,
        ...[0, 1].map(async (i) => {
          for (;;) {
            const r = await probe(i);
            if (isLocked(r) === want) break;
            if (!isLocked(r) && r.status !== 201) throw new Error(`probe on proxy ${i}: ${r.status} ${r.body}`);
            if (performance.now() - t0 > 30_000) throw new Error(`proxy ${i} did not see the ${verb} within 30 s`);
          }
          into[i].push(performance.now() - t0);
        }),
      ]);
    }
  }
  const both = (xs: number[][]) => xs[0].map((a, k) => Math.max(a, xs[1][k]));
  console.log(`two-proxies: one control, two proxies (separate processes), one Postgres, one Redis; ${ROUNDS} rounds`);
  console.log(`lock (from sending POST /workers/w1/lockdown to the first refused call): proxy A ${fmt(lockMs[0])}, proxy B ${fmt(lockMs[1])}; both ${fmt(both(lockMs))} (the API answered in ${fmt(lockApiMs)}; after its answer: ${fmt(both(lockMs).map((x, k) => Math.max(0, x - lockApiMs[k])))})`);
  console.log(`unlock (to the first call let through again): proxy A ${fmt(unlockMs[0])}, proxy B ${fmt(unlockMs[1])}; both ${fmt(both(unlockMs))}`);

  // (ii-a) the same held call on both proxies, both approvals approved at once (each approve sent twice at once).
  const kill = `/v1.41/containers/${canary}/kill?signal=WINCH`;
  let heldRuns = 0;
  let heldExpected = 0;
  let doubleApproves = 0;
  const heldStatuses = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const since = Date.now() / 1000;
    const held = [0, 1].map((i) => call(undefined, sockets[i], 'POST', kill));
    let pending: Array<{ id: string }> = [];
    await waitFor('two held calls', async () => {
      pending = (await api('GET', '/approvals?status=pending&worker=w1')).json.approvals;
      return pending.length === 2;
    }, 30_000);
    const decisions = await Promise.all(pending.flatMap((a) => [0, 1].map(() => api('POST', `/approvals/${a.id}/approve`, { by: 'bench' }))));
    doubleApproves += decisions.filter((d) => d.status === 200).length - pending.length;
    const answers = await Promise.all(held);
    for (const a of answers) heldStatuses.set(String(a.status), (heldStatuses.get(String(a.status)) ?? 0) + 1);
    heldExpected += 2;
    heldRuns += await kills(since);
  }
  const { json: consumed } = await api('GET', '/approvals?status=consumed&worker=w1&limit=1000');
  console.log(
    `held on both proxies, approved at once: ${ROUNDS * 2} approvals, ${heldRuns} runs seen by the engine (want ${heldExpected}), answers ${[...heldStatuses].map(([s, n]) => `${s}:${n}`).join(' ')}, ` +
      `${doubleApproves} second approves accepted (want 0), ${consumed.approvals.length} approvals consumed`,
  );

  // (ii-b) one grant token presented on both proxies at the same moment: exactly one call passes.
  let tokenRuns = 0;
  let tokenPassed = 0;
  const tokenStatuses = new Map<string, number>();
  for (let round = 0; round < ROUNDS; round++) {
    const g = await api('POST', '/approvals', { worker: 'w1', method: 'POST', path: kill });
    if (g.status !== 201) throw new Error(`POST /approvals: ${g.status} ${JSON.stringify(g.json)}`);
    const ok = await api('POST', `/approvals/${g.json.approval.id}/approve`, { by: 'bench' });
    if (ok.status !== 200) throw new Error(`approve: ${ok.status} ${JSON.stringify(ok.json)}`);
    const since = Date.now() / 1000;
    const answers = await Promise.all([0, 1].map((i) => call(agents[i], sockets[i], 'POST', kill, { 'X-Wingman-Approval': g.json.token })));
    for (const a of answers) {
      const key = a.status === 403 ? `403 (${/"message":"wingman: ([a-z ]+)/.exec(a.body)?.[1]?.trim() ?? a.body.slice(0, 60)})` : String(a.status);
      tokenStatuses.set(key, (tokenStatuses.get(key) ?? 0) + 1);
    }
    tokenPassed += answers.filter((a) => a.status === 204).length;
    tokenRuns += await kills(since);
  }
  console.log(`one grant token on both proxies at once: ${ROUNDS} tokens, ${tokenPassed} calls passed (want ${ROUNDS}), ${tokenRuns} runs seen by the engine, answers ${[...tokenStatuses].map(([s, n]) => `${s}:${n}`).join(' ')}`);

  const { json: left } = await api('GET', '/approvals?status=pending');
  const running = (await dockerOk(['inspect', '-f', '{{.State.Running}}', canary])) === 'true';
  const good = heldRuns === heldExpected && doubleApproves === 0 && tokenPassed === ROUNDS && tokenRuns === ROUNDS && left.approvals.length === 0 && running;
  console.log(`pending approvals left: ${left.approvals.length}; canary running: ${running}`);
  console.log(
    good
      ? `two-proxies: lock reaches both in ${Math.min(...both(lockMs)).toFixed(0)}–${Math.max(...both(lockMs)).toFixed(0)} ms; approval races resolve to exactly one run`
      : 'two-proxies: FAILED (see above)',
  );
  for (const a of agents) a.destroy();
} finally {
  for (const p of procs.reverse()) {
    p.child.kill('SIGTERM');
    await Promise.race([p.exited, new Promise((r) => setTimeout(r, 5_000))]);
    if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
  }
  await docker(['rm', '-f', canary]);
  await docker(['volume', 'rm', '-f', volume]);
  await database.drop();
  fs.rmSync(dir, { recursive: true, force: true });
}
