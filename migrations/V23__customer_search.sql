-- Issue 16, conversation search by customer: an index lookup instead of a scan of
-- every customer's name (`first_name LIKE '%...%'`).
--
-- `customer_terms` holds what a customer is found by, one row each: its name (first
-- name, last name and email, kind 0) and each of its identifiers (kind 1). The
-- full-text index `customer_words` (FTS5, external content: the rows of
-- customer_terms) finds the customers whose name, email or identifier has a word
-- starting with each word typed (`"jo"* "do"*`, case and accents ignored). Both are
-- kept by the triggers below, in the transaction that changes the customer, so every
-- writer (the store, the history generator, SQL tools) keeps them.
--
-- Removing a row passes its text to FTS5 ('delete'), and the index's `secure-delete`
-- option removes its words from the index's pages: an erasure leaves none of the
-- customer's words in the file (the erasure runs with PRAGMA secure_delete on).
CREATE TABLE customer_terms (
    id           INTEGER PRIMARY KEY,
    customer_id  TEXT NOT NULL,
    kind         INTEGER NOT NULL,
    text         TEXT NOT NULL
);
CREATE INDEX customer_terms_customer ON customer_terms(customer_id, kind);

CREATE VIRTUAL TABLE customer_words USING fts5(
    text,
    content = 'customer_terms',
    content_rowid = 'id',
    tokenize = 'unicode61 remove_diacritics 2'
);
INSERT INTO customer_words(customer_words, rank) VALUES ('secure-delete', 1);

CREATE TRIGGER customer_terms_indexed AFTER INSERT ON customer_terms
BEGIN
    INSERT INTO customer_words(rowid, text) VALUES (new.id, new.text);
END;

CREATE TRIGGER customer_terms_unindexed AFTER DELETE ON customer_terms
BEGIN
    INSERT INTO customer_words(customer_words, rowid, text) VALUES ('delete', old.id, old.text);
END;

-- The name row: first name, then the attributes `lastName` and `email`
-- (store::customers::set_name) when they are there.
CREATE VIEW customer_name_text AS
SELECT id, trim(first_name || ' ' ||
    CASE WHEN json_valid(data) THEN
        COALESCE(json_extract(data, '$.lastName'), '') || ' ' ||
        COALESCE(json_extract(data, '$.email'), '')
    ELSE '' END) AS text
FROM customers;

CREATE TRIGGER customers_terms_new AFTER INSERT ON customers
BEGIN
    INSERT INTO customer_terms(customer_id, kind, text)
    SELECT id, 0, text FROM customer_name_text WHERE id = new.id;
END;

CREATE TRIGGER customers_terms_changed AFTER UPDATE OF first_name, data ON customers
BEGIN
    DELETE FROM customer_terms WHERE customer_id = old.id AND kind = 0;
    INSERT INTO customer_terms(customer_id, kind, text)
    SELECT id, 0, text FROM customer_name_text WHERE id = new.id;
END;

CREATE TRIGGER customers_terms_gone AFTER DELETE ON customers
BEGIN
    DELETE FROM customer_terms WHERE customer_id = old.id;
END;

CREATE TRIGGER customer_identifiers_terms_new AFTER INSERT ON customer_identifiers
BEGIN
    INSERT INTO customer_terms(customer_id, kind, text)
    VALUES (new.customer_id, 1, new.identifier);
END;

CREATE TRIGGER customer_identifiers_terms_gone AFTER DELETE ON customer_identifiers
BEGIN
    DELETE FROM customer_terms WHERE id = (
        SELECT id FROM customer_terms
        WHERE customer_id = old.customer_id AND kind = 1 AND text = old.identifier LIMIT 1);
END;

CREATE TRIGGER customer_identifiers_terms_changed
AFTER UPDATE OF identifier, customer_id ON customer_identifiers
BEGIN
    DELETE FROM customer_terms WHERE id = (
        SELECT id FROM customer_terms
        WHERE customer_id = old.customer_id AND kind = 1 AND text = old.identifier LIMIT 1);
    INSERT INTO customer_terms(customer_id, kind, text)
    VALUES (new.customer_id, 1, new.identifier);
END;

-- The customers stored before.
INSERT INTO customer_terms(customer_id, kind, text) SELECT id, 0, text FROM customer_name_text;
INSERT INTO customer_terms(customer_id, kind, text)
SELECT customer_id, 1, identifier FROM customer_identifiers;
