-- Fragment: the consumed change rows (facets_merge.sql's CTE) as _facet_fold.sql's inputs.
SELECT ch.sign, ch.platform, ch.arena, ch.collection_run_id, ch.published_at,
       ch.pseudonymized_author_id, ch.author_display_name, ch.author_id, ch.author_platform_id,
       ch.terms, ch.likes_count, ch.shares_count, ch.comments_count, ch.views_count
FROM consumed AS ch
