-- Wrong on purpose: a case-sensitive UNIQUE, a CHECK left NOT VALID, and the invoice
-- foreign key left as it was.
ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_quantity_positive CHECK (quantity > 0) NOT VALID;
ALTER TABLE invoice_line ADD CONSTRAINT invoice_line_unit_price_not_negative CHECK (unit_price >= 0);
ALTER TABLE track ADD CONSTRAINT track_unit_price_not_negative CHECK (unit_price >= 0);
ALTER TABLE customer ADD CONSTRAINT customer_email_key UNIQUE (email);
