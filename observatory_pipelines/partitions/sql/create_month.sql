-- One month, inside the transaction that already locked the parent and the default
-- partition: build the month as a standalone table, move its rows out of the default,
-- attach. Placeholders are quoted identifiers and '+00' literals filled in by manager.py;
-- statements are run one by one.
-- No indexes yet: ATTACH builds the parent's indexes in bulk, cheaper than row by row.
CREATE TABLE {new} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION);
-- Proves the bound to ATTACH so it skips scanning the new table; dropped after.
ALTER TABLE {new} ADD CONSTRAINT {bound_check} CHECK (published_at IS NOT NULL AND published_at >= '{lo}'::timestamptz AND published_at < '{hi}'::timestamptz);
-- One pass over the default: what is deleted is exactly what is inserted.
WITH moved AS (
    DELETE FROM {default}
    WHERE published_at >= '{lo}'::timestamptz AND published_at < '{hi}'::timestamptz
    RETURNING {columns}
)
INSERT INTO {new} ({columns}) SELECT {columns} FROM moved;
ALTER TABLE {parent} ATTACH PARTITION {new} FOR VALUES FROM ('{lo}') TO ('{hi}');
ALTER TABLE {new} DROP CONSTRAINT {bound_check};
