// Shared by the shell-wrapper tests: the wrapper's path, running it under dash / busybox sh, a fake "real docker"
// that records how it was called, and a recording HTTP server standing in for the control API.
import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { ExecError } from '../helpers/env.js';
import { ROOT } from '../helpers/wingman.js';

export const WRAPPER = path.join(ROOT, 'shell-wrapper/docker');

/** The two shells the wrapper must run under: `[program, ...args before the script]`. */
export const SHELLS: ReadonlyArray<{ name: string; argv: string[] }> = [
  { name: 'dash', argv: ['/usr/bin/dash'] },
  { name: 'busybox sh', argv: ['/usr/bin/busybox', 'sh'] },
];

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run `sh WRAPPER args…` with exactly `env` (no inherited variables unless passed). */
export function runWrapper(
  shell: { argv: string[] },
  args: readonly string[],
  env: NodeJS.ProcessEnv,
  opts: { input?: string; timeoutMs?: number; script?: string; cwd?: string } = {},
): Promise<RunResult> {
  const [cmd, ...pre] = shell.argv;
  return new Promise((resolve, reject) => {
    const child = execFile(cmd, [...pre, opts.script ?? WRAPPER, ...args], { env, timeout: opts.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024, cwd: opts.cwd }, (err: ExecError | null, stdout, stderr) => {
      if (err && typeof err.code === 'string') return reject(err);
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
    // a wrapper that exits before reading stdin must not fail the test with EPIPE
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(opts.input ?? '');
  });
}

/** Start the wrapper in the background (to signal it while it waits). */
export function spawnWrapper(shell: { argv: string[] }, args: readonly string[], env: NodeJS.ProcessEnv) {
  const [cmd, ...pre] = shell.argv;
  const child = spawn(cmd, [...pre, WRAPPER, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done, stderr: () => stderr };
}

export function tmpDir(tag: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `wgmtest-${tag}-`));
}

/**
 * A fake real docker: records its argv (NUL-separated), DOCKER_CONFIG and the config.json it would read, then
 * exits with $FAKE_DOCKER_EXIT (default 0).
 */
export function fakeDocker(dir: string): { path: string; calls(): Array<{ argv: string[]; dockerConfig: string; configJson: string | null }> } {
  const log = path.join(dir, 'calls');
  fs.mkdirSync(log, { recursive: true });
  const p = path.join(dir, 'docker');
  fs.writeFileSync(
    p,
    `#!/bin/sh
n=$(ls "${log}" | wc -l)
d="${log}/$n"
mkdir "$d"
if [ $# -gt 0 ]; then printf '%s\\0' "$@" > "$d/argv"; else : > "$d/argv"; fi
printf '%s' "\${DOCKER_CONFIG-}" > "$d/dockerconfig"
if [ -n "\${DOCKER_CONFIG-}" ] && [ -f "$DOCKER_CONFIG/config.json" ]; then cat "$DOCKER_CONFIG/config.json" > "$d/config.json"; fi
exit "\${FAKE_DOCKER_EXIT:-0}"
`,
    { mode: 0o755 },
  );
  return {
    path: p,
    calls() {
      return fs
        .readdirSync(log)
        .sort((a, b) => Number(a) - Number(b))
        .map((n) => {
          const d = path.join(log, n);
          const raw = fs.readFileSync(path.join(d, 'argv'), 'utf8');
          const cj = path.join(d, 'config.json');
          return {
            argv: raw === '' ? [] : raw.slice(0, -1).split('\0'),
            dockerConfig: fs.readFileSync(path.join(d, 'dockerconfig'), 'utf8'),
            configJson: fs.existsSync(cj) ? fs.readFileSync(cj, 'utf8') : null,
          };
        });
    },
  };
}

export interface Recorded {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A scripted HTTP server on 127.0.0.1 (or a unix socket) that records every request. */
export async function recordingServer(
  handler: (r: Recorded, res: http.ServerResponse) => void | Promise<void> = (_r, res) => {
    res.statusCode = 500;
    res.end('unexpected');
  },
  listenOn?: string,
): Promise<{ url: string; requests: Recorded[]; close(): Promise<void> }> {
  const requests: Recorded[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => (body += d));
    req.on('end', () => {
      const r = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body };
      requests.push(r);
      void handler(r, res);
    });
  });
  await new Promise<void>((resolve) => (listenOn ? server.listen(listenOn, resolve) : server.listen(0, '127.0.0.1', resolve)));
  const url = listenOn ? `unix://${listenOn}` : `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * A fake dockerd on a unix socket that answers ping and accepts container creates (and updates), keeping the
 * request bodies the real CLI sent: what the proxy's escalation finder is then asked to judge.
 */
export async function fakeCreateDaemon(socket: string): Promise<{ url: string; creates: string[]; updates: string[]; close(): Promise<void> }> {
  const creates: string[] = [];
  const updates: string[] = [];
  const daemon = await recordingServer((r, res) => {
    res.setHeader('Api-Version', '1.45');
    res.setHeader('OSType', 'linux');
    if (r.url.endsWith('/_ping')) {
      res.end('OK');
    } else if (r.method === 'POST' && /\/containers\/create/.test(r.url)) {
      creates.push(r.body);
      res.statusCode = 201;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"Id":"0123456789ab0123456789ab0123456789ab0123456789ab0123456789ab","Warnings":[]}');
    } else if (r.method === 'POST' && /\/containers\/[^/]+\/update$/.test(r.url)) {
      updates.push(r.body);
      res.setHeader('Content-Type', 'application/json');
      res.end('{"Warnings":[]}');
    } else {
      res.statusCode = 404;
      res.setHeader('Content-Type', 'application/json');
      res.end('{"message":"not here"}');
    }
  }, socket);
  return { url: daemon.url, creates, updates, close: () => daemon.close() };
}

/** A minimal environment for the wrapper: PATH with the system tools, nothing from the test process. */
export function baseEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { PATH: '/usr/local/bin:/usr/bin:/bin', HOME: os.tmpdir(), ...extra };
}
