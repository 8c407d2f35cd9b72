-- A little of everything a dump must carry: several tables, every content_records
-- partition, NULLs, arrays, jsonb, newlines, tabs, backslashes and Danish letters.
INSERT INTO users (id, email, display_name, role, is_active, metadata)
VALUES ('00000000-0000-0000-0000-000000000001', 'anna@example.dk', 'Anna Æbelø', 'admin', true,
        '{"note": "første linje\nanden linje"}'),
       ('00000000-0000-0000-0000-000000000002', 'bo@example.dk', NULL, 'researcher', false, '{}');

INSERT INTO query_designs (id, owner_id, name, description)
VALUES ('00000000-0000-0000-0000-00000000000a', '00000000-0000-0000-0000-000000000001',
        'Grøn omstilling', E'tab\there, backslash \\ and quote '' here');

INSERT INTO content_records (published_at, platform, arena, platform_id, content_type, url,
                             text_content, title, language, collection_tier, raw_metadata,
                             search_terms_matched, media_urls, views_count, engagement_score,
                             query_design_id)
SELECT ts, 'rss', 'news_media', 'item-' || n, 'article', 'https://example.dk/' || n,
       'Tekst nr. ' || n || E'\nmed æøå og \\ og \t tab', CASE WHEN n % 3 = 0 THEN NULL ELSE 'Titel ' || n END,
       'da', 'free', jsonb_build_object('n', n, 'tags', jsonb_build_array('a', 'b')),
       ARRAY['klima', 'grøn'], CASE WHEN n % 2 = 0 THEN ARRAY['https://img.example.dk/' || n] END,
       n * 10, n / 7.0, '00000000-0000-0000-0000-00000000000a'
FROM generate_series(1, 120) AS n,
     LATERAL (SELECT (ARRAY[timestamptz '2026-02-10 12:00+00', '2026-03-15 08:30+00',
                            '2026-04-01 00:00+00', '2031-01-01 00:00+00'])[1 + n % 4] AS ts) AS t;
