-- Wrong on purpose (tests): the "proof" that customers_email_key is corrupt is an error this
-- block raises itself, with amcheck's SQLSTATE and the index's name. amcheck never ran.

-- name: email_index_check
DO $$
BEGIN
  RAISE EXCEPTION 'index "customers_email_key" is corrupt: heap tuple lacks matching index tuple'
    USING ERRCODE = 'XX002';
END
$$;
