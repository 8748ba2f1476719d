// Serves the ops console: the files `npm run build` puts in dist/console (console/ built by Vite), read once at
// start. No CDN, nothing fetched at run time: the page works offline. The page itself needs no token (it has none
// to protect); every API call it makes does. A strict CSP allows only this origin's own scripts and styles, and
// no framing, so a hostile page can neither inject script nor overlay the Approve button.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { wingmanError } from '../core/errors.js';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

export const CONSOLE_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

/** dist/console of the package this module belongs to (source and compiled layouts alike). */
export function defaultConsoleDir(): string {
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++) {
    if (fs.existsSync(path.join(dir, 'package.json'))) return path.join(dir, 'dist', 'console');
    dir = path.dirname(dir);
  }
  return path.resolve('dist', 'console');
}

function load(dir: string): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  if (!fs.existsSync(path.join(dir, 'index.html'))) return assets;
  for (const rel of fs.readdirSync(dir, { recursive: true }).map(String)) {
    const file = path.join(dir, rel);
    if (!fs.statSync(file).isFile()) continue;
    const type = TYPES[path.extname(rel).toLowerCase()];
    if (!type) continue;
    const body = fs.readFileSync(file);
    assets.set('/' + rel.split(path.sep).join('/'), { body, type, etag: `"${createHash('sha256').update(body).digest('base64url').slice(0, 22)}"` });
  }
  return assets;
}

function send(reply: FastifyReply, a: Asset, immutable: boolean, ifNoneMatch: string | undefined) {
  reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('x-frame-options', 'DENY')
    .header('referrer-policy', 'no-referrer')
    .header('cross-origin-opener-policy', 'same-origin')
    .header('cross-origin-resource-policy', 'same-origin')
    .header('cache-control', immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
    .header('etag', a.etag);
  if (ifNoneMatch === a.etag) return reply.status(304).send();
  return reply.type(a.type).send(a.body);
}

export function registerConsoleAssets(server: FastifyInstance, opts: { dir?: string } = {}): { files: number } {
  const dir = opts.dir ?? defaultConsoleDir();
  const assets = load(dir);
  const publicRoute = { config: { auth: 'public' as const } };

  server.get('/', publicRoute, async (req, reply) => {
    const index = assets.get('/index.html');
    if (!index) {
      return reply
        .status(503)
        .type('text/plain; charset=utf-8')
        .send(`The Wingman console is not built (no ${path.join(dir, 'index.html')}): run \`npm run build\`.\n`);
    }
    return send(reply, index, false, req.headers['if-none-match']);
  });

  // Vite names built files by content hash: they never change under a name, so they may be cached for good.
  server.get<{ Params: { '*': string } }>('/assets/*', publicRoute, async (req, reply) => {
    const a = assets.get(`/assets/${req.params['*']}`);
    if (!a) throw wingmanError('WGM_ERR_API_NOT_FOUND', 'no such console asset');
    return send(reply, a, true, req.headers['if-none-match']);
  });

  for (const name of ['/favicon.svg']) {
    server.get(name, publicRoute, async (req, reply) => {
      const a = assets.get(name);
      if (!a) throw wingmanError('WGM_ERR_API_NOT_FOUND');
      return send(reply, a, false, req.headers['if-none-match']);
    });
  }
  return { files: assets.size };
}
