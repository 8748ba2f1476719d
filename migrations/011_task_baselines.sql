-- 011 task baselines: what the worker's container looked like when an instruction was approved (issue 14), so claims
-- are compared with the start of the task rather than with mtimes a worker can set. Append-only: one row per
-- approved instruction, written once the capture ends (complete, partial or failed). An approved instruction with no
-- row has no baseline (the capture was still running, or the sidecar stopped): its claims say so (UNVERIFIABLE).
CREATE TABLE task_baselines (
  instruction_id    uuid PRIMARY KEY REFERENCES instructions (id),
  worker            text NOT NULL,
  -- complete: every working path read in full; partial: a bound (files, bytes, time) cut it short or a path could
  -- not be read; failed: nothing usable (the container was missing, the engine did not answer)
  status            text NOT NULL CHECK (status IN ('complete', 'partial', 'failed')),
  reason            text,
  -- [{path, state: read|absent|truncated|error, files, cursor?, reason?}]: the working paths and how far each was read
  roots             jsonb NOT NULL DEFAULT '[]',
  -- {"<absolute path>": {t: f|d|l|o, s: size, m: mtime (s), h?: sha256 (files under the hash bound), l?: link target,
  --  u?: 1 (read after /check answered and already changed since the task started: not the start state)}}
  files             jsonb NOT NULL DEFAULT '{}',
  file_count        integer NOT NULL DEFAULT 0,
  -- the container's change list against its image at the start {"<path>": "A"|"C"|"D"}, null when not read
  changes           jsonb,
  changes_status    text NOT NULL CHECK (changes_status IN ('complete', 'partial', 'failed')),
  -- {"<absolute path>": {present, h?, s?, skip?, only?, u?}}: the test files TEST_PROCESS names or implies
  test_files        jsonb NOT NULL DEFAULT '{}',
  -- whether DELIVERABLES ask for tests to be written (then test files may change; the count still may not drop)
  tests_writable    boolean NOT NULL DEFAULT false,
  test_count        integer,
  test_count_source text CHECK (test_count_source IN ('instruction', 'first_run')),
  -- the first run's outcome (exit code, counts, duration) or why there was none
  test_run          jsonb,
  -- the limits the capture ran under
  bounds            jsonb NOT NULL DEFAULT '{}',
  started_at        timestamptz NOT NULL,
  finished_at       timestamptz NOT NULL,
  duration_ms       double precision NOT NULL,
  -- how long after the capture began /check answered (null: the capture ended first)
  answered_after_ms double precision,
  created_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_baselines_worker ON task_baselines (worker, created_at DESC);
SELECT wingman_make_append_only('task_baselines');
