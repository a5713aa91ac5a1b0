-- A perturbed copy of Pagila for grading course-05: the foreign keys without an index are
-- not the real sample's. A list typed in from the real sample is wrong twice here.

-- film.language_id loses its index: its foreign key is now unsupported …
DROP INDEX idx_fk_language_id;
-- … and store.address_id gains one: its foreign key is now supported.
CREATE INDEX perturbed_store_address_id ON store (address_id);
