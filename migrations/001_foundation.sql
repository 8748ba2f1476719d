-- 001 foundation: helpers later migrations build on, and the workers table.

-- Append-only enforcement. Attach to a table with `SELECT wingman_make_append_only('table_name');` which adds a
-- row trigger (UPDATE, DELETE) and a statement trigger (TRUNCATE). Refusals raise SQLSTATE WG001 so callers
-- can recognise them.
CREATE FUNCTION wingman_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'wingman: table % is append-only; % refused', TG_TABLE_NAME, TG_OP
    USING ERRCODE = 'WG001';
END;
$$;

CREATE FUNCTION wingman_make_append_only(target regclass) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
  base text := replace(target::text, '.', '_');
BEGIN
  EXECUTE format(
    'CREATE TRIGGER %I BEFORE UPDATE OR DELETE ON %s FOR EACH ROW EXECUTE FUNCTION wingman_append_only()',
    base || '_append_only', target);
  EXECUTE format(
    'CREATE TRIGGER %I BEFORE TRUNCATE ON %s FOR EACH STATEMENT EXECUTE FUNCTION wingman_append_only()',
    base || '_no_truncate', target);
END;
$$;

-- Keeps updated_at honest on mutable tables: `CREATE TRIGGER t_touch BEFORE UPDATE ON t FOR EACH ROW
-- EXECUTE FUNCTION wingman_touch_updated_at();`
CREATE FUNCTION wingman_touch_updated_at() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  NEW.updated_at := now();
  RETURN NEW;
END;
$$;

-- Workers and their lockdown state (mutable). Name rule matches core/config.ts isWorkerName.
CREATE TABLE workers (
  name text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
  created_at timestamptz NOT NULL DEFAULT now(),
  locked boolean NOT NULL DEFAULT false,
  locked_reason text,
  locked_at timestamptz,
  locked_by text,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TRIGGER workers_touch BEFORE UPDATE ON workers FOR EACH ROW EXECUTE FUNCTION wingman_touch_updated_at();
