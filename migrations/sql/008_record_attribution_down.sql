-- Back to one design per record (content_records.query_design_id); other designs' links are lost.
DROP TABLE IF EXISTS content_record_collections;
