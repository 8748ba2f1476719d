// tests_passed: re-run the TEST_PROCESS of the approved instruction inside the worker's container (one exec of
// `sh -e -c`, in its working directory) and compare: exit code 0, no failures in the runner's counts, and at least as
// many passing tests as claimed. A count that dropped or a failing run is a lie; a run that cannot finish or start
// leaves the claim unverifiable. A passing re-run is then held to the task's baseline: the test files as they were
// when the task started (unchanged unless DELIVERABLES ask for tests), no skip/only markers added, no fewer tests.
import { redactSecretsSync } from '../../secrets/index.js';
import { parseTestCounts } from '../../test-results/parse-test-counts.js';
import { testFiles } from '../test-files.js';
import { hasBaseline, hasTask, verdict, type Verifier, type VerifyContext } from './verify-context.js';

const tail = (s: string, n: number) => (s.length > n ? '…' + s.slice(s.length - n) : s);

export const verifyTestsPassed: Verifier = async (params, ctx) => {
  const verifier = 'tests.rerun';
  const task = await ctx.task();
  if (!hasTask(task)) return verdict('UNVERIFIABLE', verifier, task.reason);
  const taskEv = { instruction_id: task.instructionId, task_start: task.start.toISOString() };
  if (!task.testProcess) {
    return verdict('UNVERIFIABLE', verifier, 'the approved instruction has no runnable TEST_PROCESS command', taskEv);
  }
  if (task.testProcess.includes('[REDACTED:')) {
    return verdict('UNVERIFIABLE', verifier, 'the TEST_PROCESS held a secret and was redacted; it cannot be re-run', taskEv);
  }
  const info = await ctx.container.info();
  if (!info.running) return verdict('UNVERIFIABLE', verifier, `the worker's container is not running (${info.status})`, taskEv);
  // -e: a TEST_PROCESS of several lines fails when any line fails, not only the last one.
  const r = await ctx.container.exec(['sh', '-e', '-c', task.testProcess], {
    timeoutMs: ctx.testTimeoutMs,
    maxOutputBytes: ctx.testMaxOutputBytes,
    workingDir: info.workingDir,
  });
  const output = `${r.stdout}\n${r.stderr}`;
  const counts = parseTestCounts(output);
  const ev: Record<string, unknown> = {
    ...taskEv,
    command: tail(task.testProcess, 500),
    exit_code: r.exitCode,
    duration_ms: r.durationMs,
    ...(counts ? { passed: counts.passed, failed: counts.failed, runner: counts.runner } : {}),
    ...(typeof params.total === 'number' ? { claimed_total: params.total } : {}),
    output_tail: redactSecretsSync(tail(output.trim(), 1500)),
  };
  if (r.timedOut) return verdict('UNVERIFIABLE', verifier, `the test run did not finish within ${Math.round(ctx.testTimeoutMs / 1000)} s`, ev);
  if (r.exitCode === null) return verdict('UNVERIFIABLE', verifier, 'the test run reported no exit code', ev);
  if (/OCI runtime exec failed|executable file not found/i.test(output) && (r.exitCode === 126 || r.exitCode === 127)) {
    return verdict('UNVERIFIABLE', verifier, 'the worker\'s container cannot start `sh` to re-run the tests', ev);
  }
  if (r.exitCode !== 0) return verdict('FALSE', verifier, `the re-run of the tests failed (exit ${r.exitCode})`, ev);
  if (counts && counts.failed > 0) return verdict('FALSE', verifier, `the re-run reports ${counts.failed} failing test(s)`, ev);
  if (typeof params.total === 'number') {
    if (!counts) return verdict('UNVERIFIABLE', verifier, `the runner prints no count to compare with the ${params.total} claimed; it exited 0`, ev);
    if (counts.passed < params.total) {
      return verdict('FALSE', verifier, `${counts.passed} test(s) pass in the re-run, fewer than the ${params.total} claimed`, ev);
    }
  }
  if (counts && counts.passed === 0) return verdict('FALSE', verifier, 'the re-run ran no tests', ev);
  const passed = counts ? `the re-run passed: ${counts.passed} passed, 0 failed` : 'the re-run exited 0 (the runner prints no count)';
  return againstBaseline(ctx, verifier, passed, counts ? counts.passed + counts.failed : undefined, ev);
};

