// Table-driven tests of the shared secret scanner: every kind is found and redacted, near-misses are left alone,
// and no finding ever carries the secret. Fake secrets are assembled from parts so this file itself does not look
// like a leak to a scanner run over the repository.
import t from 'tap';
import {
  redactSecrets,
  redactSecretsSync,
  scanSecrets,
  scanSecretsSync,
  isHighEntropySecret,
  type SecretFinding,
} from '../../core/secrets/index.js';
import { SECRETLINT_KINDS } from '../../core/secrets/secretlint-secrets.js';
import { isWingmanError } from '../../core/errors.js';

const j = (...parts: string[]): string => parts.join('');

// Fixed fakes (deterministic, realistic shapes).
const AWS_ID = j('AKIA', 'Z3MSJV4WWNKXHQ7E');
const AWS_TEMP_ID = j('ASIA', 'Q4LMXN2RT8VZK5PW');
const AWS_DOC_ID = j('AKIA', 'IOSFODNN7EXAMPLE');
const AWS_SECRET = j('wJalrXUtnFEMI/K7MDENG/', 'bPxRfiCYzQ1b2c3d4e');
const OPENAI_KEY = j('sk-', 'proj-', 'Xa81kPq3Zt9LmW2vB7nC4dR6', 'T3BlbkFJ', 'yH5uJ0iK9oL8pM7nB6vC');
const ANTHROPIC_KEY = j('sk-ant-', 'api03-', 'Qw3rTy9UiOp1AsDfGh2JkLzXcVbNm4Q7wE5rT6yU8iO0pAsD');
const PLAIN_SK = j('sk-', 'a8F3kd92LmQx7Zp1Vb4NcR6t');
const GITHUB_TOKEN = j('ghp_', 'A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8');
const SLACK_TOKEN = j('xoxb-', '123456789012-1234567890123-', 'AbCdEfGhIjKlMnOpQrStUvWx');
const TELEGRAM = j('123456789', ':AA', 'HdqTcvCH1vGWJxfSeofSAs0K5PALDsawq');
const PEM_BODY = [
  'MIIEowIBAAKCAQEAx4vN0s8VkR2zq1mJ9yP3wL5tH7uK0bN6cX2dF4gA8eW1rT3y',
  'Qz9LmXp2Vb7Nc4Rt6Yh1Uj3Ik5Ol8Pa0Sd2Fg4Hj6Kl8Zx0Cv2Bn4Mq6We8Rt0Yu',
  'Ai2Op4As6Df8Gh0Jk2Lz4Xc6Vb8Nm0Qw2Er4Ty6Ui8Op0As2Df4Gh6Jk8Lz0Xc2V',
];
const PEM = j('-----BEGIN RSA ', 'PRIVATE KEY-----\n', PEM_BODY.join('\n'), '\n-----END RSA ', 'PRIVATE KEY-----');
const PEM_ESCAPED = j('-----BEGIN ', 'PRIVATE KEY-----\\n', PEM_BODY.join('\\n'), '\\n-----END ', 'PRIVATE KEY-----');
const PEM_OPENSSH = j('-----BEGIN OPENSSH ', 'PRIVATE KEY-----\n', 'b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAABAAAAMwAAAAtzc2gtZW\n', '-----END OPENSSH ', 'PRIVATE KEY-----');
const PEM_TRUNCATED = j('-----BEGIN EC ', 'PRIVATE KEY-----\n', PEM_BODY.join('\n'));
const PASSWORD = j('Tr0ub4dor', '.3x!');
const URL_PASSWORD = j('hunter2', 'Xy9');
const RANDOM_B64 = j('Zx8Qp2Lm', 'Vn4Rt6Yh', 'Bj1Kc3Wd', '5Fg7Hs9A');
const HEX64 = j('9f86d081884c7d659a2feaa0c55ad015', 'a3bf4f1b2b0b822cd15d6c15b0f00a08');
const JWT = j('eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9', '.', 'eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ', '.', 'SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c');
const BEARER = j('a9Vf3Kq7', 'Lm2Xp8Zt', '4Rb6Nc1W');
const NPM_TOKEN = j('npm_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8');

interface Positive {
  name: string;
  text: string;
  secret: string;
  kind: string;
}

