-- Child rows whose reference has no parent row. A NULL reference is no orphan (it refers
-- to nothing), so only non-NULL values are looked up. Placeholders: child, column,
-- parent, parent_column, select_list (count(*) or the child's columns), limit.
SELECT {select_list}
FROM {child} AS c
WHERE c.{column} IS NOT NULL
  AND NOT EXISTS (SELECT 1 FROM {parent} AS p WHERE p.{parent_column} = c.{column})
{limit}
