// The CLI's client for the control API (approvals, workers): plain fetch with the bearer token.
import type { Config } from '../core/config.js';
import { readApiToken } from './api-token.js';

export async function callControl(
  config: Config,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const base = config.controlUrl ?? `http://127.0.0.1:${config.port}`;
  const token = readApiToken(config);
  if (!token) throw new Error('no API token: set WINGMAN_API_TOKEN (or run from the directory where `wingman up` runs)');
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new Error(`control API at ${base} unreachable (${(err as Error).message})`);
  }
  const text = await res.text();
  let json: any;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  return { status: res.status, json };
}
