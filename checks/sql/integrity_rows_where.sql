-- Rows of one table matching a condition: their number, or a few of them.
-- Placeholders: table, condition (built from identifiers), select_list, limit.
SELECT {select_list}
FROM {table} AS t
WHERE {condition}
{limit}
