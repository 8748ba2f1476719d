// Secret scanner throughput: 1 MB of mixed prose/code/config with a few secrets, and pathological inputs that would
// expose super-linear patterns. Run: node --import @tapjs/typescript/import bench/secrets.ts
import { performance } from 'node:perf_hooks';
import { redactSecretsSync, scanSecrets } from '../core/secrets/index.js';

const MB = 1024 * 1024;
const j = (...p: string[]): string => p.join('');

function mixedText(size: number): string {
  const chunks = [
    '## DELIVERABLES\nA new endpoint that returns the build status, with tests and docs.\n',
    'const config = { host: "127.0.0.1", port: 8787, retries: 3, key_path: "./certs/dev.pem" };\n',
    'password: ${DB_PASSWORD}\nrequest_id: 550e8400-e29b-41d4-a716-446655440000\n',
    'sha256sum dist/app.js  # 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\n',
    'Run `npx tap test/gate` and check that every row passes; never use --force.\n',
    'postgres://user:${PGPASS}@db:5432/app https://example.org/docs?id=42&x=y\n',
  ];
  const secrets = [
    j('export AWS_ACCESS_KEY_ID=AKIA', 'Z3MSJV4WWNKXHQ7E\n'),
    j('DB_PASSWORD=Tr0ub4dor', '.3x!\n'),
    j('TELEGRAM=123456789:AA', 'HdqTcvCH1vGWJxfSeofSAs0K5PALDsawq\n'),
  ];
  let out = '';
  let i = 0;
  while (out.length < size) {
    out += chunks[i % chunks.length];
    if (i % 5000 === 0) out += secrets[(i / 5000) % secrets.length];
    i++;
  }
  return out.slice(0, size);
}

async function time(name: string, text: string, runs = 3): Promise<void> {
  const ms: number[] = [];
  let found = 0;
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    found = (await scanSecrets(text)).length;
    ms.push(performance.now() - t0);
  }
  const t0 = performance.now();
  redactSecretsSync(text);
  const syncMs = performance.now() - t0;
  ms.sort((a, b) => a - b);
  const mb = text.length / MB;
  console.log(
    `${name.padEnd(34)} ${mb.toFixed(2)} MB  scan median ${ms[Math.floor(runs / 2)].toFixed(0)} ms ` +
      `(${(mb / (ms[Math.floor(runs / 2)] / 1000)).toFixed(2)} MB/s), findings ${found}, sync redact ${syncMs.toFixed(0)} ms`,
  );
}

await time('mixed prose/code/config', mixedText(MB));
await time('1 MB of one letter', 'a'.repeat(MB));
await time('1 MB of password=', 'password='.repeat(MB / 9));
await time('1 MB of token: words', 'token: abc '.repeat(MB / 11));
await time('1 MB of BEGIN without END', '-----BEGIN RSA PRIVATE KEY-----\n'.repeat(MB / 32));
await time('1 MB of URL-ish colons', 'a://b:c:d'.repeat(MB / 9));
await time('1 MB of base64 on one line', Buffer.alloc(MB * 0.75, 7).toString('base64').slice(0, MB));
const small = mixedText(4 * 1024);
const t0 = performance.now();
for (let i = 0; i < 200; i++) await scanSecrets(small);
console.log(`4 KB instruction-sized text: ${((performance.now() - t0) / 200).toFixed(2)} ms per scan`);
