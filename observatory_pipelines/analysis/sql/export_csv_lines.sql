-- One finished CSV line per record (RFC 4180 quoting, formula-looking text quoted with a
-- leading ', lists joined with ' | ', UTC times, ending in CRLF).
-- Streamed as they are with COPY ... (FORMAT binary): the reader only drops the framing.
SELECT concat_ws(',',
    {{ csv_text('query_design') }},
    {{ csv_text('platform') }},
    {{ csv_text('arena') }},
    {{ csv_text('content_type') }},
    {{ csv_text('title') }},
    {{ csv_text('text_content') }},
    {{ csv_text('url') }},
    {{ csv_text('author_display_name') }},
    {{ csv_text('pseudonymized_author_id') }},
    coalesce(CAST(r.published_at AT TIME ZONE 'UTC' AS text), ''),
    coalesce(CAST(r.views AS text), ''),
    coalesce(CAST(r.likes AS text), ''),
    coalesce(CAST(r.shares AS text), ''),
    coalesce(CAST(r.comments AS text), ''),
    coalesce(CAST(r.engagement_score AS text), ''),
    {{ csv_text('language') }},
    {{ csv_text('collection_tier') }},
    {{ csv_text('search_terms_joined') }},
    {{ csv_text('content_hash') }}
) || chr(13) || chr(10) AS line
FROM (SELECT x.*, array_to_string(x.search_terms_matched, ' | ') AS search_terms_joined
      FROM ({{ export_rows }}) AS x) AS r
