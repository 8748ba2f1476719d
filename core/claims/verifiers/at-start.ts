// Whether a path existed when the task started, from the task's baseline: inside the working paths from the file
// list read at the start (with its content hash); elsewhere in the container's layer from the change list at the
// start together with the change list now (a path the image has shows up as changed or deleted once touched).
// Anything the baseline cannot answer is `known: false` with the reason, never a guess.
import path from 'node:path';
import { compareWalkOrder, type TreeEntry } from '../scan-tree.js';
import type { BaselineView } from '../task-baselines.js';
import type { ContainerInfo } from '../worker-container.js';
import type { VerifyContext } from './verify-context.js';

export type AtStart =
  | { known: true; present: true; via: 'files'; entry: TreeEntry }
  | { known: true; present: boolean; via: 'files' | 'changes' | 'image' }
  | { known: false; reason: string };

/** The path and its ancestors: what a baseline lookup needs. */
export function lookupPaths(abs: string): string[] {
  const out = [abs];
  for (let p = path.posix.dirname(abs); p !== '/' && p !== '.'; p = path.posix.dirname(p)) out.push(p);
  return out;
}

function underAny(p: string, dirs: string[]): string | undefined {
  return dirs.find((m) => p === m || p.startsWith(m.endsWith('/') ? m : m + '/'));
}

export async function atStart(abs: string, b: BaselineView, ctx: VerifyContext, info: ContainerInfo): Promise<AtStart> {
  const root = b.roots.find((r) => abs === r.path || abs.startsWith(r.path + '/'));
  if (root) {
    const entry = b.files[abs];
    if (entry) {
      if (entry.u) return { known: false, reason: `the baseline read ${abs} only after /check answered, and it had already changed since the task started` };
      return { known: true, present: true, via: 'files', entry };
    }
    if (root.state === 'read' || root.state === 'absent') return { known: true, present: false, via: 'files' };
    if (root.state === 'truncated' && root.cursor && compareWalkOrder(abs, root.cursor) < 0) return { known: true, present: false, via: 'files' };
    return {
      known: false,
      reason:
        root.state === 'truncated'
          ? `the baseline of ${root.path} stopped before ${abs} (${root.reason ?? 'a bound was reached'})`
          : `the baseline could not read ${root.path} (${root.reason ?? 'unknown error'})`,
    };
  }
  const mount = underAny(abs, info.mounts);
  if (mount) return { known: false, reason: `${abs} is on a mount (${mount}) outside the task's working paths: the baseline does not cover it` };
  if (!b.has_changes) return { known: false, reason: `${abs} is outside the task's working paths and the baseline has no change list (${b.changes_status})` };
  const ancestors = lookupPaths(abs).slice(1);
  const c0 = b.changes[abs];
  if (c0 === 'A' || c0 === 'C') return { known: true, present: true, via: 'changes' };
  if (c0 === 'D') return { known: true, present: false, via: 'changes' };
  // The change list names every path under an added directory, and only the top of a deleted one.
  if (ancestors.some((a) => b.changes[a] === 'D' || b.changes[a] === 'A')) return { known: true, present: false, via: 'changes' };
  // Not in the change list at the start: as the image has it. The change list now says whether the image has it.
  const now = await ctx.container.changes();
  const cn = now.get(abs);
  if (cn === 'modified' || cn === 'deleted') return { known: true, present: true, via: 'image' };
  if (cn === 'added') return { known: true, present: false, via: 'image' };
  if (ancestors.some((a) => now.get(a) === 'deleted')) {
    return { known: false, reason: `a directory above ${abs} was deleted since; whether the image had ${abs} cannot be told` };
  }
  return { known: true, present: (await ctx.container.stat(abs)) !== undefined, via: 'image' };
}
