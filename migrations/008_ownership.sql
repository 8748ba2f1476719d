-- 008 ownership: every object a worker creates through its socket is its own. Containers, volumes and networks
-- also carry the `io.wingman.worker` label (so dockerd can filter lists), but a label can be forged through an
-- image's own labels; this table is the truth. Execs and image references, which Docker cannot label, live only
-- here. `source` says how the row came to be: created through the proxy, or adopted by ops.
CREATE TABLE owned_objects (
  kind        text NOT NULL CHECK (kind IN ('container', 'exec', 'volume', 'network', 'image')),
  -- containers, execs, networks: the engine's full id; volumes: the name; images: the normalised reference
  id          text NOT NULL,
  worker      text NOT NULL,
  name        text,
  source      text NOT NULL DEFAULT 'created' CHECK (source IN ('created', 'adopted')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, id)
);
CREATE INDEX owned_objects_worker ON owned_objects (worker, kind);

-- Who gained or lost which object, and who said so (append-only).
CREATE TABLE ownership_events (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  kind        text NOT NULL,
  object_id   text NOT NULL,
  worker      text NOT NULL,
  event       text NOT NULL,
  actor       text NOT NULL
);
SELECT wingman_make_append_only('ownership_events');
