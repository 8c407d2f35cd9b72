-- Export columns for COPY ... (FORMAT csv, FORCE_QUOTE (<text columns>)): Postgres quotes the
-- text (RFC 4180), the formula rule is applied here, lists joined with ' | ', UTC times.
-- The reader adds the BOM and header and turns the row-ending LFs into CRLF.
SELECT {{ csv_text('query_design') }} AS query_design,
       {{ csv_text('platform') }} AS platform,
       {{ csv_text('arena') }} AS arena,
       {{ csv_text('content_type') }} AS content_type,
       {{ csv_text('title') }} AS title,
       {{ csv_text('text_content') }} AS text_content,
       {{ csv_text('url') }} AS url,
       {{ csv_text('author_display_name') }} AS author_display_name,
       {{ csv_text('pseudonymized_author_id') }} AS pseudonymized_author_id,
       r.published_at AT TIME ZONE 'UTC' AS published_at,
       r.views, r.likes, r.shares, r.comments, r.engagement_score,
       {{ csv_text('language') }} AS language,
       {{ csv_text('collection_tier') }} AS collection_tier,
       {{ csv_text('search_terms_joined') }} AS search_terms_matched,
       {{ csv_text('content_hash') }} AS content_hash
FROM (SELECT x.*, array_to_string(x.search_terms_matched, ' | ') AS search_terms_joined
      FROM ({{ export_rows }}) AS x) AS r
