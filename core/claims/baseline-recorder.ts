// Records the task-start baseline of an approved instruction (issue 14): through the sidecar's Docker handle (its
// proxy identity), with no agent inside the worker —
//   the change list against the image        GET /containers/{id}/changes
//   the working paths, every file hashed      GET /containers/{id}/archive?path=<dir>  (one tar stream per path)
//     under a size bound
//   the test count                            the instruction's own number, else one run of TEST_PROCESS (exec)
// Bounded in files, bytes and time; /check waits for it at most `budgetMs` (the capture goes on after the answer,
// and anything it reads after that which already changed since the task started is marked as not the start state).
// One row per instruction, appended when the capture ends; verifiers in this process wait for a capture in flight.
import path from 'node:path';
import type { Readable } from 'node:stream';
import { isWingmanError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { compareWalkOrder, scanTree, type TreeEntry } from './scan-tree.js';
import { CHANGE_LETTER, type BaselineRoot, type BaselineStatus, type ChangeLetter, type NewBaseline, type TaskBaselines, type TestFileRecord, type TestRun } from './task-baselines.js';
import { parseTestCounts } from '../test-results/parse-test-counts.js';
import { testFiles } from './test-files.js';
import type { ContainerInfo, WorkerContainer } from './worker-container.js';

export interface BaselineBounds {
  /** how long /check waits for the capture before answering */
  budgetMs: number;
  /** the whole capture, the first test run included */
  timeoutMs: number;
  maxFiles: number;
  hashMaxBytes: number;
  maxBytes: number;
  maxChanges: number;
  /** the first run of TEST_PROCESS (also bounded by timeoutMs) */
  testTimeoutMs: number;
}

export const DEFAULT_BASELINE_BOUNDS: BaselineBounds = {
  budgetMs: 2_000,
  timeoutMs: 60_000,
  maxFiles: 20_000,
  hashMaxBytes: 4 * 1024 * 1024,
  maxBytes: 512 * 1024 * 1024,
  maxChanges: 50_000,
  testTimeoutMs: 60_000,
};

export interface BaselineTask {
  instructionId: string;
  /** decided_at of the instruction: the task start */
  start: Date;
  testProcess: string | null;
  /** the gate's (redacted) sections: DELIVERABLES, SUCCESS_CRITERIA … */
  sections: Partial<Record<string, string>>;
}

export interface Capture {
  done: Promise<NewBaseline>;
  /** /check is answering now: what the capture reads from here on may already hold the worker's changes */
  answered(): void;
}

const TEST_CONTENT_MAX = 1024 * 1024;
const MAX_TEST_FILES = 1_000;
const MAX_ROOTS = 8;
const SYSTEM = /^\/(?:proc|sys|dev)(?:\/|$)/;
const ABS_PATH = /(?:^|[\s`'"(=:])(\/[A-Za-z0-9._@+-]+(?:\/[A-Za-z0-9._@+-]+)*)/g;

export interface BaselineRecorderOptions {
  worker: string;
  container: WorkerContainer;
  store: TaskBaselines;
  log: Logger;
  metrics?: Metrics;
  bounds?: Partial<BaselineBounds>;
}

/** How long a capture that found no worker container is taken as the answer for the next ones (see capture()). */
const MISSING_MEMO_MS = 2_000;

export class BaselineRecorder {
  readonly bounds: BaselineBounds;
  private readonly inflight = new Map<string, Promise<NewBaseline>>();
  /** when a capture last found the worker's container missing, and the reason it recorded */
  private missing: { at: number; reason: string } | undefined;

  constructor(private readonly opts: BaselineRecorderOptions) {
    this.bounds = { ...DEFAULT_BASELINE_BOUNDS, ...opts.bounds };
  }

  start(task: BaselineTask): Capture {
    let answeredAt: number | undefined;
    const t0 = Date.now();
    const done = this.capture(task, t0, () => answeredAt)
      .then(async (b) => {
        await this.store(b);
        return b;
      })
      .finally(() => this.inflight.delete(task.instructionId));
    this.inflight.set(task.instructionId, done);
    done.catch(() => undefined);
    return { done, answered: () => void (answeredAt ??= Date.now()) };
  }

  /** A capture of this instruction still running in this process, to wait for (undefined: none). */
  pending(instructionId: string): Promise<unknown> | undefined {
    return this.inflight.get(instructionId)?.catch(() => undefined);
  }

  /** Wait for captures in flight (their rows are written) before the store goes away. */
  async stop(): Promise<void> {
    await Promise.allSettled([...this.inflight.values()]);
  }

  private async store(b: NewBaseline): Promise<void> {
    const { log, metrics } = this.opts;
    metrics?.baselineCapture.observe({ status: b.status }, b.duration_ms / 1000);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.opts.store.insert(b);
        log.info({ instruction_id: b.instruction_id, status: b.status, files: Object.keys(b.files).length, ms: Math.round(b.duration_ms) }, 'baseline recorded');
        return;
      } catch (err) {
        if (attempt >= 5) {
          // Its claims will say there is no baseline (UNVERIFIABLE), never guess.
          log.error({ instruction_id: b.instruction_id, err: (err as Error).message }, 'baseline not stored');
          return;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
    }
  }

  private async capture(task: BaselineTask, t0: number, answeredAt: () => number | undefined): Promise<NewBaseline> {
    const { container, worker } = this.opts;
    const b = this.bounds;
    const deadline = t0 + b.timeoutMs;
    const startSec = Math.floor(task.start.getTime() / 1000);
    const lateSince = () => (answeredAt() !== undefined ? startSec : undefined);
    const base = {
      instruction_id: task.instructionId,
      worker,
      bounds: { ...b },
      started_at: new Date(t0),
      test_count: null as number | null,
      test_count_source: null as NewBaseline['test_count_source'],
      test_run: null as TestRun | null,
    };
    const finish = (rest: Omit<NewBaseline, keyof typeof base | 'finished_at' | 'duration_ms' | 'answered_after_ms'> & Partial<typeof base>): NewBaseline => {
      const end = Date.now();
      const a = answeredAt();
      return { ...base, ...rest, finished_at: new Date(end), duration_ms: end - t0, answered_after_ms: a === undefined ? null : a - t0 };
    };

    const failed = (reason: string) =>
      finish({ status: 'failed', reason, roots: [], files: {}, changes: null, changes_status: 'failed', test_files: {}, tests_writable: false });
    // A container the engine said does not exist is taken as still missing for 2 s, as a found one's details are
    // (DockerodeWorkerContainer.info()): a sidecar pointed at a missing container would otherwise ask the engine,
    // through the proxy that audits every call, for each approved instruction, to record the same failed baseline.
    if (this.missing && t0 - this.missing.at < MISSING_MEMO_MS) return failed(this.missing.reason);
    let info: ContainerInfo;
    try {
      info = await container.info();
    } catch (err) {
      if (isWingmanError(err, 'WGM_ERR_CLAIM_CONTAINER_MISSING')) {
        const reason = `the worker's container (${err.message.replace(/^.*?: /, '')}) does not exist`;
        this.missing = { at: t0, reason };
        return failed(reason);
      }
      return failed(`the worker's container could not be inspected: ${(err as Error).message.slice(0, 300)}`);
    }
    this.missing = undefined;

    const named = testFiles.named(task.testProcess, info.workingDir);
    const roots = workingRoots(info, task, named);
    const problems: string[] = [];

    // The change list (one answer, the container's whole layer) is read while the working paths are.
    let changes: Record<string, ChangeLetter> | null = null;
    let changesStatus: BaselineStatus = 'complete';
    const changesRead = container.changes().then(
      (list) => {
        // Paths in the working paths are in the file list already; the change list is for everything else.
        const kept: Record<string, ChangeLetter> = {};
        let n = 0;
        for (const [p, k] of list) {
          if (roots.some((r) => p === r || p.startsWith(r + '/'))) continue;
          kept[p] = CHANGE_LETTER[k];
          n++;
        }
        if (n > b.maxChanges) {
          changesStatus = 'partial';
          problems.push(`the change list has ${n} entries outside the working paths, more than ${b.maxChanges}: not kept`);
        } else {
          changes = kept;
        }
      },
      (err: Error) => {
        changesStatus = 'failed';
        problems.push(`the change list could not be read: ${err.message.slice(0, 200)}`);
      },
    );

    const files: Record<string, TreeEntry> = {};
    const contents = new Map<string, Buffer>();
    const isTest = (abs: string, root: string) =>
      named.includes(abs) || named.some((n) => abs.startsWith(n + '/')) || testFiles.isImplied(path.posix.relative(root, abs));
    const rootRecords: BaselineRoot[] = [];
    let fileCount = 0;
    for (const root of roots) {
      if (Date.now() >= deadline) {
        rootRecords.push({ path: root, state: 'error', files: 0, reason: 'the time bound ran out before it was read' });
        problems.push(`${root} was not read: the time bound ran out`);
        continue;
      }
      let stream: NodeJS.ReadableStream | undefined;
      try {
        stream = await container.archive(root);
      } catch (err) {
        rootRecords.push({ path: root, state: 'error', files: 0, reason: (err as Error).message.slice(0, 200) });
        problems.push(`${root} could not be read`);
        continue;
      }
      if (!stream) {
        rootRecords.push({ path: root, state: 'absent', files: 0 });
        continue;
      }
      try {
        const r = await scanTree(
          stream as Readable,
          root,
          { maxFiles: Math.max(0, b.maxFiles - fileCount), hashMaxBytes: b.hashMaxBytes, maxBytes: b.maxBytes, deadline },
          {
            wantContent: (abs) => isTest(abs, root),
            onContent: (abs, c) => {
              if (c.length <= TEST_CONTENT_MAX && contents.size < MAX_TEST_FILES) contents.set(abs, c);
            },
            lateSince,
          },
        );
        for (const [p, e] of r.entries) files[p] = e;
        fileCount += r.entries.size;
        if (r.truncated) {
          rootRecords.push({ path: root, state: 'truncated', files: r.entries.size, ...(r.truncated.cursor ? { cursor: r.truncated.cursor } : {}), reason: r.truncated.reason });
          problems.push(`${root} was read only up to ${r.truncated.cursor ?? 'its start'} (${r.truncated.reason})`);
        } else {
          rootRecords.push({ path: root, state: 'read', files: r.entries.size });
        }
      } catch (err) {
        rootRecords.push({ path: root, state: 'error', files: 0, reason: (err as Error).message.slice(0, 200) });
        problems.push(`${root} could not be read: ${(err as Error).message.slice(0, 200)}`);
      }
    }

    await changesRead;

    // The test files: those TEST_PROCESS names (present or not) and those a runner picks up by name.
    const tests: Record<string, TestFileRecord> = {};
    for (const n of named) {
      const e = files[n];
      if (!e) {
        if (knownAbsent(n, rootRecords)) tests[n] = { present: false };
      } else if (e.t !== 'd') tests[n] = testRecord(e, contents.get(n));
    }
    for (const [p, e] of Object.entries(files)) {
      if (Object.keys(tests).length >= MAX_TEST_FILES) break;
      if (e.t !== 'f' || tests[p]) continue;
      const root = roots.find((r) => p === r || p.startsWith(r + '/'));
      if (root && isTest(p, root)) tests[p] = testRecord(e, contents.get(p));
    }
    const writable = testFiles.writable(task.sections.DELIVERABLES, Object.keys(tests).length ? Object.keys(tests) : named);

    // The count at the start: the instruction's own number, else one run of TEST_PROCESS.
    const stated = testFiles.statedCount([task.sections.SUCCESS_CRITERIA, task.sections.TEST_RESULTS_FORMAT, task.sections.QUALITY_METRICS]);
    if (stated !== undefined) {
      base.test_count = stated;
      base.test_count_source = 'instruction';
    } else {
      const run = await this.firstRun(task, info, deadline, tests);
      base.test_run = run;
      if (run.passed !== undefined && run.note === undefined) {
        base.test_count = run.passed + (run.failed ?? 0);
        base.test_count_source = 'first_run';
      }
    }

    const partial = rootRecords.some((r) => r.state === 'truncated' || r.state === 'error') || changesStatus !== 'complete';
    return finish({
      status: partial ? 'partial' : 'complete',
      reason: problems.length ? problems.join('; ').slice(0, 2000) : null,
      roots: rootRecords,
      files,
      changes,
      changes_status: changesStatus,
      test_files: tests,
      tests_writable: writable,
    });
  }

  private async firstRun(task: BaselineTask, info: ContainerInfo, deadline: number, tests: Record<string, TestFileRecord>): Promise<TestRun> {
    const { container } = this.opts;
    if (!task.testProcess) return { exit_code: null, note: 'no runnable TEST_PROCESS' };
    if (task.testProcess.includes('[REDACTED:')) return { exit_code: null, note: 'the TEST_PROCESS held a secret and was redacted' };
    if (!info.running) return { exit_code: null, note: `the worker's container is not running (${info.status})` };
    const timeoutMs = Math.min(this.bounds.testTimeoutMs, deadline - Date.now());
    if (timeoutMs < 100) return { exit_code: null, note: 'no time was left for a first run' };
    try {
      const r = await container.exec(['sh', '-e', '-c', task.testProcess], { timeoutMs, maxOutputBytes: 256 * 1024, workingDir: info.workingDir });
      const counts = parseTestCounts(`${r.stdout}\n${r.stderr}`);
      const run: TestRun = { exit_code: r.exitCode, duration_ms: r.durationMs, ...(counts ? { passed: counts.passed, failed: counts.failed, runner: counts.runner } : {}) };
      if (r.timedOut) return { ...run, note: `the first run did not finish within ${Math.round(timeoutMs / 1000)} s` };
      if (!counts) return { ...run, note: 'the runner printed no count' };
      // A count is the start's only if the tests it ran were still the start's when it ended.
      const changed = await this.changedTests(tests);
      if (changed.length) return { ...run, note: `test files changed during the first run: ${changed.slice(0, 3).join(', ')}` };
      return run;
    } catch (err) {
      return { exit_code: null, note: `the first run could not be started: ${(err as Error).message.slice(0, 200)}` };
    }
  }

  /**
   * Test files that changed since the scan, by stat (size and mtime: a HEAD, where a content read costs a process
   * start in the engine). This guards the count of the first run against edits made while it ran.
   */
  private async changedTests(tests: Record<string, TestFileRecord>): Promise<string[]> {
    const out: string[] = [];
    const entries = Object.entries(tests).slice(0, 64);
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(8, entries.length) }, async () => {
        while (next < entries.length) {
          const [p, rec] = entries[next++];
          const now = await this.opts.container.stat(p).catch(() => undefined);
          if (rec.present !== (now !== undefined) || (now && (now.size !== rec.s || Math.floor(now.mtime.getTime() / 1000) !== rec.m))) out.push(p);
        }
      }),
    );
    return out;
  }
}

