// file_created / file_modified / file_deleted / file_contains, checked in the worker's container filesystem through
// the engine's archive endpoint (stat by HEAD, content by a streamed tar) and its change list against the image,
// and compared with the task's baseline (what the container held when the instruction was approved).
import path from 'node:path';
import { regexTest } from '../regex-test.js';
import type { BaselineView } from '../task-baselines.js';
import type { ContainerInfo, PathStat } from '../worker-container.js';
import { atStart, lookupPaths, type AtStart } from './at-start.js';
import { hasBaseline, hasTask, verdict, type Verifier, type VerifyContext } from './verify-context.js';

export const MAX_CONTENT_BYTES = 8 * 1024 * 1024;

/** The absolute path a claim means: relative to the container's working directory, `~/` to its HOME. */
export function resolveClaimPath(p: string, info: ContainerInfo): string | { reason: string } {
  let abs: string;
  if (p === '~' || p.startsWith('~/')) {
    if (!info.home) return { reason: `${p} is relative to a home directory the container does not declare` };
    abs = path.posix.join(info.home, p.slice(1));
  } else if (p.startsWith('~')) {
    return { reason: `${p} names another user's home directory` };
  } else {
    abs = path.posix.resolve(info.workingDir, p);
  }
  return abs;
}

function statEvidence(p: string, s: PathStat): Record<string, unknown> {
  return { path: p, exists: true, type: s.isDir ? 'directory' : s.linkTarget ? 'symlink' : 'file', size: s.size, mtime: s.mtimeText };
}

/** Stat that follows a final symlink once (the engine reports the link itself and where it points). */
async function statFollow(ctx: VerifyContext, p: string): Promise<{ stat: PathStat; real: string } | undefined> {
  const s = await ctx.container.stat(p);
  if (!s) return undefined;
  if (s.linkTarget && s.linkTarget !== p) {
    const t = await ctx.container.stat(s.linkTarget);
    if (t) return { stat: t, real: s.linkTarget };
  }
  return { stat: s, real: p };
}

async function resolveOrReason(ctx: VerifyContext, raw: unknown, verifier: string) {
  const info = await ctx.container.info();
  const r = resolveClaimPath(String(raw), info);
  if (typeof r !== 'string') return { done: verdict('UNVERIFIABLE', verifier, r.reason, { path: String(raw) }) };
  return { abs: r, info };
}

const short = (h: string | undefined) => (h ? h.slice(0, 12) + '…' : 'not hashed');

function baselineEvidence(b: BaselineView): Record<string, unknown> {
  return { status: b.status, files: b.file_count, captured_in_ms: Math.round(b.duration_ms), ...(b.reason ? { reason: b.reason } : {}) };
}

function startEvidence(s: AtStart): Record<string, unknown> {
  if (!s.known) return { known: false, reason: s.reason };
  if ('entry' in s) return { present: true, via: s.via, type: s.entry.t, size: s.entry.s, sha256: s.entry.h ?? null, mtime: new Date(s.entry.m * 1000).toISOString() };
  return { present: s.present, via: s.via };
}

/** For a claim about a file that should exist now: the task, the path resolved and followed, or the verdict. */
async function presentFile(ctx: VerifyContext, raw: unknown, verifier: string) {
  const task = await ctx.task();
  if (!hasTask(task)) return { done: verdict('UNVERIFIABLE', verifier, task.reason, { path: raw }) };
  const r = await resolveOrReason(ctx, raw, verifier);
  if ('done' in r) return { done: r.done! };
  const found = await statFollow(ctx, r.abs);
  const taskEv = { task_start: task.start.toISOString(), instruction_id: task.instructionId };
  if (!found) return { done: verdict('FALSE', verifier, `${r.abs} does not exist in the worker's container`, { path: r.abs, exists: false, ...taskEv }) };
  return { task, abs: r.abs, info: r.info, found, taskEv };
}

/** The task and its baseline for `paths`, or the UNVERIFIABLE verdict saying why there is none. */
async function taskBaseline(ctx: VerifyContext, verifier: string, paths: string[], lead: string, ev: Record<string, unknown>) {
  const task = await ctx.task();
  if (!hasTask(task)) return { done: verdict('UNVERIFIABLE', verifier, task.reason, ev) };
  const taskEv = { task_start: task.start.toISOString(), instruction_id: task.instructionId };
  const b = await ctx.baseline(paths);
  if (!hasBaseline(b)) return { done: verdict('UNVERIFIABLE', verifier, `${lead}: ${b.reason}`, { ...ev, ...taskEv, baseline: { missing: true } }) };
  return { task, b, taskEv };
}

