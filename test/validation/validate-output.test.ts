// validateOutput as a surface sees it: input checks fail closed with a coded error, paths are read through the
// caller's reader only, oversized and binary files, and the final scrub that keeps every secret out of the result.
import t from 'tap';
import { isWingmanError } from '../../core/errors.js';
import { LIMITS, validateOutput } from '../../validation/validate-output.js';
import type { ValidationInput } from '../../validation/types.js';
import { FAKE_AWS_ID, FAKE_GITHUB_TOKEN, j, noSecrets } from './fixtures/helpers.js';

t.test('malformed input is a WGM_ERR_VALIDATION_INVALID error, never a crash', async (t) => {
  const bad: [string, unknown][] = [
    ['not an object', null],
    ['files not an array', { files: 'a.ts' }],
    ['paths not an array', { paths: 'a.ts', readFile: async () => '' }],
    ['file without content', { files: [{ path: 'a.ts' }] }],
    ['file with a non-string path', { files: [{ path: 3, content: '' }] }],
    ['empty path', { files: [{ path: '', content: '' }] }],
    ['NUL in a path', { files: [{ path: 'a\u0000.ts', content: '' }] }],
    ['duplicate paths', { files: [{ path: 'a.ts', content: '' }, { path: './a.ts', content: '' }] }],
    ['paths without a reader', { paths: ['a.ts'] }],
    ['nothing to validate', {}],
    ['negative expected_total', { files: [{ path: 'a.ts', content: '' }], expected_total: -1 }],
    ['fractional expected_total', { files: [{ path: 'a.ts', content: '' }], expected_total: 1.5 }],
    ['test_results not a string', { files: [{ path: 'a.ts', content: '' }], test_results: 3 }],
    ['runTests not a function', { files: [{ path: 'a.ts', content: '' }], runTests: 'npm test' }],
    ['too many files', { files: Array.from({ length: LIMITS.maxFiles + 1 }, (_, i) => ({ path: `f${i}.txt`, content: '' })) }],
  ];
  for (const [name, input] of bad) {
    await t.rejects(validateOutput(input as ValidationInput, { scanSecrets: noSecrets }), { code: 'WGM_ERR_VALIDATION_INVALID' }, name);
  }
  const err = await validateOutput({}).catch((e: unknown) => e);
  t.ok(isWingmanError(err, 'WGM_ERR_VALIDATION_INVALID'));
  t.equal((err as { statusCode: number }).statusCode, 400, 'a 4xx for the HTTP surfaces');
});

t.test('paths are read through the given reader; unreadable ones reject, inline files win', async (t) => {
  const seen: string[] = [];
  const disk: Record<string, string> = { 'src/a.ts': 'export const a = 1;\n', 'src/b.ts': 'export const b = 2;\n' };
  const r = await validateOutput(
    {
      files: [{ path: 'src/a.ts', content: 'export const a = 3;\n' }],
      paths: ['src/a.ts', 'src/b.ts', 'src/none.ts'],
      readFile: async (p) => {
        seen.push(p);
        if (!(p in disk)) throw Object.assign(new Error('x'), { code: 'ENOENT' });
        return disk[p];
      },
    },
    { scanSecrets: noSecrets },
  );
  t.same(seen, ['src/b.ts', 'src/none.ts'], 'the inline file is not read again');
  t.equal(r.decision, 'AUTO_REJECT');
  t.same(r.blocking_issues, ['src/none.ts [syntax.file-unreadable] listed file cannot be read: it does not exist']);
});

t.test('a reader that returns something else than text counts as unreadable', async (t) => {
  const r = await validateOutput({ paths: ['a.ts'], readFile: async () => Buffer.from('x') as unknown as string }, { scanSecrets: noSecrets });
  t.equal(r.decision, 'AUTO_REJECT');
  t.match(r.blocking_issues[0], /returned no text/);
});

t.test('an oversized file is not validated and rejects', async (t) => {
  const big = 'x'.repeat(LIMITS.maxFileBytes + 1);
  const r = await validateOutput({ files: [{ path: 'gen/big.js', content: big }] }, { scanSecrets: noSecrets });
  t.equal(r.decision, 'AUTO_REJECT');
  t.match(r.blocking_issues[0], /gen\/big\.js .*larger than/);
});

t.test('a binary file is not parsed but still counts', async (t) => {
  const r = await validateOutput({ files: [{ path: 'img/logo.png', content: '\u0089PNG\r\n\u001a\n\u0000\u0000garbage{{{' }] });
  t.equal(r.decision, 'AUTO_APPROVE');
  t.same(r.findings, []);
});

t.test('results contain no secret: findings, messages, file names, imports, reasons', async (t) => {
  const token = FAKE_GITHUB_TOKEN;
  const r = await validateOutput({
    files: [
      { path: 'src/keys.ts', content: `export const k = "${FAKE_AWS_ID}";\n` },
      { path: `notes/${token}.json`, content: '{\n' },
      { path: 'src/imp.ts', content: `import x from '${token}';\nexport default x;\n` },
    ],
  });
  const text = JSON.stringify(r);
  t.notOk(text.includes(FAKE_AWS_ID), 'no AWS key');
  t.notOk(text.includes(token), 'no token, not even in a file name or an import name');
  t.notOk(text.includes(j('ghp_', 'A1b2C3d4')), 'no long prefix either');
  t.ok(r.findings.some((f) => f.rule === 'secret.aws_access_key_id'), 'the key is still reported');
  t.ok(r.findings.some((f) => f.file.includes('[REDACTED')), 'the file name is redacted');
  t.equal(r.decision, 'AUTO_REJECT');
});

t.test('the scrub removes raw secret values even when the scanner misses them in the output', async (t) => {
  // A scanner that only knows one made-up secret: the validator must still keep it out of every message.
  const secret = j('zz-', 'made-up-secret-value-91');
  const scan = async (text: string) => {
    const out = [];
    for (let i = text.indexOf(secret); i >= 0; i = text.indexOf(secret, i + 1)) {
      out.push({ kind: 'made_up', line: 1, column: 1, start: i, end: i + secret.length, preview: 'zz-…[redacted]' });
    }
    return out;
  };
  const r = await validateOutput({ files: [{ path: 'a.js', content: `import m from '${secret}';\nexport default m;\n` }] }, { scanSecrets: scan });
  t.notOk(JSON.stringify(r).includes(secret));
  t.ok(r.findings.some((f) => f.rule === 'dependency.unresolved'));
});

t.test('secrets are located in the right file, line and column when files are scanned together', async (t) => {
  const r = await validateOutput({
    files: [
      { path: 'a.md', content: 'nothing here\n' },
      { path: 'src/b.ts', content: `export const a = 1;\n\nexport const key = "${FAKE_AWS_ID}";\n` },
      { path: 'c.env', content: `X=1\nGITHUB_TOKEN=${FAKE_GITHUB_TOKEN}\n` },
    ],
  });
  const s = r.findings.filter((f) => f.rule.startsWith('secret.')).map((f) => `${f.file}:${f.line}:${f.column}`).sort();
  t.same(s, ['c.env:2:14', 'src/b.ts:3:21']);
});
