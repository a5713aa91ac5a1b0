-- TechShop 3.2: verify the constraints.
-- Explore first:  python grade.py lab up  &&  python grade.py lab psql
--
-- Write one statement under each name line (keep the name lines as they are):
--   duplicate_emails       email, accounts: every address held by more than one customer
--   duplicate_accounts     id, email, created_at: every account whose address another account shares
--   email_index_check      amcheck on customers_email_key -- this one is supposed to FAIL
--   negative_stock         id, name, stock_quantity of every product with negative stock
--   order_total_mismatch   order_id, order_total, calculated_total, difference
--                          for every order whose total is off from its lines by more than 0.01
--
-- Statements above the first name line (SET …) run too, in the same session.
-- Grade yourself:  python grade.py -e techshop-3-2-constraints

-- name: duplicate_emails


-- name: duplicate_accounts


-- name: email_index_check


-- name: negative_stock


-- name: order_total_mismatch

