-- Rows already in a table that break an exercise's rule for one column: their number, and up
-- to five of the offending values (as text). A constraint added NOT VALID, or a trigger,
-- refuses new bad values and leaves these. Placeholders: table, column (identifiers),
-- condition (SQL built by the check from the spec's rule, true for a breaking row).
SELECT pg_catalog.count(*) AS breakers,
       ARRAY(SELECT (b.{column})::pg_catalog.text
             FROM {table} AS b CROSS JOIN LATERAL (SELECT b.{column} AS value) AS v
             WHERE {condition} LIMIT 5) AS examples
FROM {table} AS t CROSS JOIN LATERAL (SELECT t.{column} AS value) AS v
WHERE {condition}
