-- The (id, published_at) of every record erased in this transaction, with the partition it was
-- in and the design that stored it first: the links and the affected designs are found from it.
CREATE TEMP TABLE erased_records (
    partition text NOT NULL,
    id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    query_design_id uuid
) ON COMMIT DROP;
