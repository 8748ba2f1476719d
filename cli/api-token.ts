// The ops API token: from WINGMAN_API_TOKEN, or generated once into <data dir>/api-token (0600) under `wingman up`.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import type { Config } from '../core/config.js';

/** Under `wingman up` without WINGMAN_API_TOKEN: generate one into <data dir>/api-token (0600), reuse it after. */
export function ensureApiToken(config: Config): { token: string; file?: string } {
  if (config.apiToken) return { token: config.apiToken };
  const file = path.join(config.dataDir, 'api-token');
  try {
    const existing = fs.readFileSync(file, 'utf8').trim();
    if (existing.length >= 16) return { token: existing, file };
  } catch {
    /* first start */
  }
  const token = randomBytes(32).toString('base64url');
  fs.mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  fs.writeFileSync(file, token + '\n', { mode: 0o600 });
  fs.chmodSync(file, 0o600);
  return { token, file };
}

export function readApiToken(config: Config): string | undefined {
  if (config.apiToken) return config.apiToken;
  try {
    return fs.readFileSync(path.join(config.dataDir, 'api-token'), 'utf8').trim() || undefined;
  } catch {
    return undefined;
  }
}