// created: absent when the task started and present now. The baseline answers "absent at the start", not an mtime
// (a worker sets those at will: `touch` an old file and it looks new).
export const verifyFileCreated: Verifier = async (params, ctx) => {
  const verifier = 'file.created';
  const f = await presentFile(ctx, params.path, verifier);
  if ('done' in f) return f.done!;
  const { abs, info, found, taskEv } = f;
  const ev: Record<string, unknown> = { ...statEvidence(abs, found.stat), ...(found.real !== abs ? { resolves_to: found.real } : {}), ...taskEv };
  const tb = await taskBaseline(ctx, verifier, lookupPaths(abs), `${abs} exists, but whether it existed when the task started cannot be told`, ev);
  if ('done' in tb) return tb.done!;
  ev.baseline = baselineEvidence(tb.b);
  const s0 = await atStart(abs, tb.b, ctx, info);
  ev.at_start = startEvidence(s0);
  if (!s0.known) return verdict('UNVERIFIABLE', verifier, `${abs} exists; whether it existed when the task started cannot be told: ${s0.reason}`, ev);
  if (s0.present) {
    let how: string;
    if ('entry' in s0) {
      // The content is read only to say which (a read costs the engine a process start): same size, maybe touched.
      const file = !found.stat.isDir && s0.entry.t === 'f';
      const now = file && found.stat.size === s0.entry.s ? await ctx.container.readFile(found.real, 0) : undefined;
      const same = now && s0.entry.h && now.sha256 === s0.entry.h;
      how = `the baseline holds it (${s0.entry.t === 'd' ? 'a directory' : `${s0.entry.s} bytes, sha256 ${short(s0.entry.h)}`})${
        same ? '; its content is unchanged, only touched since' : file && (now || found.stat.size !== s0.entry.s) ? '; it was changed since, not created' : ''
      }`;
    } else {
      how = s0.via === 'image' ? "it comes with the container's image" : "it was already in the container's change list at the start";
    }
    return verdict('FALSE', verifier, `${abs} existed before the task started: ${how}`, ev);
  }
  if (typeof params.sha256 === 'string') {
    if (found.stat.isDir) return verdict('FALSE', verifier, `${abs} is a directory; a sha256 was claimed`, ev);
    const read = await ctx.container.readFile(found.real, 0);
    if (!read) return verdict('FALSE', verifier, `${abs} is not a regular file`, ev);
    ev.sha256 = read.sha256;
    ev.claimed_sha256 = params.sha256;
    if (read.sha256 !== params.sha256) return verdict('FALSE', verifier, `${abs} has sha256 ${read.sha256}, not the one claimed`, ev);
  }
  return verdict('TRUE', verifier, `${abs} was absent when the task started and exists now`, ev);
};

// modified: the content (hash) or size differs from the start. Outside the working paths the baseline keeps no
// content; there the mtime and the change list decide, as they did before baselines.
export const verifyFileModified: Verifier = async (params, ctx) => {
  const verifier = 'file.modified';
  const f = await presentFile(ctx, params.path, verifier);
  if ('done' in f) return f.done!;
  const { task, abs, info, found, taskEv } = f;
  const real = found.real;
  const ev: Record<string, unknown> = { ...statEvidence(abs, found.stat), ...(real !== abs ? { resolves_to: real } : {}), ...taskEv };
  const tb = await taskBaseline(ctx, verifier, [...new Set([...lookupPaths(real), abs])], `${abs} exists, but what it held when the task started is not known`, ev);
  if ('done' in tb) return tb.done!;
  ev.baseline = baselineEvidence(tb.b);
  const s0 = await atStart(real, tb.b, ctx, info);
  ev.at_start = startEvidence(s0);
  if (!s0.known) return verdict('UNVERIFIABLE', verifier, `${abs} exists; what it held when the task started cannot be told: ${s0.reason}`, ev);
  if (!s0.present) return verdict('TRUE', verifier, `${abs} did not exist when the task started: it was created during the task`, ev);
  if ('entry' in s0 && s0.entry.t === 'f' && !found.stat.isDir) {
    const e = s0.entry;
    // A size that differs settles it from the stat alone (reading content costs the engine a process start).
    if (found.stat.size !== e.s && !found.stat.linkTarget) {
      return verdict('TRUE', verifier, `${abs} changed since the task started: ${e.s} → ${found.stat.size} bytes`, ev);
    }
    const now = await ctx.container.readFile(real, 0);
    if (!now) return verdict('TRUE', verifier, `${abs} was a regular file when the task started and is not one now`, ev);
    ev.sha256 = now.sha256;
    if (e.h) {
      if (now.sha256 !== e.h || now.size !== e.s) {
        return verdict('TRUE', verifier, `${abs} changed since the task started: ${e.s} → ${now.size} bytes, sha256 ${short(e.h)} → ${short(now.sha256)}`, ev);
      }
      const touched = found.stat.mtime.getTime() >= (e.m + 1) * 1000 ? '; only its mtime changed' : '';
      return verdict('FALSE', verifier, `${abs} has the same content as before the task started (${e.s} bytes, sha256 ${short(e.h)})${touched}`, ev);
    }
    if (now.size !== e.s) return verdict('TRUE', verifier, `${abs} changed size since the task started: ${e.s} → ${now.size} bytes`, ev);
    return verdict('UNVERIFIABLE', verifier, `${abs} was over the baseline's hash bound (${e.s} bytes) and its size is unchanged: its content cannot be compared with the start`, ev);
  }
  // A directory, or a path outside the working paths: the time it was last written, and the change list.
  if (found.stat.mtime.getTime() < task.start.getTime()) {
    return verdict('FALSE', verifier, `${abs} was last changed at ${found.stat.mtimeText}, before the task started (${task.start.toISOString()})`, ev);
  }
  const note = 'entry' in s0 ? 'a directory: judged by its mtime' : 'outside the working paths the baseline keeps no content: judged by its mtime';
  return verdict('TRUE', verifier, `${abs} was changed at ${found.stat.mtimeText}, after the task started (${note})`, ev);
};

