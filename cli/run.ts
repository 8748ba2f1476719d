// `wingman run --instruction FILE -- CMD [ARGS…]`: the no-bypass way to run a task. The instruction goes to the
// sidecar's /check first; rejected (or the worker locked down) → exit 2 with the reasons and nothing is run. Approved →
// the command runs (stdio inherited, WINGMAN_INSTRUCTION_ID set for it), then its argv, exit code and duration are
// reported to the sidecar's /executed, which records them in the execution audit. Exits with the command's code
// (128 + signal number when a signal ended it); 1 when the sidecar cannot be asked or the arguments are wrong.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { constants as osConstants } from 'node:os';
import type { Config } from '../core/config.js';

export const RUN_USAGE = 'usage: wingman run --instruction FILE -- CMD [ARGS...]';
const MAX_INSTRUCTION_BYTES = 1024 * 1024;

export interface RunIo {
  stderr: { write(s: string): unknown };
}

/** What the sidecar's /check answers (core/gate: the decision, plus the instruction id); an error answer has `message`. */
interface CheckAnswer {
  approved?: boolean;
  score?: number;
  instruction_id?: string;
  missing_sections?: string[];
  weak_sections?: string[];
  weak_reasons?: Record<string, string>;
  violations?: { rule: string; excerpt: string }[];
  message?: string;
}

/** The sidecar's answer: `json` typed as the body the caller expects; on an error status only `message` is there. */
interface SidecarAnswer<T> {
  status: number;
  json: T & { message?: string };
}

async function callSidecar<T>(base: string, p: string, body: unknown, timeoutMs: number): Promise<SidecarAnswer<T>> {
  const res = await fetch(new URL(p, base), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(timeoutMs),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = { message: text.slice(0, 300) };
  }
  return { status: res.status, json: json as T & { message?: string } };
}

function parseArgs(args: string[]): { file: string; argv: string[] } | string {
  const dash = args.indexOf('--');
  const opts = dash >= 0 ? args.slice(0, dash) : args;
  const argv = dash >= 0 ? args.slice(dash + 1) : [];
  let file: string | undefined;
  for (let i = 0; i < opts.length; i++) {
    const a = opts[i];
    if (a === '--instruction') file = opts[++i];
    else if (a.startsWith('--instruction=')) file = a.slice('--instruction='.length);
    else return `unknown option ${a}`;
  }
  if (!file) return 'missing --instruction FILE';
  if (dash < 0 || argv.length === 0) return 'missing the command after --';
  return { file, argv };
}

function describeRejection(j: CheckAnswer): string {
  const lines = [`instruction rejected (score ${j.score ?? '?'}${j.instruction_id ? `, instruction ${j.instruction_id}` : ''}); nothing was run`];
  if (j.missing_sections?.length) lines.push(`  missing sections: ${j.missing_sections.join(', ')}`);
  for (const s of j.weak_sections ?? []) lines.push(`  weak section ${s}: ${j.weak_reasons?.[s] ?? 'not substantive'}`);
  for (const v of j.violations ?? []) lines.push(`  violation ${v.rule}: ${v.excerpt}`);
  return lines.join('\n');
}

export async function runRun(config: Config, args: string[], io: RunIo = process): Promise<number> {
  const say = (s: string) => io.stderr.write(`wingman: ${s}\n`);
  const parsed = parseArgs(args);
  if (typeof parsed === 'string') {
    say(`${parsed}\n${RUN_USAGE}`);
    return 1;
  }
  let text: string;
  try {
    const st = fs.statSync(parsed.file);
    if (st.size > MAX_INSTRUCTION_BYTES) {
      say(`${parsed.file} is larger than ${MAX_INSTRUCTION_BYTES} bytes; nothing was run`);
      return 1;
    }
    text = fs.readFileSync(parsed.file, 'utf8');
  } catch (err) {
    say(`cannot read ${parsed.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}; nothing was run`);
    return 1;
  }

  let check: SidecarAnswer<CheckAnswer>;
  try {
    check = await callSidecar<CheckAnswer>(config.sidecarUrl, '/check', { instruction: text }, 60_000);
  } catch (err) {
    say(`sidecar unreachable at ${config.sidecarUrl} (${(err as Error).message}); nothing was run`);
    return 1;
  }
  if (check.status === 423) {
    say(`${check.json.message ?? 'worker is locked down'}; nothing was run`);
    return 2;
  }
  if (check.status === 400) {
    say(`${check.json.message ?? 'invalid instruction'}; nothing was run`);
    return 2;
  }
  if (check.status !== 200) {
    say(`the sidecar answered ${check.status}: ${check.json.message ?? ''}; nothing was run`);
    return 1;
  }
  if (check.json.approved !== true) {
    say(describeRejection(check.json));
    return 2;
  }
  const instructionId = String(check.json.instruction_id);
  say(`instruction ${instructionId} approved (score ${check.json.score}); running ${parsed.argv[0]}`);

  const started = performance.now();
  const exitCode = await new Promise<number>((resolve) => {
    const child = spawn(parsed.argv[0], parsed.argv.slice(1), {
      stdio: 'inherit',
      env: { ...process.env, WINGMAN_INSTRUCTION_ID: instructionId },
    });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const onInt = forward('SIGINT');
    const onTerm = forward('SIGTERM');
    process.on('SIGINT', onInt);
    process.on('SIGTERM', onTerm);
    const done = (code: number) => {
      process.removeListener('SIGINT', onInt);
      process.removeListener('SIGTERM', onTerm);
      resolve(code);
    };
    child.once('error', (err) => {
      say(`cannot start ${parsed.argv[0]}: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
      done((err as NodeJS.ErrnoException).code === 'ENOENT' ? 127 : 126);
    });
    child.once('exit', (code, signal) => {
      done(code ?? 128 + ((signal && osConstants.signals[signal]) || 0));
    });
  });
  const durationMs = performance.now() - started;

  try {
    const r = await callSidecar<unknown>(
      config.sidecarUrl,
      '/executed',
      { argv: parsed.argv, exit_code: Math.min(255, exitCode), duration_ms: Math.round(durationMs * 1000) / 1000, instruction_id: instructionId },
      30_000,
    );
    if (r.status !== 201) say(`the execution was not recorded: ${r.status} ${r.json.message ?? ''}`);
  } catch (err) {
    say(`the execution was not recorded: sidecar unreachable (${(err as Error).message})`);
  }
  return exitCode;
}
