// The ops console in a real browser (Debian's Chromium through playwright-core) against the real Wingman: sign in,
// see a call the docker CLI made through the proxy held, read its command, approve it and find its effect in the
// engine; deny another and see the CLI's error; a decision made with the CLI reaches an open page within the
// issue's one second; a page of another origin in the same browser approves nothing; lock and unlock a worker.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import t from 'tap';
import type { Page } from 'playwright-core';
import { docker, dockerOk, testName, TEST_IMAGE } from '../helpers/env.js';
import { until } from '../helpers/until.js';
import { startWingman, type Wingman } from '../helpers/wingman.js';
import { launchBrowser, type TestBrowser } from './browser.js';

let w: Wingman;
let browser: TestBrowser;
let page: Page;
const containers: string[] = [];
const volumes: string[] = [];
const runLabel = `wgmtest.case=${testName('console')}`;
const OPS = 'ops-anna';
/** docs/console.md's pictures: `WGMTEST_SCREENSHOT_DIR=$PWD/docs node scripts/test.mjs test/console/console.test.ts` */
const SHOTS = process.env.WGMTEST_SCREENSHOT_DIR;
if (SHOTS) fs.mkdirSync(SHOTS, { recursive: true });

t.before(async () => {
  w = await startWingman();
  browser = await launchBrowser();
  page = await browser.context.newPage();
});
t.teardown(async () => {
  await browser?.close();
  for (const c of containers) await docker(['rm', '-f', c]);
  for (const v of volumes) await docker(['volume', 'rm', '-f', v]);
  await w?.close();
});

async function startContainer(tag: string): Promise<string> {
  const name = testName(tag);
  containers.push(name);
  await dockerOk(['run', '-d', '--name', name, '--label', runLabel, TEST_IMAGE, 'sleep', '600']);
  await w.adopt('w1', 'container', name);
  return name;
}

async function state(name: string): Promise<string> {
  const r = await docker(['inspect', '-f', '{{.State.Status}}', name]);
  return r.code === 0 ? r.stdout.trim() : 'absent';
}

/** The inbox card of a pending approval, found by its accessible name (its heading). */
const card = (summary: RegExp) => page.getByRole('article', { name: summary });

t.test('GET / serves the console with a strict CSP; assets are local files', async (t) => {
  const res = await fetch(`${w.controlUrl}/`);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /text\/html/);
  t.match(res.headers.get('content-security-policy'), /script-src 'self'/);
  t.match(res.headers.get('content-security-policy'), /frame-ancestors 'none'/);
  const html = await res.text();
  t.notMatch(html, /https?:\/\//, 'nothing is loaded from another host');
  const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
  t.ok(script, 'the page loads its bundled script');
  const js = await fetch(`${w.controlUrl}${script}`);
  t.equal(js.status, 200);
  t.match(js.headers.get('cache-control'), /immutable/);
});

t.test('sign in with the API token', async (t) => {
  await page.goto(w.controlUrl);
  await page.getByLabel('API token').fill('wrong-token-wrong-token');
  await page.getByLabel('Your name').fill(OPS);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('alert').filter({ hasText: 'That token was refused' }).waitFor();
  t.pass('a wrong token is refused');

  await page.getByLabel('API token').fill(w.apiToken);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Pending approvals' }).waitFor();
  await page.getByRole('status', { name: 'Connection' }).filter({ hasText: 'live' }).waitFor();
  t.notMatch(page.url(), w.apiToken, 'the token is not in the URL');
  t.same(await browser.context.cookies(), [], 'no cookie holds it');
  t.equal(await page.evaluate(() => JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })).then((s) => s.includes(w.apiToken)), false, 'no storage holds it');
});

t.test('a held docker exec: read its command on the page, approve it, the engine ran it', async (t) => {
  const c = await startContainer('exec');
  const call = w.dockerAs('w1', ['exec', c, 'sh', '-c', 'echo from-console > /approved.txt; cat /approved.txt']);
  const held = card(new RegExp(`w1 wants to run a command in container ${c}`));
  await held.waitFor();
  const text = await held.innerText();
  t.match(text, `$ sh -c 'echo from-console > /approved.txt; cat /approved.txt'`, 'the whole command is shown');
  t.match(text, /ContainerExec/);
  const a = await w.pendingApproval('w1');
  t.match(text, (await w.control.approvals.get(a.id))!.op_hash, 'the op hash the approval is bound to is shown');
  t.match(text, /left/, 'time left is shown');
  t.not((await docker(['exec', c, 'cat', '/approved.txt'])).code, 0, 'nothing ran while held');

  await held.getByRole('button', { name: 'Approve' }).click();
  const r = await call;
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout.trim(), 'from-console');
  t.equal((await dockerOk(['exec', c, 'cat', '/approved.txt'])).trim(), 'from-console', 'the engine shows the effect');
  const stored = await w.control.approvals.get(a.id);
  t.equal(stored?.status, 'consumed');
  t.equal(stored?.decided_by, `api:${OPS}`);
  await held.waitFor({ state: 'detached' });
});

