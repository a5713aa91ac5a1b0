-- Reference solution for course-07-transactions-constraints.

-- Impossible values. NOT VALID first (a short lock, new rows checked at once), then
-- VALIDATE (checks the existing rows without blocking writes).
ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_quantity_positive CHECK (quantity > 0) NOT VALID;
ALTER TABLE invoice_line VALIDATE CONSTRAINT invoice_line_quantity_positive;
ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_unit_price_not_negative CHECK (unit_price >= 0) NOT VALID;
ALTER TABLE invoice_line VALIDATE CONSTRAINT invoice_line_unit_price_not_negative;
ALTER TABLE track ADD CONSTRAINT track_unit_price_not_negative CHECK (unit_price >= 0) NOT VALID;
ALTER TABLE track VALIDATE CONSTRAINT track_unit_price_not_negative;

-- One account per mailbox: compare addresses the way mail servers do, without case.
-- (This index also rejects exact duplicates, so a plain UNIQUE (email) would only add a
-- second index to maintain.)
CREATE UNIQUE INDEX customer_email_lower_key ON customer (lower(email));

-- An invoice's lines go with it; the key may be deferred by a loading transaction.
-- Drop and re-add in one transaction: no moment without the foreign key, and if the ADD
-- fails the DROP is undone.
BEGIN;
ALTER TABLE invoice_line DROP CONSTRAINT invoice_line_invoice_id_fkey;
ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_invoice_id_fkey
    FOREIGN KEY (invoice_id) REFERENCES invoice (invoice_id)
    ON DELETE CASCADE
    DEFERRABLE INITIALLY IMMEDIATE;
COMMIT;
