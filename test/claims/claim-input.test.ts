// /log_claim bodies: what is accepted, what is refused with a clear message, and what is redacted before storage.
import t from 'tap';
import { claimFromBody } from '../../core/claims/claim-input.js';
import { isWingmanError } from '../../core/errors.js';

const BAD: [string, unknown, RegExp][] = [
  ['not an object', 'created x', /expected a JSON object/],
  ['array', [{ type: 'file_created' }], /expected a JSON object/],
  ['null', null, /expected a JSON object/],
  ['empty object', {}, /expected "type"/],
  ['unknown type', { type: 'file_exploded', path: 'x' }, /unknown claim type "file_exploded"; expected one of file_created/],
  ['worker given', { type: 'file_created', path: 'x', worker: 'w2' }, /"worker" is not accepted/],
  ['worker given with text', { text: 'created x.js', worker: 'w2' }, /"worker" is not accepted/],
  ['missing path', { type: 'file_created' }, /path/],
  ['path not a string', { type: 'file_deleted', path: 42 }, /path/],
  ['empty path', { type: 'file_modified', path: '' }, /path/],
  ['NUL in path', { type: 'file_modified', path: 'a\u0000b' }, /NUL/],
  ['bad sha256', { type: 'file_created', path: 'x', sha256: 'abc' }, /sha256: expected 64 hex/],
  ['unknown param', { type: 'file_created', path: 'x', mtime: 1 }, /mtime|unrecognized|Unrecognized/],
  ['contains without text or regex', { type: 'file_contains', path: 'x' }, /exactly one of text or regex/],
  ['contains with both', { type: 'file_contains', path: 'x', text: 'a', regex: 'a' }, /exactly one of text or regex/],
  ['contains with a broken regex', { type: 'file_contains', path: 'x', regex: '(' }, /not a valid regular expression/],
  ['port out of range', { type: 'port_listening', port: 70000 }, /port/],
  ['port as string', { type: 'port_listening', port: '80' }, /port/],
  ['container name with a slash inside', { type: 'container_running', name: 'a/b' }, /container name/],
  ['empty argv', { type: 'command_executed', argv: [] }, /argv/],
  ['argv not strings', { type: 'command_executed', argv: [1, 2] }, /argv/],
  ['exit code out of range', { type: 'command_executed', argv: ['x'], exit_code: 300 }, /exit_code/],
  ['negative total', { type: 'tests_passed', total: -1 }, /total/],
  ['bad instruction_id', { type: 'tests_passed', instruction_id: 'abc' }, /instruction_id must be a UUID/],
  ['empty text', { text: '  ' }, /non-empty string/],
  ['text not a string', { text: 7 }, /non-empty string/],
  ['text too long', { text: 'x'.repeat(4001) }, /longer than 4000/],
  ['text with extra fields', { text: 'created a.js', path: 'b.js' }, /unexpected field/],
];

t.test('refused bodies: WGM_ERR_CLAIM_INVALID with the reason', async (t) => {
  for (const [name, body, re] of BAD) {
    try {
      await claimFromBody(body, 'w1');
      t.fail(`${name}: accepted`);
    } catch (err) {
      t.ok(isWingmanError(err, 'WGM_ERR_CLAIM_INVALID'), `${name}: coded error`);
      t.match((err as Error).message, re, name);
    }
  }
});

t.test('accepted bodies', async (t) => {
  const now = new Date('2030-01-02T03:04:05.000Z');
  const a = await claimFromBody({ type: 'file_created', path: 'dist/app.js', sha256: 'A'.repeat(64), instruction_id: '11111111-1111-4111-8111-111111111111' }, 'w1', now);
  t.match(a, { worker: 'w1', type: 'file_created', source: 'structured', raw_text: null, logged_at: now.toISOString(), instruction_id: '11111111-1111-4111-8111-111111111111' });
  t.same(a.params, { path: 'dist/app.js', sha256: 'a'.repeat(64) }, 'sha256 normalised to lower case');
  t.match(a.id, /^[0-9a-f-]{36}$/);
  const b = await claimFromBody({ type: 'file_contains', path: 'a.txt', text: 'hello' }, 'w1');
  t.same(b.params, { path: 'a.txt', text: 'hello' }, 'with "type", "text" is a parameter');
  const one = await claimFromBody({ text: 'Deleted /tmp/x' }, 'w1');
  t.match(one, { type: 'file_deleted', source: 'text', raw_text: 'Deleted /tmp/x', params: { path: '/tmp/x' } });
  const neg = await claimFromBody({ text: 'I did not delete /tmp/x' }, 'w1');
  t.same(neg.params, { path: '/tmp/x', negated: true });
  const several = await claimFromBody({ text: 'Created a.js and nginx is running.' }, 'w1');
  t.equal(several.type, 'compound');
  t.equal((several.params.parts as unknown[]).length, 2);
  const none = await claimFromBody({ text: 'Looks good to me' }, 'w1');
  t.equal(none.type, 'free_text');
  t.match(none.params.reason, /no checkable statement/);
  const onlyUrl = await claimFromBody({ text: 'Created https://example.com/pr/1' }, 'w1');
  t.equal(onlyUrl.type, 'compound', 'a recognised but uncheckable statement is kept with its reason');
  t.match(onlyUrl.params.unverifiable, [{ reason: /URL/ }]);
});

t.test('secrets are redacted before anything is kept', async (t) => {
  const key = 'AKIA' + 'Q3EGRQ7YDXKT2N5Z';
  const tg = '123456789:' + 'AA' + 'Hx7Yq2Lk9Vb3Nm5Pq8Rs1Tu4Wx6Yz0Ab_'; // the shape of a bot token: 35 characters after the colon
  const text = await claimFromBody({ text: `Added "AWS_ACCESS_KEY_ID=${key}" to .env` }, 'w1');
  t.notMatch(JSON.stringify(text), key);
  t.match(text.raw_text, /REDACTED/);
  t.equal(text.params.redacted, true, 'the part that held the secret is marked');
  const structured = await claimFromBody({ type: 'file_contains', path: '.env', text: `BOT=${tg}` }, 'w1');
  t.notMatch(JSON.stringify(structured), tg);
  t.equal(structured.params.redacted, true);
  const argv = await claimFromBody({ type: 'command_executed', argv: ['deploy', `--token=${tg}`] }, 'w1');
  t.notMatch(JSON.stringify(argv), tg);
  t.notOk(argv.params.redacted, 'argv stays comparable: /executed redacts it the same way');
});
