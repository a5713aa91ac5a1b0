-- amcheck's B-tree check of one index (by OID), optionally verifying that every heap
-- tuple has an index entry. Placeholders: fn (schema-qualified bt_index_check).
-- Params: index_oid, heapallindexed.
SELECT {fn}(%(index_oid)s::pg_catalog.oid::pg_catalog.regclass, %(heapallindexed)s::pg_catalog.bool)