const POSITIVES: Positive[] = [
  { name: 'AWS access key id (AKIA), bare', text: `key id is ${AWS_ID} ok`, secret: AWS_ID, kind: 'aws_access_key_id' },
  { name: 'AWS access key id (ASIA), env', text: `export AWS_ACCESS_KEY_ID=${AWS_TEMP_ID}`, secret: AWS_TEMP_ID, kind: 'aws_access_key_id' },
  { name: 'AWS documented example id is still flagged (fail closed)', text: `aws_access_key_id = ${AWS_DOC_ID}`, secret: AWS_DOC_ID, kind: 'aws_access_key_id' },
  { name: 'AWS secret access key (secretlint)', text: `aws_secret_access_key = "${AWS_SECRET}"`, secret: AWS_SECRET, kind: 'aws_secret_access_key' },
  { name: 'OpenAI project key', text: `OPENAI_API_KEY=${OPENAI_KEY}`, secret: OPENAI_KEY, kind: 'sk_api_key' },
  { name: 'Anthropic key', text: `client = Anthropic(api_key="${ANTHROPIC_KEY}")`, secret: ANTHROPIC_KEY, kind: 'sk_api_key' },
  { name: 'plain sk- key in prose', text: `use the key ${PLAIN_SK} for this`, secret: PLAIN_SK, kind: 'sk_api_key' },
  { name: 'GitHub token (secretlint)', text: `GH_TOKEN=${GITHUB_TOKEN}`, secret: GITHUB_TOKEN, kind: 'github_token' },
  { name: 'secretlint-disable comment does not switch scanning off', text: `// secretlint-disable\n${GITHUB_TOKEN} # secretlint-disable-line`, secret: GITHUB_TOKEN, kind: 'github_token' },
  { name: 'Slack token (secretlint)', text: `slack: ${SLACK_TOKEN}`, secret: SLACK_TOKEN, kind: 'slack_token' },
  { name: 'npm token (secretlint)', text: `//registry.npmjs.org/:_authToken=${NPM_TOKEN}`, secret: NPM_TOKEN, kind: 'npm_access_token' },
  { name: 'Telegram bot token', text: `TELEGRAM_BOT_TOKEN=${TELEGRAM}`, secret: TELEGRAM, kind: 'telegram_bot_token' },
  { name: 'Telegram bot token in a Bot API URL', text: `curl https://api.telegram.org/bot${TELEGRAM}/getMe`, secret: TELEGRAM, kind: 'telegram_bot_token' },
  { name: 'PEM private key', text: `key:\n${PEM}\n`, secret: PEM, kind: 'private_key' },
  { name: 'PEM private key escaped in JSON', text: `{"private_key": "${PEM_ESCAPED}"}`, secret: PEM_ESCAPED, kind: 'private_key' },
  { name: 'OpenSSH private key', text: PEM_OPENSSH, secret: PEM_OPENSSH, kind: 'private_key' },
  { name: 'truncated PEM private key (no END line)', text: `${PEM_TRUNCATED}\n\nmore text`, secret: PEM_TRUNCATED, kind: 'private_key' },
  { name: 'password= literal', text: `DB_PASSWORD=${PASSWORD} npm start`, secret: PASSWORD, kind: 'password_literal' },
  { name: 'passwd: YAML literal', text: `db:\n  passwd: ${PASSWORD}\n  host: x`, secret: PASSWORD, kind: 'password_literal' },
  { name: '"password": JSON literal', text: `{"user": "app", "password": "${PASSWORD}"}`, secret: PASSWORD, kind: 'password_literal' },
  { name: 'escaped JSON password inside a string', text: `"{\\"password\\": \\"${PASSWORD}\\"}"`, secret: PASSWORD, kind: 'password_literal' },
  { name: '--password flag', text: `mysql --password ${PASSWORD} -h db`, secret: PASSWORD, kind: 'password_literal' },
  { name: 'bold Markdown label', text: `**Password:** ${PASSWORD}`, secret: PASSWORD, kind: 'password_literal' },
  { name: 'URL with password (postgres)', text: `DATABASE_URL=postgres://app:${URL_PASSWORD}@db.internal:5432/app`, secret: URL_PASSWORD, kind: 'url_password' },
  { name: 'URL with password (https)', text: `git clone https://deploy:${URL_PASSWORD}@git.example.org/r.git`, secret: URL_PASSWORD, kind: 'url_password' },
  { name: 'URL with password and empty user (redis)', text: `REDIS_URL=redis://:${URL_PASSWORD}@cache:6379/0`, secret: URL_PASSWORD, kind: 'url_password' },
  { name: 'curl -u credentials', text: `curl -u admin:${URL_PASSWORD} https://api.local/x`, secret: URL_PASSWORD, kind: 'cli_credentials' },
  { name: 'Bearer token header', text: `curl -H "Authorization: Bearer ${BEARER}" https://api.local`, secret: BEARER, kind: 'bearer_token' },
  { name: 'Basic auth header', text: `Authorization: Basic ${Buffer.from(`admin:${URL_PASSWORD}`).toString('base64')}`, secret: Buffer.from(`admin:${URL_PASSWORD}`).toString('base64'), kind: 'basic_auth_header' },
  { name: 'JWT', text: `token is ${JWT}`, secret: JWT, kind: 'jwt' },
  { name: 'high-entropy api_key assignment', text: `api_key = "${RANDOM_B64}"`, secret: RANDOM_B64, kind: 'high_entropy_assignment' },
  { name: 'high-entropy hex SECRET_KEY', text: `SECRET_KEY=${HEX64}`, secret: HEX64, kind: 'high_entropy_assignment' },
  { name: 'high-entropy YAML client_secret', text: `oauth:\n  client_secret: ${RANDOM_B64}\n`, secret: RANDOM_B64, kind: 'high_entropy_assignment' },
];

