// What `wingman up` tells a person at a terminal once it is listening: where the console is, where the token is,
// and the line each worker needs. Logs go on in the format WINGMAN_LOG_FORMAT picks; this is printed only on a
// terminal, so a collector reading JSON never sees it.
import { workerSocketPath, type Config } from '../core/config.js';

export interface BannerFacts {
  config: Config;
  /** the generated token file, or undefined when the token came from WINGMAN_API_TOKEN */
  tokenFile: string | undefined;
  workers: readonly string[];
  store: string;
  bus: string;
  version: string;
}

export function upBanner(f: BannerFacts): string {
  const host = f.config.host === '0.0.0.0' || f.config.host === '::' ? '127.0.0.1' : f.config.host;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${f.config.port}/`;
  const lines = [
    '',
    `  Wingman ${f.version} is up.`,
    '',
    `  Console    ${url}`,
    `  API token  ${f.tokenFile ? `in ${f.tokenFile} (sign in with it; \`cat\` it, it is never printed)` : 'the value of WINGMAN_API_TOKEN'}`,
    `  Store      ${f.store}; bus ${f.bus}`,
    '',
  ];
  if (f.workers.length === 0) {
    lines.push('  No workers yet: `wingman workers add NAME` (or WINGMAN_WORKERS=a,b) gives each one its own Docker socket.');
  } else {
    lines.push('  Point each worker at its own socket:');
    const width = Math.max(...f.workers.map((w) => w.length));
    for (const w of f.workers) lines.push(`    ${w.padEnd(width)}  export DOCKER_HOST=unix://${workerSocketPath(f.config.socketDir, w)}`);
  }
  lines.push('', '  Held calls wait in the console, in `wingman approvals --watch` and on Telegram (when configured). Ctrl-C stops.', '');
  return lines.join('\n');
}
