// One logger factory with one redact list. Never bind untrusted input as logger fields: log it under `detail`
// as a value (pino serialises values safely), and keep field names ours.
import pino, { type Logger } from 'pino';

export const REDACT_PATHS = [
  'token',
  '*.token',
  'apiToken',
  '*.apiToken',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-wingman-approval"]',
  'headers["x-wingman-approval"]',
  'Env',
  '*.Env',
  '*.*.Env',
  'body.Env',
  'config.telegram.token',
  'telegram.token',
  'databaseUrl',
  '*.databaseUrl',
  'redisUrl',
  '*.redisUrl',
  'workerTokens',
  '*.workerTokens',
  'config.workerTokens',
];

export type { Logger };

export function createLogger(opts: { level?: string; name?: string; destination?: pino.DestinationStream } = {}): Logger {
  const options: pino.LoggerOptions = {
    level: opts.level ?? 'info',
    base: opts.name ? { svc: opts.name } : undefined,
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}
