-- Child rows dated before the parent row they reference (an order placed before its
-- customer's account existed). Rows without a parent or with a NULL timestamp are left out.
-- Placeholders: child, column, reference, parent, parent_column, parent_key, select_list
-- (count(*) or the columns shown), limit.
SELECT {select_list}
FROM (SELECT c.*, p.{parent_column} AS parent_time
      FROM {child} AS c
      JOIN {parent} AS p ON p.{parent_key} = c.{reference}
      WHERE c.{column} < p.{parent_column}) AS t
{limit}
