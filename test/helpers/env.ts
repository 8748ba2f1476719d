// The test environment `npm test` (scripts/test.mjs) brings up, read from WGMTEST_* variables. Tests never skip:
// a missing variable is a loud error telling how to run them.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export interface TestEnv {
  /** server-level URL (database `postgres`); tests create their own databases from it (test/helpers/db.ts) */
  databaseUrl: string;
  redisUrl: string;
  /** unix:///…/docker.sock of the PRIVATE test engine, never the machine's own */
  dockerHost: string;
}

/** The busybox image scripts/test-env.mjs imports into the test engine. */
export const TEST_IMAGE = 'wingman-test/busybox:latest';

function need(name: string): string {
  const v = process.env[name];
  if (!v) {
    throw new Error(
      `${name} is not set: run the tests through \`npm test\` (node scripts/test.mjs), which starts Postgres, Redis ` +
        'and a private Docker engine and exports WGMTEST_DATABASE_URL, WGMTEST_REDIS_URL and WGMTEST_DOCKER_HOST. ' +
        'For a single file: `node scripts/test.mjs test/path.test.ts`.',
    );
  }
  return v;
}

export function testEnv(): TestEnv {
  const dockerHost = need('WGMTEST_DOCKER_HOST');
  if (!dockerHost.startsWith('unix://')) throw new Error(`WGMTEST_DOCKER_HOST must be unix:///path, got ${dockerHost}`);
  return {
    databaseUrl: need('WGMTEST_DATABASE_URL'),
    redisUrl: need('WGMTEST_REDIS_URL'),
    dockerHost,
  };
}

/** unix:///tmp/wgmtest-docker/docker.sock (the test engine). */
export function dockerHost(): string {
  return testEnv().dockerHost;
}

/** Filesystem path of the test engine's socket (for dockerode `{ socketPath }` or an upstream setting). */
export function dockerSocketPath(): string {
  return dockerHost().slice('unix://'.length);
}

/** A unique resource name with the test prefix: `wgmtest-<hex>` (or `wgmtest-<tag>-<hex>`). */
export function testName(tag?: string): string {
  const rnd = randomBytes(5).toString('hex');
  return tag ? `wgmtest-${tag}-${rnd}` : `wgmtest-${rnd}`;
}

/** Labels to put on containers/volumes a test creates, so the test runner can remove leftovers of its run. */
export function testLabels(): Record<string, string> {
  return { wgmtest: '1', 'wgmtest.run': process.env.WGMTEST_RUN_ID ?? 'adhoc' };
}

/** execFile's error: `code` is the errno string when the program could not be started, else its exit status. */
export type ExecError = Error & { code?: string | number | null };

export interface DockerResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface DockerOptions {
  input?: string;
  timeoutMs?: number;
  /** another endpoint, e.g. a proxy socket `unix:///…/w1/docker.sock`; default the test engine */
  host?: string;
}

/** Run the docker CLI against the test engine (never the machine's engine). Does not throw on a non-zero exit. */
export function docker(args: string[], opts: DockerOptions = {}): Promise<DockerResult> {
  const env = { ...process.env, DOCKER_HOST: opts.host ?? dockerHost() };
  return new Promise((resolve, reject) => {
    const child = execFile(
      'docker',
      args,
      { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 },
      (err: ExecError | null, stdout, stderr) => {
        if (err && typeof err.code === 'string') {
          reject(err); // the CLI could not be started at all
          return;
        }
        resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** Like docker() but throws with stderr on a non-zero exit; returns trimmed stdout. */
export async function dockerOk(args: string[], opts: DockerOptions = {}): Promise<string> {
  const r = await docker(args, opts);
  if (r.code !== 0) throw new Error(`docker ${args.join(' ')} exited ${r.code}: ${r.stderr.trim()}`);
  return r.stdout.trim();
}

/** A container's State.Status, or 'absent' when the engine does not know it. */
export async function containerStatus(name: string): Promise<string> {
  const r = await docker(['inspect', '-f', '{{.State.Status}}', name]);
  return r.code === 0 ? r.stdout.trim() : 'absent';
}

/** Remove every key under `prefix:` in the Redis at `url` (best effort: a test's leftovers, never another's). */
export async function dropRedisPrefix(prefix: string, url = testEnv().redisUrl): Promise<void> {
  const { Redis } = await import('ioredis');
  const r = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  try {
    await r.connect();
    const keys = await r.keys(`${prefix}:*`);
    if (keys.length) await r.del(...keys);
  } catch {
    /* best effort */
  } finally {
    r.disconnect();
  }
}