// deleted: present when the task started and absent now. A path that was never there was not deleted.
export const verifyFileDeleted: Verifier = async (params, ctx) => {
  const verifier = 'file.deleted';
  const r = await resolveOrReason(ctx, params.path, verifier);
  if ('done' in r) return r.done!;
  const { abs, info } = r;
  const s = await ctx.container.stat(abs);
  if (s) return verdict('FALSE', verifier, `${abs} still exists in the worker's container`, statEvidence(abs, s));
  const ev: Record<string, unknown> = { path: abs, exists: false };
  const tb = await taskBaseline(ctx, verifier, lookupPaths(abs), `${abs} does not exist now, but whether it existed when the task started cannot be told`, ev);
  if ('done' in tb) return tb.done!;
  Object.assign(ev, tb.taskEv);
  ev.baseline = baselineEvidence(tb.b);
  const s0 = await atStart(abs, tb.b, ctx, info);
  ev.at_start = startEvidence(s0);
  if (!s0.known) return verdict('UNVERIFIABLE', verifier, `${abs} does not exist now; whether it existed when the task started cannot be told: ${s0.reason}`, ev);
  if (!s0.present) return verdict('FALSE', verifier, `${abs} never existed: it was absent when the task started, so there was nothing to delete`, ev);
  return verdict('TRUE', verifier, `${abs} existed when the task started and does not exist now`, ev);
};

export const verifyFileContains: Verifier = async (params, ctx) => {
  const verifier = 'file.contains';
  const r = await resolveOrReason(ctx, params.path, verifier);
  if ('done' in r) return r.done!;
  const { abs } = r;
  const found = await statFollow(ctx, abs);
  if (!found) return verdict('FALSE', verifier, `${abs} does not exist in the worker's container`, { path: abs, exists: false });
  if (found.stat.isDir) return verdict('FALSE', verifier, `${abs} is a directory, not a file`, statEvidence(abs, found.stat));
  const read = await ctx.container.readFile(found.real, MAX_CONTENT_BYTES);
  if (!read) return verdict('FALSE', verifier, `${abs} is not a regular file`, statEvidence(abs, found.stat));
  const ev: Record<string, unknown> = { path: abs, size: read.size, sha256: read.sha256 };
  if (!read.content) {
    return verdict('UNVERIFIABLE', verifier, `${abs} is larger than ${MAX_CONTENT_BYTES} bytes; its content is not searched`, ev);
  }
  if (typeof params.text === 'string') {
    const at = read.content.indexOf(Buffer.from(params.text, 'utf8'));
    ev.match_offset = at >= 0 ? at : null;
    return at >= 0
      ? verdict('TRUE', verifier, `${abs} contains the claimed text (at byte ${at})`, ev)
      : verdict('FALSE', verifier, `${abs} does not contain the claimed text`, ev);
  }
  const outcome = regexTest(String(params.regex), read.content.toString('utf8'));
  if ('timedOut' in outcome) return verdict('UNVERIFIABLE', verifier, 'the claimed regex took too long to evaluate', ev);
  ev.matched = outcome.matched;
  return outcome.matched
    ? verdict('TRUE', verifier, `${abs} matches the claimed regex`, ev)
    : verdict('FALSE', verifier, `${abs} does not match the claimed regex`, ev);
};
