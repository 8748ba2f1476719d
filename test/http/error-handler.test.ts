// The one error handler of control and the sidecar: statuses and messages come from core/errors.ts, a client's
// input is never echoed, schema errors say which field, anything unexpected is a bare 500.
import Fastify from 'fastify';
import t from 'tap';
import { ERRORS, wingmanError } from '../../core/errors.js';
import { errorHandler } from '../../core/http/error-handler.js';
import { createLogger } from '../../core/log.js';

const SECRET = 'hunter2-hunter2-hunter2';

async function app() {
  const server = Fastify({ loggerInstance: createLogger({ level: 'silent' }), bodyLimit: 1024 });
  server.setErrorHandler(errorHandler({ accepts: 'application/json (or text/markdown)' }));
  server.post<{ Body: { name: string } }>(
    '/typed',
    { schema: { body: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: { type: 'string' } } } } },
    async () => ({ ok: true }),
  );
  server.get('/coded', async () => {
    throw wingmanError('WGM_ERR_WORKER_LOCKED', 'locked down: FALSE claim', { reason: 'FALSE claim' });
  });
  server.get('/bug', async () => {
    throw new Error(`connection terminated at ${SECRET}`);
  });
  server.get('/client-error', async () => {
    throw Object.assign(new Error(`you sent ${SECRET}`), { statusCode: 404 });
  });
  await server.ready();
  return server;
}

t.test('a coded error answers with its status and code; the reason comes along', async (t) => {
  const s = await app();
  const r = await s.inject({ method: 'GET', url: '/coded' });
  t.equal(r.statusCode, ERRORS.WGM_ERR_WORKER_LOCKED.status);
  t.same(r.json(), { message: 'worker is locked down: locked down: FALSE claim', code: 'WGM_ERR_WORKER_LOCKED', reason: 'FALSE claim' });
});

t.test('client mistakes: the status of their code, and nothing of the input echoed', async (t) => {
  const s = await app();
  const post = (payload: string, type = 'application/json') => s.inject({ method: 'POST', url: '/typed', payload, headers: { 'content-type': type } });
  const cases: [string, Awaited<ReturnType<typeof post>>, number, string, RegExp][] = [
    ['invalid JSON', await post(`{"name": "${SECRET}`), 400, 'WGM_ERR_API_BAD_REQUEST', /not valid JSON/],
    ['empty JSON body', await post(''), 400, 'WGM_ERR_API_BAD_REQUEST', /empty/],
    ['schema', await post(JSON.stringify({ nom: SECRET })), 400, 'WGM_ERR_API_BAD_REQUEST', /must have required property 'name'/],
    ['content type', await post(SECRET, 'application/xml'), 415, 'WGM_ERR_API_MEDIA_TYPE', /application\/json \(or text\/markdown\)/],
    ['too large', await post(JSON.stringify({ name: SECRET.repeat(100) })), 413, 'WGM_ERR_API_BODY_TOO_LARGE', /too large/],
    ['a 4xx thrown with a message', await s.inject({ method: 'GET', url: '/client-error' }), 400, 'WGM_ERR_API_BAD_REQUEST', /^bad request$/],
  ];
  for (const [name, r, status, code, re] of cases) {
    t.equal(r.statusCode, status, name);
    t.equal(ERRORS[code as keyof typeof ERRORS].status, status, `${name}: the table's status`);
    t.equal(r.json().code, code, name);
    t.match(r.json().message, re, name);
    t.notOk(r.body.includes('hunter2'), `${name}: the input is not echoed`);
  }
});

t.test('anything unexpected is a 500 without details, whatever its message says', async (t) => {
  const s = await app();
  const r = await s.inject({ method: 'GET', url: '/bug' });
  t.equal(r.statusCode, 500, 'a message mentioning a connection does not make it a 503');
  t.same(r.json(), { message: 'internal error', code: 'WGM_ERR_INTERNAL' });
});
