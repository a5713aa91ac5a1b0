-- Rows already in a table that break an exercise's rule for one column: their number, and up
-- to five of the offending values (as text). A constraint added NOT VALID, or a trigger,
-- refuses new bad values and leaves these. Only the column is in scope, as `value` (v.value).
-- Placeholders: table, column (identifiers), condition (SQL built by the check from the
-- spec's rule, true for a breaking row).
SELECT pg_catalog.count(*) AS breakers,
       ARRAY(SELECT v.value::pg_catalog.text
             FROM (SELECT b.{column} AS value FROM {table} AS b) AS v
             WHERE {condition} LIMIT 5) AS examples
FROM (SELECT t.{column} AS value FROM {table} AS t) AS v
WHERE {condition}