t.test('deny with a note: the docker CLI prints it and the container stays', async (t) => {
  const c = await startContainer('deny');
  const call = w.dockerAs('w1', ['rm', '-f', c]);
  const held = card(new RegExp(`w1 wants to remove container ${c}`));
  await held.waitFor();
  t.match(await held.innerText(), /Force\s+yes/, 'the force flag is spelled out');
  await held.getByLabel('Note').fill('not from the console');
  await held.getByRole('button', { name: 'Deny' }).click();
  const r = await call;
  t.not(r.code, 0);
  t.match(r.stderr, new RegExp(`denied by api:${OPS}: not from the console \\(approval [0-9a-f-]{36}\\)`));
  t.equal(await state(c), 'running');
});

t.test('a decision made with the CLI shows on the open page within a second', async (t) => {
  const c = await startContainer('cli');
  const call = w.dockerAs('w1', ['kill', c]);
  const held = card(new RegExp(`w1 wants to kill container ${c}`));
  await held.waitFor();
  t.match(await held.innerText(), /Signal\s+SIGKILL/);
  const a = await w.pendingApproval('w1');
  const r0 = await w.cli(['approve', a.id, '--by', 'ops-bob']);
  t.equal(r0.code, 0, r0.stderr);
  // The bound: within 1 s of the decision the page shows it.
  await page
    .getByRole('list', { name: 'Recently decided' })
    .locator(`[data-approval="${a.id}"]`)
    .filter({ hasText: 'Approved by api:ops-bob' })
    .waitFor({ timeout: 1000 });
  await held.waitFor({ state: 'detached', timeout: 1000 });
  t.equal((await call).code, 0);
  t.equal(await until('container exited', async () => ((await state(c)) === 'exited' ? 'exited' : undefined)), 'exited');
});

t.test('a page of another origin in the same browser cannot approve', async (t) => {
  const c = await startContainer('origin');
  const call = w.dockerAs('w1', ['rm', '-f', c]);
  await card(new RegExp(`w1 wants to remove container ${c}`)).waitFor();
  const a = await w.pendingApproval('w1');
  if (SHOTS) {
    // A second held call beside it, so the picture shows the inbox as ops see it.
    const c2 = await startContainer('shot');
    const second = w.dockerAs('w1', ['exec', c2, 'sh', '-c', 'rm -rf /tmp/cache && echo cleaned']);
    await card(new RegExp(`w1 wants to run a command in container ${c2}`)).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'console-inbox.png'), fullPage: true });
    const b = (await w.control.approvals.list({ status: 'pending', worker: 'w1' })).find((x) => x.id !== a.id)!;
    await w.control.approvals.answer(b.id, 'deny', 'api:screenshot');
    await second;
  }

  // Another origin: same host, another port, served by this test.
  const evil = http.createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>elsewhere</title>'));
  await new Promise<void>((r) => evil.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => {
    evil.closeAllConnections();
    evil.close(() => r());
  }));
  const other = await browser.context.newPage();
  await other.goto(`http://127.0.0.1:${(evil.address() as { port: number }).port}/`);
  const target = `${w.controlUrl}/approvals/${a.id}/approve`;
  const tries = await other.evaluate(
    async ({ target, token }) => {
      const out: string[] = [];
      // 1. A simple request (no preflight), with whatever the browser holds for that origin.
      try {
        const r = await fetch(target, { method: 'POST', mode: 'no-cors', credentials: 'include', headers: { 'content-type': 'text/plain' }, body: '{"by":"evil"}' });
        out.push(`no-cors: ${r.type}`);
      } catch (e) {
        out.push(`no-cors: ${(e as Error).name}`);
      }
      // 2. Even knowing the token, a cross-origin call with Authorization needs a preflight nobody answers.
      try {
        const r = await fetch(target, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: '{"by":"evil"}' });
        out.push(`cors: ${r.status}`);
      } catch (e) {
        out.push(`cors: ${(e as Error).name}`);
      }
      // 3. A form post.
      const f = document.createElement('form');
      f.method = 'POST';
      f.action = target;
      f.enctype = 'text/plain';
      const i = document.createElement('input');
      i.name = '{"by":"evil","x":"';
      i.value = '"}';
      f.append(i);
      document.body.append(f);
      f.submit();
      return out;
    },
    { target, token: w.apiToken },
  );
  t.same(tries, ['no-cors: opaque', 'cors: TypeError'], 'the answer is unreadable and the token-bearing call is blocked');
  await other.waitForURL(target);
  await other.waitForLoadState('load');
  t.match(await other.content(), /another origin|WGM_ERR_API_ORIGIN/, 'the form post is refused for its origin');
  await other.close();
  t.equal((await w.control.approvals.get(a.id))?.status, 'pending', 'still pending: nothing was approved');
  t.equal(await state(c), 'running');

  // The Origin check stands even for a request that carries the token.
  const forged = await w.control.server.inject({
    method: 'POST',
    url: `/approvals/${a.id}/approve`,
    headers: { authorization: `Bearer ${w.apiToken}`, origin: 'http://127.0.0.1:9', 'content-type': 'application/json' },
    payload: { by: 'evil' },
  });
  t.equal(forged.statusCode, 403);
  t.equal(forged.json().code, 'WGM_ERR_API_ORIGIN');
  t.equal((await w.control.approvals.get(a.id))?.status, 'pending');

  await card(new RegExp(`w1 wants to remove container ${c}`)).getByRole('button', { name: 'Deny' }).click();
  t.not((await call).code, 0);
});

