-- The toy fixture kind's starting state (tests/toy_kind.py): one shelf of items. The session's
-- random seed (set by the kind from the fixture's seed) picks the quantities; the spare fuses
-- always number exactly 3, a boundary for the exercise's "fewer than 3".
CREATE TABLE public.shelf (
    id       integer PRIMARY KEY,
    item     text    NOT NULL UNIQUE,
    quantity integer NOT NULL CHECK (quantity >= 0)
);

INSERT INTO public.shelf (id, item, quantity)
SELECT g, 'item ' || g, (pg_catalog.random() * 8)::integer
FROM pg_catalog.generate_series(1, 30) AS g;

INSERT INTO public.shelf (id, item, quantity) VALUES (31, 'spare fuse', 3);

ANALYZE public.shelf;