const NEAR_MISSES: { name: string; text: string }[] = [
  { name: 'password from a variable ${VAR}', text: 'password: ${DB_PASSWORD}' },
  { name: 'password from a shell variable', text: 'export PGPASSWORD=$DB_PASSWORD' },
  { name: 'empty password=', text: 'password=\nuser=app' },
  { name: 'empty JSON password', text: '{"password": ""}' },
  { name: 'angle-bracket placeholder', text: 'password: "<password>"' },
  { name: 'changeme placeholder', text: 'password: changeme' },
  { name: 'masked password', text: 'password: ********' },
  { name: 'compose secret reference', text: 'POSTGRES_PASSWORD_FILE=/run/secrets/db_password' },
  { name: 'prose after password:', text: 'Password: must be at least 12 characters long.' },
  { name: 'prose about the --password flag', text: 'Pass it with the --password flag instead.' },
  { name: 'type annotation', text: 'def login(user: str, password: str) -> bool:' },
  { name: 'GitHub Actions secret reference', text: 'password: ${{ secrets.DB_PASSWORD }}' },
  { name: 'sha256 of a file in a non-secret variable', text: `artifact_sha256 = "${HEX64}"\nsha256sum: ${HEX64}` },
  { name: 'git commit id', text: 'Fixed in commit 3f2a9c1d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39.' },
  { name: 'UUID', text: 'request_id: 550e8400-e29b-41d4-a716-446655440000' },
  { name: 'UUID under a key name', text: 'idempotency_key = "550e8400-e29b-41d4-a716-446655440000"' },
  { name: 'docs: sk- elided', text: 'Set `OPENAI_API_KEY=sk-...` in your environment.' },
  { name: 'docs: sk- masked', text: 'OPENAI_API_KEY=sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxx' },
  { name: 'docs: AWS key shape', text: 'AWS access key ids start with AKIA followed by 16 characters, e.g. AKIAXXXXXXXXXXXXXXXX.' },
  { name: 'docs: URL with placeholder password', text: 'postgres://user:password@localhost/db and https://user:${PASS}@host/x' },
  { name: 'docs: PEM placeholder', text: '-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----' },
  { name: 'public key', text: `-----BEGIN PUBLIC KEY-----\n${PEM_BODY.join('\n')}\n-----END PUBLIC KEY-----` },
  { name: 'docs: bearer placeholders', text: 'Authorization: Bearer <token>\nAuthorization: Bearer $TOKEN' },
  { name: 'docs: Telegram example token without AA prefix', text: 'token looks like 123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11' },
  { name: 'uid:gid is not a credential', text: 'docker run -u 1000:1000 busybox id' },
  { name: 'token_type / auth_url are not secrets', text: 'token_type: bearer\nauth_url: https://auth.local/oauth2/token' },
  { name: 'env reference in code', text: 'const apiKey = process.env.API_KEY;\napi_key = os.environ["API_KEY"]' },
  { name: 'working directory', text: 'PWD=/home/worker/project' },
  { name: 'word-like identifier under a key name', text: 'cache_key = "deploy_github_app_key42"' },
  { name: 'file path under a key name', text: 'private_key_path: /etc/ssl/private/server.key\nssl_key: ./certs/dev-server-2024.pem' },
  { name: 'timestamps', text: 'started 12:30:45, finished 13:01:02' },
  { name: 'redacted marker', text: 'password=[REDACTED:password_literal] token=[REDACTED:jwt]' },
];

const hasSecret = (value: unknown, secret: string): boolean => JSON.stringify(value).includes(secret);

t.test('each kind is found, located and redacted', async (t) => {
  for (const row of POSITIVES) {
    const findings = await scanSecrets(row.text);
    const hit = findings.find((f) => f.kind === row.kind);
    t.ok(hit, `${row.name}: found ${row.kind} (got ${findings.map((f) => f.kind).join(',') || 'nothing'})`);
    if (!hit) continue;
    const at = row.text.indexOf(row.secret);
    t.ok(hit.start <= at && hit.end >= at + row.secret.length, `${row.name}: span covers the secret`);
    t.notOk(hasSecret(findings, row.secret), `${row.name}: findings do not carry the secret`);
    t.ok(hit.preview.endsWith('…[redacted]') && hit.preview.length <= 4 + '…[redacted]'.length, `${row.name}: preview is redacted`);
    const redacted = await redactSecrets(row.text, findings);
    t.notOk(redacted.includes(row.secret), `${row.name}: redacted text no longer contains it`);
    t.ok(redacted.includes(`[REDACTED:${row.kind}]`), `${row.name}: redacted with its kind`);
    t.same(await scanSecrets(redacted), [], `${row.name}: redacted text scans clean`);
  }
});