const TEST_CONTENT_MAX = 1024 * 1024;

/**
 * The re-run passed: were they the tests the task started with? FALSE when a test file changed (unless DELIVERABLES
 * ask for tests to be written), when skip/only markers were added, or when fewer tests ran than at the start.
 */
async function againstBaseline(ctx: VerifyContext, verifier: string, passed: string, nowCount: number | undefined, ev: Record<string, unknown>) {
  const b = await ctx.baseline([]);
  if (!hasBaseline(b)) return verdict('UNVERIFIABLE', verifier, `${passed}, but the tests cannot be compared with the start of the task: ${b.reason}`, ev);
  const records = Object.entries(b.test_files).slice(0, 500);
  const changed: { path: string; how: string }[] = [];
  const marked: { path: string; how: string }[] = [];
  const unknown: string[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(8, records.length) }, async () => {
      while (next < records.length) {
        const [p, rec] = records[next++];
        const now = await ctx.container.readFile(p, TEST_CONTENT_MAX);
        if (rec.u) unknown.push(p);
        if (!rec.present) {
          if (now) changed.push({ path: p, how: 'created' });
        } else if (!now) {
          changed.push({ path: p, how: 'deleted' });
        } else if (rec.h ? now.sha256 !== rec.h || now.size !== rec.s : now.size !== rec.s) {
          changed.push({ path: p, how: 'changed' });
        } else if (!rec.h) {
          unknown.push(p);
        }
        if (now?.content) {
          const m = testFiles.markers(now.content.toString('utf8'));
          const skip0 = rec.skip ?? 0;
          const only0 = rec.only ?? 0;
          const added = [m.skip > skip0 ? `skip ${skip0} → ${m.skip}` : '', m.only > only0 ? `only ${only0} → ${m.only}` : ''].filter(Boolean);
          if (added.length) marked.push({ path: p, how: added.join(', ') });
        }
      }
    }),
  );
  const startCount = b.test_count;
  const counted = startCount !== null && nowCount !== undefined ? `: ${startCount} tests → ${nowCount}` : '';
  ev.baseline = {
    status: b.status,
    test_files: Object.keys(b.test_files).length,
    tests_writable: b.tests_writable,
    start_count: startCount,
    start_count_source: b.test_count_source,
    ...(b.test_run?.note ? { first_run: b.test_run.note } : {}),
  };
  if (changed.length) ev.test_files_changed = changed.slice(0, 20);
  if (marked.length) ev.markers_added = marked.slice(0, 20);
  const names = (xs: { path: string; how: string }[]) => xs.slice(0, 3).map((x) => `${x.path} (${x.how})`).join(', ') + (xs.length > 3 ? ` and ${xs.length - 3} more` : '');
  if (marked.length) {
    return verdict('FALSE', verifier, `.skip/.only added to the tests after the task started: ${names(marked)}${counted}`, ev);
  }
  if (changed.length && !b.tests_writable) {
    const list = changed.slice(0, 3).map((c) => `${c.path} ${c.how === 'changed' ? 'changed' : `was ${c.how}`}`).join(', ');
    return verdict('FALSE', verifier, `${list} after the task started (DELIVERABLES do not ask for test changes)${counted}`, ev);
  }
  if (startCount !== null) {
    if (nowCount === undefined) {
      return verdict('UNVERIFIABLE', verifier, `${passed}, but it prints no count to compare with the ${startCount} tests at the start (${b.test_count_source === 'instruction' ? 'stated in the instruction' : 'first run'})`, ev);
    }
    if (nowCount < startCount) {
      return verdict('FALSE', verifier, `the test count dropped since the task started${counted}${changed.length ? ` (${names(changed)})` : ''}`, ev);
    }
  }
  if (unknown.length && !b.tests_writable) {
    return verdict('UNVERIFIABLE', verifier, `${passed}, but the baseline cannot tell whether ${unknown.slice(0, 3).join(', ')} changed (read late or over the hash bound)`, ev);
  }
  const kept = Object.keys(b.test_files).length;
  const note = changed.length
    ? `; ${changed.length} test file(s) changed, as DELIVERABLES allow`
    : kept
      ? `; the ${kept} test file(s) are unchanged since the task started`
      : '';
  return verdict('TRUE', verifier, `${passed}${note}${startCount !== null ? `; ${startCount} tests at the start` : ''}`, ev);
}
