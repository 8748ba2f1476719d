// tests_passed: re-run the TEST_PROCESS of the approved instruction inside the worker's container (one exec of
// `sh -e -c`, in its working directory) and compare: exit code 0, no failures in the runner's counts, and at least as
// many passing tests as claimed. A count that dropped or a failing run is a lie; a run that cannot finish or start
// leaves the claim unverifiable.
import { redactSecretsSync } from '../../secrets/index.js';
import { parseTestCounts } from '../test-counts.js';
import { hasTask, verdict, type Verifier } from './verify-context.js';

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
  return verdict('TRUE', verifier, counts ? `the re-run passed: ${counts.passed} passed, 0 failed` : 'the re-run exited 0 (the runner prints no count)', ev);
};
