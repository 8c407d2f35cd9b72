ALTER TABLE analysis_facets RESET (fillfactor);
