// process_running: the worker container's process list (GET /containers/{id}/top lists the processes of that
// container's cgroup only, so a process of the sidecar or of any other namespace never counts).
import { redactSecretsSync } from '../../secrets/index.js';
import type { ProcessEntry } from '../worker-container.js';
import { verdict, type Verifier } from './verify-context.js';

// For these, the program is their first non-option argument: "node server.js" is running "server.js".
const INTERPRETERS = /^(?:node|nodejs|deno|bun|python[\d.]*|pypy[\d.]*|ruby|perl|php|java|sh|bash|dash|ash|zsh|busybox|env)$/;

const base = (s: string) => s.split('/').pop() ?? s;

/** How `name` matches this process, if it does: its name, its program, its whole command line, or its script. */
export function processMatch(name: string, p: ProcessEntry): string | undefined {
  const argv = p.args.trim().split(/\s+/);
  const argv0 = argv[0] ?? '';
  if (p.comm === name) return 'name';
  if (argv0 === name || base(argv0) === name) return 'program';
  if (p.args.trim() === name.trim()) return 'command line';
  if (INTERPRETERS.test(base(argv0))) {
    const script = argv.slice(1).find((a) => !a.startsWith('-'));
    if (script && (script === name || base(script) === name)) return 'script';
  }
  return undefined;
}

export const verifyProcessRunning: Verifier = async (params, ctx) => {
  const verifier = 'process.top';
  const name = String(params.name);
  const info = await ctx.container.info();
  if (!info.running) return verdict('FALSE', verifier, `the worker's container is not running (${info.status})`, { container: info.name });
  const procs = await ctx.container.processes();
  for (const p of procs) {
    const how = processMatch(name, p);
    if (how) {
      return verdict('TRUE', verifier, `a process matching ${JSON.stringify(name)} (${how}) runs in the worker's container`, {
        pid: p.pid,
        comm: p.comm,
        args: redactSecretsSync(p.args).slice(0, 300),
        matched_by: how,
      });
    }
  }
  return verdict('FALSE', verifier, `no process matching ${JSON.stringify(name)} runs in the worker's container`, {
    processes: procs.length,
    names: [...new Set(procs.map((p) => p.comm))].slice(0, 30),
  });
};
