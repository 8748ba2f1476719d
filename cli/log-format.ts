// How the long-running commands write their logs: JSON lines (one object a line, for collectors) unless a person
// is watching a terminal, where each line reads `12:00:01 INFO  control  control API listening port=5001`.
// WINGMAN_LOG_FORMAT=json|pretty overrides the guess. Redaction happens in pino before either format is written.
import type { DestinationStream } from 'pino';
import { asText } from '../core/util/as-text.js';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO ', 40: 'WARN ', 50: 'ERROR', 60: 'FATAL' };
const OWN = new Set(['level', 'time', 'msg', 'svc', 'pid', 'hostname']);

function value(v: unknown): string {
  const s = typeof v === 'string' ? v : JSON.stringify(v);
  return /[\s"=]/.test(s) ? JSON.stringify(s) : s;
}

/** One JSON log line as one readable line. Anything that is not JSON passes as it is. */
export function prettyLine(line: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof o.time === 'string' ? o.time.slice(11, 19) : '';
  const level = LEVELS[Number(o.level)] ?? String(o.level);
  const fields = Object.entries(o)
    .filter(([k]) => !OWN.has(k))
    .map(([k, v]) => `${k}=${value(v)}`)
    .join(' ');
  return `${time} ${level} ${asText(o.svc, '').padEnd(8)} ${asText(o.msg, '')}${fields ? ` ${fields}` : ''}\n`;
}

export function prettyDestination(out: { write(s: string): unknown }): DestinationStream {
  return {
    write(msg: string) {
      for (const line of msg.split('\n')) if (line) out.write(prettyLine(line));
    },
  };
}

export function wantsPretty(format: 'auto' | 'json' | 'pretty', isTty: boolean): boolean {
  return format === 'pretty' || (format === 'auto' && isTty);
}
