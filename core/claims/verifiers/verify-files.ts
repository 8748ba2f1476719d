// file_created / file_modified / file_deleted / file_contains, checked in the worker's container filesystem through
// the engine's archive endpoint (stat by HEAD, content by a streamed tar) and its change list against the image.
import path from 'node:path';
import { regexTest } from '../regex-test.js';
import type { ContainerInfo, PathStat } from '../worker-container.js';
import { hasTask, verdict, type Verifier, type VerifyContext } from './verify-context.js';

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

function underMount(p: string, mounts: string[]): string | undefined {
  return mounts.find((m) => p === m || p.startsWith(m.endsWith('/') ? m : m + '/'));
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

function changedSince(kind: 'created' | 'modified'): Verifier {
  const verifier = `file.${kind}`;
  return async (params, ctx) => {
    const task = await ctx.task();
    if (!hasTask(task)) return verdict('UNVERIFIABLE', verifier, task.reason, { path: params.path });
    const r = await resolveOrReason(ctx, params.path, verifier);
    if ('done' in r) return r.done!;
    const { abs, info } = r;
    const taskEv = { task_start: task.start.toISOString(), instruction_id: task.instructionId };
    const found = await statFollow(ctx, abs);
    if (!found) return verdict('FALSE', verifier, `${abs} does not exist in the worker's container`, { path: abs, exists: false, ...taskEv });
    const ev: Record<string, unknown> = { ...statEvidence(abs, found.stat), ...(found.real !== abs ? { resolves_to: found.real } : {}), ...taskEv };
    if (found.stat.mtime.getTime() < task.start.getTime()) {
      return verdict('FALSE', verifier, `${abs} was last changed at ${found.stat.mtimeText}, before the task started (${task.start.toISOString()})`, ev);
    }
    if (kind === 'created' && !underMount(abs, info.mounts)) {
      // The change list says whether the path came with the image: "modified" means it existed before this
      // container wrote to it (e.g. /etc/passwd touched), which is not a creation.
      const change = await ctx.container.changeOf(abs);
      ev.change = change ?? 'none';
      if (change === 'modified' || change === undefined) {
        return verdict('FALSE', verifier, `${abs} comes from the container's image (${change ?? 'unchanged'}), it was not created`, ev);
      }
    }
    if (typeof params.sha256 === 'string') {
      if (found.stat.isDir) return verdict('FALSE', verifier, `${abs} is a directory; a sha256 was claimed`, ev);
      const read = await ctx.container.readFile(found.real, 0);
      if (!read) return verdict('FALSE', verifier, `${abs} is not a regular file`, ev);
      ev.sha256 = read.sha256;
      ev.claimed_sha256 = params.sha256;
      if (read.sha256 !== params.sha256) return verdict('FALSE', verifier, `${abs} has sha256 ${read.sha256}, not the one claimed`, ev);
    }
    return verdict('TRUE', verifier, `${abs} exists and was changed at ${found.stat.mtimeText}, after the task started`, ev);
  };
}

export const verifyFileCreated = changedSince('created');
export const verifyFileModified = changedSince('modified');

export const verifyFileDeleted: Verifier = async (params, ctx) => {
  const verifier = 'file.deleted';
  const r = await resolveOrReason(ctx, params.path, verifier);
  if ('done' in r) return r.done!;
  const { abs, info } = r;
  const s = await ctx.container.stat(abs);
  if (s) return verdict('FALSE', verifier, `${abs} still exists in the worker's container`, statEvidence(abs, s));
  const ev: Record<string, unknown> = { path: abs, exists: false };
  if (!underMount(abs, info.mounts)) ev.change = (await ctx.container.changeOf(abs)) ?? 'none';
  return verdict('TRUE', verifier, `${abs} does not exist in the worker's container`, ev);
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