t.test('lock and unlock a worker from its page', async (t) => {
  await page.getByRole('link', { name: 'Workers' }).click();
  const row = page.getByRole('row', { name: /^w1 / });
  await row.getByText('Running').waitFor();
  await row.getByRole('link', { name: 'w1' }).click();
  await page.getByRole('heading', { name: 'Worker w1' }).waitFor();
  await page.getByLabel('Reason').fill('console test: suspicious');
  await page.getByRole('button', { name: 'Lock' }).click();
  await page.getByText('Locked down: console test: suspicious').waitFor();
  t.equal((await w.control.workers.get('w1'))?.locked, true, 'the store says locked');
  const vol = testName('lockvol');
  volumes.push(vol);
  const refused = await w.dockerAs('w1', ['volume', 'create', '--label', runLabel, vol]);
  t.not(refused.code, 0, 'a locked worker’s writes are refused');
  t.match(refused.stderr, /locked/);
  t.not((await docker(['volume', 'inspect', vol])).code, 0, 'the engine has no such volume');

  await page.getByRole('button', { name: 'Unlock' }).click();
  await page.getByText('Running').waitFor();
  t.equal((await w.control.workers.get('w1'))?.locked, false);
  const ok = await w.dockerAs('w1', ['volume', 'create', '--label', runLabel, vol]);
  t.equal(ok.code, 0, ok.stderr);
  t.equal((await docker(['volume', 'inspect', vol])).code, 0, 'after unlock the engine has it');
  await page.getByRole('listitem').filter({ hasText: /unlocked by api:ops-anna/ }).waitFor();
});

t.test('the audit view: filters, rows linking to their approval', async (t) => {
  await page.getByRole('link', { name: 'Audit' }).click();
  await page.getByRole('heading', { name: 'Audit' }).waitFor();
  const filters = page.getByRole('search', { name: 'Filter' });
  await filters.getByLabel('Rule').fill('ContainerDelete');
  await filters.getByLabel('Decision').selectOption('denied');
  await filters.getByRole('button', { name: 'Apply filters' }).click();
  const table = page.getByRole('table', { name: 'Docker calls' });
  await table.waitFor();
  const rows = table.getByRole('row');
  await until('denied rows', async () => ((await rows.count()) >= 3 ? true : undefined), 10_000);
  const cells = await table.locator('tbody tr td:nth-child(5)').allInnerTexts();
  t.ok(cells.length >= 2 && cells.every((c) => c === 'denied'), `only denied rows: ${cells.join(',')}`);
  await table.getByRole('link').first().click();
  await page.getByRole('heading', { name: /^Approval [0-9a-f-]{36}$/ }).waitFor();
  t.match(await page.innerText('main'), /Denied by api:ops-anna/);
  if (SHOTS) {
    await page.goto(`${w.controlUrl}/#/audit/docker`);
    await page.getByRole('table', { name: 'Docker calls' }).waitFor();
    await page.screenshot({ path: path.join(SHOTS, 'console-audit.png') });
  }
});
