"""Research analyses over a query design's records and their enrichments (issue 19)."""
