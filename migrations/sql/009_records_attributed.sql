-- records_attributed: the records a task (or run) linked to its design that the design did not
-- have before (content_record_collections rows it created), beside records_collected (new rows
-- stored). A design that collects records another design stored first gains them although it
-- stores no row; the run must say so.
ALTER TABLE collection_tasks ADD COLUMN records_attributed integer NOT NULL DEFAULT 0;

ALTER TABLE collection_runs ADD COLUMN records_attributed integer NOT NULL DEFAULT 0;

-- Before per-design attribution (migration 008) a task's records were exactly the rows it
-- stored, and 008 linked each of them to its design: what it gained = what it stored. A run's
-- records_collected is already the sum of its tasks' (migration 006, run_totals.sql), so its
-- records_attributed is too.
UPDATE collection_tasks SET records_attributed = records_collected;

UPDATE collection_runs SET records_attributed = records_collected;
