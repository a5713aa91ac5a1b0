-- A perturbed copy of Chinook for grading course-02: the same questions, data on which the
-- accidents of the real sample stop holding. Every named query must be right here too.
-- Ids are computed, never typed: they follow whatever the sample holds.

-- Ids are not names: Jazz and Blues swap their ids, so `genre_id = 2` typed in from the
-- real sample now finds the Blues tracks.
UPDATE genre SET name = CASE genre_id WHEN 2 THEN 'Blues' ELSE 'Jazz' END WHERE genre_id IN (2, 6);

-- Tracks at the eight-minute boundary, in the genre now named Jazz: exactly 480,000 ms is
-- not longer than eight minutes (`>=` lists it), 480,001 ms is. Both have no composer, so
-- the count of tracks without one moves too.
INSERT INTO track (track_id, name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price)
SELECT m.id + n, v.name, (SELECT min(album_id) FROM album), 1,
       (SELECT genre_id FROM genre WHERE name = 'Jazz'), NULL, v.ms, 1000000, 0.99
FROM (SELECT max(track_id) AS id FROM track) AS m,
     (VALUES (1, 'Exactly Eight Minutes', 480000), (2, 'Eight Minutes And A Blink', 480001),
             (3, 'Nearly Eight', 479999)) AS v(n, name, ms);

-- Titles in capitals, twice (on two albums): a pattern that covers only the spellings the
-- real sample happens to use ('Love', 'love') misses them, and DISTINCT must fold the pair.
INSERT INTO track (track_id, name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price)
SELECT m.id + n, 'LOVE ON THE WIRE', a.album_id, 1, 1, 'Anon', 200000, 1000000, 0.99
FROM (SELECT max(track_id) AS id FROM track) AS m,
     (VALUES (1, (SELECT min(album_id) FROM album)), (2, (SELECT max(album_id) FROM album))) AS a(n, album_id);

-- A customer in Brazil the real sample does not have: a list typed in from it is short.
INSERT INTO customer (customer_id, first_name, last_name, city, country, email)
SELECT max(customer_id) + 1, 'Zélia', 'Abreu', 'Recife', 'Brazil', 'zelia.abreu@example.com.br' FROM customer;

-- Quantity is 1 on every invoice line of the real sample, so summing unit_price alone looks
-- right there. Here Deep Purple's lines sell three at a time (it climbs into the top five
-- only when quantity counts) …
UPDATE invoice_line SET quantity = 3
WHERE track_id IN (SELECT t.track_id FROM track t JOIN album al ON al.album_id = t.album_id
                   JOIN artist ar ON ar.artist_id = al.artist_id WHERE ar.name = 'Deep Purple');

-- … and a second artist called 'Lost' (a different act with the same name) sells a track:
-- grouping by name alone adds its sales to the first one's.
INSERT INTO artist (artist_id, name) SELECT max(artist_id) + 1, 'Lost' FROM artist;
INSERT INTO album (album_id, title, artist_id)
SELECT max(album_id) + 1, 'Found', (SELECT max(artist_id) FROM artist) FROM album;
INSERT INTO track (track_id, name, album_id, media_type_id, genre_id, composer, milliseconds, bytes, unit_price)
SELECT max(track_id) + 1, 'Found Again', (SELECT max(album_id) FROM album), 1, 1, 'Anon', 180000, 1000000, 30.00
FROM track;
INSERT INTO invoice_line (invoice_line_id, invoice_id, track_id, unit_price, quantity)
SELECT max(invoice_line_id) + 1, (SELECT min(invoice_id) FROM invoice), (SELECT max(track_id) FROM track), 30.00, 1
FROM invoice_line;
