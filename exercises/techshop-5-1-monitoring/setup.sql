-- Starting state of techshop-5-1-monitoring, run as superuser on the clone before the
-- learner's files: the merchandising team's supplier-feed importer, built on an ORM, keeps its
-- staging table under a quoted, mixed-case name, as ORMs often do. Any monitoring query that
-- builds table names by string concatenation ('public.' || tablename) breaks on it.
CREATE TABLE public."ProductImport" (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    "supplierSku" text NOT NULL,
    "feedName" text NOT NULL,
    "receivedAt" timestamp NOT NULL DEFAULT TIMESTAMP '2026-11-23 06:00:00',
    payload text
);
INSERT INTO public."ProductImport" ("supplierSku", "feedName", payload)
SELECT 'SUP-' || g, 'nightly-feed', repeat('x', 200)
FROM generate_series(1, 500) AS g;
ALTER TABLE public."ProductImport" OWNER TO learner;
