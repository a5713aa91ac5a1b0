-- Contrast "extra-rows" (grader-side, never shown to learners): the same Pagila with one more
-- row for each question, so that a list typed in from the graded copy, or a query that only
-- fits its data, is wrong here:
-- * a film listed in the catalogue that no store stocks yet;
-- * one more actor in ACADEMY DINOSAUR, sharing a last name with one already in its cast
--   (the first name decides the order);
-- * a customer in a Canadian city that had no customer before, with a rental not returned;
-- * Canada and Chile swap their ids first (by name, as every step below finds them):
--   `country_id = 20` typed in from the graded copy now finds the customers in Chile;
-- * an open rental older than every open rental of the sample (whose open rentals were all
--   made in February 2022 or later): only return_date IS NULL finds it.

UPDATE country SET country = CASE country WHEN 'Canada' THEN 'Chile' ELSE 'Canada' END
WHERE country IN ('Canada', 'Chile');

INSERT INTO film (title, description, language_id, fulltext)
VALUES ('ZEBRA BOUNDARY', 'A documentary nobody has stocked yet', 1, to_tsvector('english', 'zebra boundary'));

WITH new_actor AS (
    INSERT INTO actor (first_name, last_name) VALUES ('ADA', 'GUINESS') RETURNING actor_id
)
INSERT INTO film_actor (actor_id, film_id)
SELECT new_actor.actor_id, film.film_id FROM new_actor, film WHERE film.title = 'ACADEMY DINOSAUR';

WITH new_city AS (
    INSERT INTO city (city, country_id)
    SELECT 'Moncton', country_id FROM country WHERE country = 'Canada'
    RETURNING city_id
), new_address AS (
    INSERT INTO address (address, district, city_id, phone)
    SELECT '12 Main Street', 'New Brunswick', city_id, '5065550100' FROM new_city
    RETURNING address_id
), new_customer AS (
    INSERT INTO customer (store_id, first_name, last_name, address_id, active)
    SELECT 1, 'NORA', 'BOUNDARY', address_id, 1 FROM new_address
    RETURNING customer_id
)
INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id)
SELECT TIMESTAMPTZ '2022-08-01 10:00:00+00',
       (SELECT min(i.inventory_id) FROM inventory AS i
        WHERE NOT EXISTS (SELECT 1 FROM rental AS r WHERE r.inventory_id = i.inventory_id AND r.return_date IS NULL)),
       customer_id, 1
FROM new_customer;

INSERT INTO rental (rental_date, inventory_id, customer_id, staff_id)
SELECT TIMESTAMPTZ '2022-01-03 10:00:00+00',
       (SELECT min(i.inventory_id) FROM inventory AS i
        WHERE NOT EXISTS (SELECT 1 FROM rental AS r WHERE r.inventory_id = i.inventory_id AND r.return_date IS NULL)),
       (SELECT min(customer_id) FROM customer), 1;
