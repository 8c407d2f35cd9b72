-- Per connection (= per task). collection_staging is emptied by every commit, so a batch never
-- sees the last one's rows; author_id and raw_metadata arrive as text and are cast on insert.
-- id is the record's id if it is stored, made by the client: gen_random_uuid() reads
-- /dev/urandom through open/read/close for every row on this server build (≈ 10 µs a row,
-- 5 % of a plain COPY of the batch, which carries its ids). The client's ids are time-ordered
-- (UUIDv7, record_ids.py), so the id-led primary keys of content_records and of the links
-- grow at their right edge instead of at random pages.
-- collection_seen_content remembers every content hash this task has staged (server-side, so
-- Python memory stays one batch); the ingester empties it when a task starts. Its key is the
-- md5 of platform and content hash as a uuid: 16 bytes instead of a 64-character text and the
-- platform, so the index of a million-record task stays a third the size (it lives in the
-- session's temp buffers; the key is only compared for equality).
CREATE TEMP TABLE IF NOT EXISTS collection_staging (
    id uuid NOT NULL,
    published_at timestamptz NOT NULL,
    platform text NOT NULL,
    arena text NOT NULL,
    platform_id text,
    content_type text NOT NULL,
    url text,
    text_content text,
    title text,
    language text,
    collected_at timestamptz NOT NULL,
    author_platform_id text,
    author_display_name text,
    author_id text,
    pseudonymized_author_id text,
    views_count bigint,
    likes_count bigint,
    shares_count bigint,
    comments_count bigint,
    search_terms_matched text[],
    raw_metadata text NOT NULL,
    media_urls text[],
    content_hash text,
    undated boolean NOT NULL
) ON COMMIT DELETE ROWS;

CREATE TEMP TABLE IF NOT EXISTS collection_seen_content (
    content_key uuid PRIMARY KEY
);

TRUNCATE collection_seen_content;
