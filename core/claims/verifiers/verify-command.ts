// command_executed: the execution audit (docker_audit rows with argv for this worker, recorded by `wingman run`
// through the sidecar's /executed) since the task started. The exit code is compared with the recorded one.
// argv is redacted the same way on both sides, so a command holding a secret still compares equal.
import { redactArgv } from '../claim-input.js';
import { hasTask, verdict, type Verifier } from './verify-context.js';

export const RUN_ROUTE = 'wingman run';

export const verifyCommandExecuted: Verifier = async (params, ctx) => {
  const verifier = 'command.audit';
  const argv = await redactArgv(params.argv as string[]);
  const task = await ctx.task();
  if (!hasTask(task)) return verdict('UNVERIFIABLE', verifier, task.reason, { argv });
  const { rows } = await ctx.db.query<{ id: string; at: Date; route: string; status_code: number | null; duration_ms: number | null }>(
    `SELECT id, at, route, status_code, duration_ms FROM docker_audit
      WHERE worker = $1 AND argv = $2::jsonb ORDER BY at DESC LIMIT 50`,
    [ctx.worker, JSON.stringify(argv)],
  );
  const since = rows.filter((r) => new Date(r.at).getTime() >= task.start.getTime());
  const ev: Record<string, unknown> = { argv, task_start: task.start.toISOString(), instruction_id: task.instructionId, runs_since_task_start: since.length };
  if (since.length === 0) {
    if (rows.length) ev.last_run_before_task = new Date(rows[0].at).toISOString();
    return verdict('FALSE', verifier, rows.length ? 'the command was recorded only before the task started' : 'the execution audit holds no run of this command', ev);
  }
  if (typeof params.exit_code === 'number') {
    const runs = since.filter((r) => r.route === RUN_ROUTE);
    ev.exit_codes = runs.map((r) => r.status_code);
    const match = runs.find((r) => r.status_code === params.exit_code);
    if (!match) {
      return verdict('FALSE', verifier, runs.length ? `recorded exit code(s) ${[...new Set(runs.map((r) => r.status_code))].join(', ')}, not ${params.exit_code}` : 'no recorded run of this command carries an exit code', ev);
    }
    ev.audit_id = match.id;
    return verdict('TRUE', verifier, `the command ran at ${new Date(match.at).toISOString()} and exited ${params.exit_code}`, ev);
  }
  ev.audit_id = since[0].id;
  return verdict('TRUE', verifier, `the command ran at ${new Date(since[0].at).toISOString()}`, ev);
};
