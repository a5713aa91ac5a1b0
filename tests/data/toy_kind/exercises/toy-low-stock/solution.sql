-- name: low_stock
SELECT item FROM shelf WHERE …;