function testRecord(e: TreeEntry, content: Buffer | undefined): TestFileRecord {
  const rec: TestFileRecord = { present: true, s: e.s, m: e.m };
  if (e.h) rec.h = e.h;
  if (e.u) rec.u = 1;
  if (content) Object.assign(rec, testFiles.markers(content.toString('utf8')));
  return rec;
}

/** A path the scan shows was not there: under a root read in full (or absent), or walked past before a cut. */
export function knownAbsent(p: string, roots: BaselineRoot[]): boolean {
  return roots.some(
    (r) =>
      (p === r.path || p.startsWith(r.path + '/')) &&
      (r.state === 'read' || r.state === 'absent' || (r.state === 'truncated' && r.cursor !== undefined && compareWalkOrder(p, r.cursor) < 0)),
  );
}

/**
 * The task's working paths: the container's working directory, and the directories of absolute paths DELIVERABLES
 * and TEST_PROCESS name outside it. Never `/`, /proc, /sys or /dev; nested paths are folded into their parent.
 */
export function workingRoots(info: ContainerInfo, task: BaselineTask, named: string[]): string[] {
  const candidates: string[] = [];
  if (info.workingDir !== '/') candidates.push(path.posix.normalize(info.workingDir));
  const texts = [task.sections.DELIVERABLES, task.testProcess ?? undefined].filter((x): x is string => !!x);
  for (const t of texts) for (const m of t.matchAll(ABS_PATH)) candidates.push(path.posix.dirname(path.posix.normalize(m[1])));
  for (const n of named) candidates.push(path.posix.dirname(n));
  const roots: string[] = [];
  for (const c of candidates.map((x) => x.replace(/\/+$/, '')).filter((x) => x && x !== '/' && !SYSTEM.test(x)).sort((a, b) => a.length - b.length)) {
    if (roots.some((r) => c === r || c.startsWith(r + '/'))) continue;
    roots.push(c);
    if (roots.length >= MAX_ROOTS) break;
  }
  return roots;
}
