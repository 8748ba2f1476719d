// The CLI's client for the control API (approvals, workers): plain fetch with the bearer token. Failures to reach it
// are ControlErrors: one line saying what went wrong and what to do.
import type { Config } from '../core/config.js';
import { readApiToken } from './api-token.js';

export class ControlError extends Error {}

export function controlBase(config: Config): string {
  return (config.controlUrl ?? `http://127.0.0.1:${config.port}`).replace(/\/+$/, '');
}

/** The fields of every error answer of the control API (core/errors.ts). */
export interface ErrorAnswer {
  code?: string;
  message?: string;
}

/**
 * The control API's answer. `json` is typed as the success body the caller expects (T, from control/api-schema.ts
 * where the route has one); on an error status only ErrorAnswer's fields are there, so callers check `status` first.
 */
export interface ControlAnswer<T> {
  status: number;
  json: T & ErrorAnswer;
}

export async function callControl<T = unknown>(
  config: Config,
  method: string,
  path: string,
  body?: unknown,
): Promise<ControlAnswer<T>> {
  const base = controlBase(config);
  const token = readApiToken(config);
  if (!token) {
    throw new ControlError(
      `no API token: set WINGMAN_API_TOKEN, or run from the directory where \`wingman up\` runs (it writes ${config.dataDir}/api-token)`,
    );
  }
  let res: Response;
  try {
    res = await fetch(base + path, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    const cause = (err as { cause?: { code?: string } }).cause?.code ?? (err as Error).message;
    throw new ControlError(`the control API at ${base} is unreachable (${cause}): is \`wingman up\` running? Point WINGMAN_CONTROL_URL at it`);
  }
  const text = await res.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    json = { message: text };
  }
  if (res.status === 401) {
    throw new ControlError('the control API refused the API token: set WINGMAN_API_TOKEN to the token `wingman up` uses (in its data dir, file api-token)');
  }
  return { status: res.status, json: json as T & ErrorAnswer };
}