t.test('near-misses are not flagged', async (t) => {
  for (const row of NEAR_MISSES) {
    const findings = await scanSecrets(row.text);
    t.same(
      findings.map((f) => f.kind),
      [],
      `${row.name}`,
    );
    t.equal(await redactSecrets(row.text), row.text, `${row.name}: redaction leaves it unchanged`);
  }
});

t.test('line, column and offsets', async (t) => {
  const text = `first line\nsecond\n  DB_PASSWORD=${PASSWORD}\nlast ${AWS_ID}`;
  const findings = await scanSecrets(text);
  t.equal(findings.length, 2);
  const [pw, aws] = findings as [SecretFinding, SecretFinding];
  t.match(pw, { kind: 'password_literal', line: 3, column: 15 });
  t.equal(text.slice(pw.start, pw.end), PASSWORD);
  t.match(aws, { kind: 'aws_access_key_id', line: 4, column: 6 });
  t.equal(text.slice(aws.start, aws.end), AWS_ID);
});

t.test('redaction keeps the surrounding text and JSON validity', async (t) => {
  const obj = { url: `postgres://app:${URL_PASSWORD}@db:5432/app`, key: PEM, note: `aws ${AWS_ID}` };
  const text = JSON.stringify(obj);
  const redacted = await redactSecrets(text);
  const back = JSON.parse(redacted) as typeof obj;
  t.equal(back.url, 'postgres://app:[REDACTED:url_password]@db:5432/app');
  t.equal(back.key, '[REDACTED:private_key]');
  t.equal(back.note, 'aws [REDACTED:aws_access_key_id]');
});

t.test('overlapping detectors yield one finding per secret', async (t) => {
  const findings = await scanSecrets(`api_key = "${PLAIN_SK}"`);
  t.equal(findings.length, 1);
  t.equal(findings[0].kind, 'sk_api_key', 'the specific detector names the cluster');
});

t.test('synchronous redaction uses our own patterns', async (t) => {
  const text = `AWS ${AWS_ID} password=${PASSWORD} url=https://u:${URL_PASSWORD}@h.example/x ${TELEGRAM}`;
  const redacted = redactSecretsSync(text);
  for (const s of [AWS_ID, PASSWORD, URL_PASSWORD, TELEGRAM]) t.notOk(redacted.includes(s), `sync redacts ${s.slice(0, 4)}…`);
  t.equal(scanSecretsSync(text).length, 4);
});

t.test('high-entropy test thresholds', async (t) => {
  t.ok(isHighEntropySecret(RANDOM_B64));
  t.ok(isHighEntropySecret(HEX64));
  t.notOk(isHighEntropySecret('550e8400-e29b-41d4-a716-446655440000'), 'UUID');
  t.notOk(isHighEntropySecret('aaaaaaaaaaaaaaaaaaaaaaaa1'), 'low entropy');
  t.notOk(isHighEntropySecret('Zx8Qp2LmVn4'), 'too short');
  t.notOk(isHighEntropySecret('ProductionDeployToken2024'), 'words');
});

t.test('secretlint kinds are bounded snake_case ids', async (t) => {
  t.ok(SECRETLINT_KINDS.size > 10);
  for (const kind of SECRETLINT_KINDS.values()) t.match(kind, /^[a-z0-9_]{2,48}$/);
  t.equal(SECRETLINT_KINDS.get('AWSSecretAccessKey'), 'aws_secret_access_key');
});

t.test('bad input is a coded error, empty input has no findings', async (t) => {
  t.same(await scanSecrets(''), []);
  const err = await scanSecrets(42 as unknown as string).then(
    () => null,
    (e: unknown) => e,
  );
  t.ok(isWingmanError(err, 'WGM_ERR_INTERNAL'), 'non-string input is WGM_ERR_INTERNAL');
});

t.test('public values under secret-ish names', async (t) => {
  const text = [
    'publicKey: "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE9f3kQ2Lm"',
    'signature: MEUCIQDx7k2Lm9Qp4Zt8Vb1Nc6Rw3Yh5Uj0Ik',
    'max_tokens: 4096',
    'key_id: 7Fq2Lm9Xp4Zt8Vb1Nc6R',
    'cache-key: ${{ hashFiles(\'package-lock.json\') }}',
  ].join('\n');
  t.same(await scanSecrets(text), []);
});
