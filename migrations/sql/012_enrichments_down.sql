DROP TABLE IF EXISTS enrichment_near_dup_buckets;
DROP TABLE IF EXISTS enrichment_near_dup;
DROP VIEW IF EXISTS enrichment_engagement_pct;
DROP TABLE IF EXISTS enrichment_engagement;
DROP TABLE IF EXISTS enrichment_tags;
DROP TABLE IF EXISTS enrichment_urls;
DROP TABLE IF EXISTS enrichment_url_records;
DROP TABLE IF EXISTS enrichment_versions;
