// core/secrets/secretlint-secrets.ts runs the preset's rules itself (created once, handlers called in turn) instead
// of through secretlint's lintSource. This holds it to lintSource: for a corpus that trips every text rule of the
// preset (and texts that trip none), the same messages at the same ranges, and concurrent scans that do not mix
// their findings. Fake secrets are assembled from parts so this file does not look like a leak itself.
import t from 'tap';
import { lintSource } from '@secretlint/core';
import { rules as presetRules } from '@secretlint/secretlint-rule-preset-recommend';
import { findSecretlintSecrets, SECRETLINT_KINDS, secretlintSpans } from '../../core/secrets/secretlint-secrets.js';

const j = (...p: string[]) => p.join('');
const rep = (s: string, n: number) => s.repeat(Math.ceil(n / s.length)).slice(0, n);
const mixed = (n: number) => rep('Ab3dE5gH7jK9mN1pQ2rS4tU6vW8xY0z', n);
const pemBody = rep('MIIEowIBAAKCAQEAx4vN0s8VkR2zq1mJ9yP3wL5tH7uK0bN6cX2dF4gA8eW1rT3y\n', 200);

const TOKENS: Record<string, string> = {
  aws_key_id: j('AKIA', 'Z3MSJV4WWNKXHQ7E'),
  aws_secret: j('aws_secret_access_key = "', 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYzQ1b2c3d4e', '"'),
  aws_account: j('aws_account_id = "', '1234-5678-9012', '"'),
  npm: j('npm_', mixed(36)),
  npmrc: j('//registry.npmjs.org/:_authToken=', 'abcdef01-2345-6789-abcd-ef0123456789'),
  github_oauth: j('https://', 'a1b2c3d4e5f6', ':x-oauth-basic@github.com/'),
  slack: j('xoxb-', '123456789012-1234567890123-', 'AbCdEfGhIjKlMnOpQrStUvWx'),
  slack_webhook: j('https://hooks.slack.com/services/', 'T0123ABCD/B0123ABCD/', 'AbCdEfGhIjKlMnOpQrSt'),
  basic_auth: j('https://', 'deploy:', 's3cretPw7q', '@example.com/path'),
  openai: j('sk-', mixed(20), 'T3BlbkFJ', mixed(20)),
  anthropic: j('sk-ant-api03-', mixed(95), 'AA'),
  groq: j('gsk_', mixed(52)),
  huggingface: j('hf_', rep('AbCdEfGhIjKlMnOpQrStUvWxYz', 34)),
  linear: j('lin_api_', mixed(40)),
  notion: j('ntn_', '12345678901', mixed(35)),
  pem: j('-----BEGIN RSA ', 'PRIVATE KEY-----\n', pemBody, '-----END RSA ', 'PRIVATE KEY-----'),
  sendgrid: j('SG.', mixed(22), '.', mixed(43)),
  shopify: j('shpat_', rep('0123456789abcdef', 32)),
  github: j('ghp_', mixed(36)),
  github_fine: j('github_pat_', mixed(82)),
  gitlab: j('glpat-', mixed(20)),
  grafana: j('glc_', mixed(40)),
  grafana_sa: j('glsa_', mixed(32), '_', 'deadbeef'),
  onepassword: j('ops_', 'ey', mixed(120), 'fQ=='),
  mongodb: j('mongodb://', 'app:', 'Zq8wPl3xRt', '@db.local:27017/app'),
  mysql: j('mysql://', 'app:', 'Zq8wPl3xRt', '@db.local/app'),
  postgres: j('postgres://', 'app:', 'hunter2Xy9', '@db.local/app'),
  vault: j('hvs.', mixed(95)),
  vercel: j('vcp_', mixed(30)),
  databricks: j('dapi', rep('0123456789abcdef', 32)),
  docker: j('dckr_pat_', mixed(27)),
  figma: j('figd_', mixed(45)),
};

const PROSE = [
  'Build the app file and run the tests; never force-push and never touch files outside /work.',
  'password: ${DB_PASSWORD}\nrequest_id: 550e8400-e29b-41d4-a716-446655440000',
  'postgres://user:password@localhost/db and https://user:${PASS}@host/x',
  'AWS access key ids start with AKIA followed by 16 characters, e.g. AKIAXXXXXXXXXXXXXXXX.',
  '<!-- secretlint-disable --> the filter-comments rule is left out, so this switches nothing off',
];

const CORPUS: string[] = [
  ...PROSE,
  ...Object.values(TOKENS).map((tok) => `see ${tok} here`),
  Object.values(TOKENS).join('\n'),
  PROSE.join('\n') + '\n' + Object.values(TOKENS).slice(0, 10).join(' and '),
  `config:\n  ${TOKENS.aws_secret}\n  url: ${TOKENS.postgres}\n  token: "${TOKENS.github}"`,
];

const CONFIG = {
  rules: presetRules
    .filter((r) => r.meta.id !== '@secretlint/secretlint-rule-filter-comments')
    .map((rule) => ({ id: rule.meta.id, rule })),
} as Parameters<typeof lintSource>[0]['options']['config'];

async function reference(text: string): Promise<string[]> {
  const r = await lintSource({
    source: { content: text, filePath: 'scanned-text.txt', ext: '.txt', contentType: 'text' },
    options: { config: CONFIG, noPhysicFilePath: true, maskSecrets: false },
  });
  return r.messages.map((m) => `${m.messageId}@${m.range[0]}-${m.range[1]}`).sort();
}

async function ours(text: string): Promise<string[]> {
  const spans = await findSecretlintSecrets(text);
  return spans.map((s) => s.messageId).sort();
}

t.test('same messages as lintSource, for every text rule of the preset', async (t) => {
  const seen = new Set<string>();
  for (const text of CORPUS) {
    const want = await reference(text);
    const ids = [...new Set(want.map((w) => w.split('@')[0]))].sort();
    for (const id of ids) seen.add(id);
    // lintSource drops exact duplicates (same message at the same range); ours reports each, and the findings are
    // merged afterwards (buildFindings), so compare the set of (message id, range).
    const got = [...new Set(await ours(text))];
    t.same(got, ids, `same message ids for ${JSON.stringify(text.slice(0, 40))}`);
  }
  // Every rule that can fire on text fired at least once in the corpus (else the comparison proves little).
  const kinds = new Set([...seen].map((id) => SECRETLINT_KINDS.get(id)));
  t.ok(kinds.size >= 25, `the corpus trips many rules (${kinds.size}: ${[...kinds].sort().join(', ')})`);
});

t.test('same located spans as through lintSource', async (t) => {
  const key = (s: { messageId: string; start: number; end: number; kind: string }) => `${s.messageId}:${s.kind}:${s.start}-${s.end}`;
  for (const text of CORPUS) {
    const r = await lintSource({
      source: { content: text, filePath: 'scanned-text.txt', ext: '.txt', contentType: 'text' },
      options: { config: CONFIG, noPhysicFilePath: true, maskSecrets: false },
    });
    const want = [...new Set(secretlintSpans(text, r.messages.map((m) => ({ messageId: m.messageId, range: m.range, data: m.data }))).map(key))].sort();
    const got = [...new Set((await findSecretlintSecrets(text)).map(key))].sort();
    t.same(got, want, `same spans for ${JSON.stringify(text.slice(0, 40))}`);
  }
});

t.test('concurrent scans keep their findings apart', async (t) => {
  const texts = Object.values(TOKENS).map((tok, i) => (i % 2 ? `nothing to see ${i}` : `token ${tok}`));
  const results = await Promise.all(texts.map((x) => findSecretlintSecrets(x)));
  for (let i = 0; i < texts.length; i++) {
    if (i % 2) t.same(results[i], [], `clean text ${i} has no finding`);
    for (const s of results[i]) t.ok(s.end <= texts[i].length, `finding ${s.messageId} lies inside text ${i}`);
  }
});
