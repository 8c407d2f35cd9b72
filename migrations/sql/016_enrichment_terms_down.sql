DROP TABLE IF EXISTS enrichment_terms;
