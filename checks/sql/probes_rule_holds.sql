-- Whether one probe value obeys an exercise's rule: the rule (a boolean SQL expression of
-- `value`, from the spec) evaluated on the value as a literal. NULL means the rule does not
-- decide (a CHECK lets such a value in). Placeholders: rule (spec SQL), value (a literal).
SELECT ({rule})::pg_catalog.bool FROM (SELECT {value} AS value) AS v
