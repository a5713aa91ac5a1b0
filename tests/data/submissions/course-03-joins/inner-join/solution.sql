-- Wrong on purpose: an inner join cannot find films without inventory.

-- name: film_cast
SELECT a.first_name, a.last_name
FROM film AS f
JOIN film_actor AS fa ON fa.film_id = f.film_id
JOIN actor AS a ON a.actor_id = fa.actor_id
WHERE f.title = 'ACADEMY DINOSAUR'
ORDER BY a.last_name, a.first_name;

-- name: films_not_in_stock
SELECT f.title
FROM film AS f
JOIN inventory AS i ON i.film_id = f.film_id
WHERE i.inventory_id IS NULL
ORDER BY f.title;

-- name: open_rentals
SELECT r.rental_id, c.first_name, c.last_name, f.title, r.rental_date
FROM rental AS r
JOIN customer AS c ON c.customer_id = r.customer_id
JOIN inventory AS i ON i.inventory_id = r.inventory_id
JOIN film AS f ON f.film_id = i.film_id
WHERE r.return_date IS NULL
ORDER BY r.rental_date, r.rental_id;

-- name: canadian_customers
SELECT c.first_name, c.last_name, ci.city
FROM customer AS c
JOIN address AS a ON a.address_id = c.address_id
JOIN city AS ci ON ci.city_id = a.city_id
JOIN country AS co ON co.country_id = ci.country_id
WHERE co.country = 'Canada'
ORDER BY c.last_name, c.first_name;
