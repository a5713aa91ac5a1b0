-- Reference solution for course-01-create-tables: the scenario's schema, plus the
-- constraints whose absence the incident shows.

BEGIN;

CREATE TABLE customers (
    id         serial PRIMARY KEY,
    email      varchar(255) NOT NULL UNIQUE,
    first_name varchar(100),
    last_name  varchar(100),
    created_at timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE categories (
    id        serial PRIMARY KEY,
    name      varchar(100) NOT NULL,
    parent_id integer REFERENCES categories (id)
);

CREATE TABLE products (
    id             serial PRIMARY KEY,
    name           varchar(255) NOT NULL,
    sku            varchar(50) NOT NULL UNIQUE,
    price          numeric(10, 2) NOT NULL CHECK (price >= 0),
    stock_quantity integer NOT NULL DEFAULT 0 CHECK (stock_quantity >= 0),
    category_id    integer REFERENCES categories (id),
    created_at     timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP
);

CREATE TABLE orders (
    id           serial PRIMARY KEY,
    customer_id  integer REFERENCES customers (id),
    order_date   timestamp NOT NULL DEFAULT CURRENT_TIMESTAMP,
    total_amount numeric(10, 2),
    status       varchar(50) NOT NULL DEFAULT 'pending'
);

CREATE TABLE order_items (
    id         serial PRIMARY KEY,
    order_id   integer NOT NULL REFERENCES orders (id),
    product_id integer NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    price      numeric(10, 2) NOT NULL CHECK (price >= 0)
);

COMMIT;
