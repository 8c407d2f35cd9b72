DROP TABLE IF EXISTS billed_reads;
