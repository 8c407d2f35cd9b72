DROP TRIGGER IF EXISTS enrichment_records_truncated ON content_records;
DROP TRIGGER IF EXISTS enrichment_records_deleted ON content_records;
DROP TRIGGER IF EXISTS enrichment_records_inserted ON content_records;
DROP FUNCTION IF EXISTS enrichment_records_truncated();
DROP FUNCTION IF EXISTS enrichment_records_changed();
DROP TABLE IF EXISTS enrichment_changes;
DROP INDEX IF EXISTS idx_enrichment_near_dup_buckets_record;
ALTER TABLE enrichment_versions
    DROP COLUMN IF EXISTS enriched_records,
    DROP COLUMN IF EXISTS swept_partitions;
