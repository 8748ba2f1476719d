-- Shell-wrapper grants: one approval (a row in approvals, source 'shell') for a whole docker command line, spent
-- by the proxy on exactly the Docker API calls that command makes. The approval carries the human decision; the
-- grant carries the scope (rule set, targets, use counts) and the bearer token's hash. Scope is mutable (each
-- use is spent from it, under a row lock); every use and refusal is also an approval event (append-only).

CREATE TABLE grants (
  approval_id  uuid PRIMARY KEY REFERENCES approvals (id),
  worker       text NOT NULL,
  token_hash   text NOT NULL UNIQUE,
  shell_rule   text NOT NULL,
  -- {"<DockerRuleId>": {"uses": n, "targets": [ids] | null, "escalations": [kinds], "host_paths": [paths] | null}}
  scope        jsonb NOT NULL,
  ttl_s        integer NOT NULL CHECK (ttl_s > 0),
  created_at   timestamptz NOT NULL DEFAULT now(),
  first_used_at timestamptz,
  closed_at    timestamptz
);
CREATE INDEX grants_worker ON grants (worker, created_at DESC);
