-- Reference solution for course-02-querying.

-- name: brazil_customers
SELECT first_name, last_name, city, email
FROM customer
WHERE country = 'Brazil'
ORDER BY last_name, first_name;

-- name: long_jazz_tracks
SELECT name, composer, round(milliseconds / 60000.0, 2) AS minutes
FROM track
WHERE genre_id = (SELECT genre_id FROM genre WHERE name = 'Jazz')
  AND milliseconds > 8 * 60 * 1000
ORDER BY milliseconds DESC;

-- name: tracks_without_composer
SELECT count(*) AS tracks_without_composer
FROM track
WHERE composer IS NULL;

-- name: love_songs
SELECT DISTINCT name
FROM track
WHERE name ILIKE '%love%'
ORDER BY name;

-- name: top_artists
SELECT ar.name AS artist, sum(il.unit_price * il.quantity) AS revenue
FROM invoice_line AS il
JOIN track  AS t  ON t.track_id   = il.track_id
JOIN album  AS al ON al.album_id  = t.album_id
JOIN artist AS ar ON ar.artist_id = al.artist_id
GROUP BY ar.artist_id, ar.name
ORDER BY revenue DESC
LIMIT 5;
