"""``observatory suggest-terms``: the emergent-terms suggestions of a design, through the real
console script against the real database (the corpus of test_emergent_terms: brintfabrik and
co2-afgift planted in week 12, klima a search term of the design)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import yaml

from observatory_pipelines.cli.suggest_cmd import design_file_entry
from tests.research.test_emergent_terms import WEEK, _plant

ENTRY_POINT = Path(sys.executable).with_name("observatory")


def observatory(database_url: str, *argv: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "DATABASE_URL": database_url}
    return subprocess.run(
        [str(ENTRY_POINT), *argv], capture_output=True, text=True, env=env, timeout=300
    )


def test_suggestions_name_the_planted_terms_as_design_file_lines(corpus, conn, database_url):
    _plant(corpus, conn, database_url)
    done = observatory(database_url, "suggest-terms", "Klima")
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "Klima: 10 records in the scope, by ISO week"
    header = next(i for i, line in enumerate(lines) if line.startswith("term"))
    assert lines[header].split() == ["term", "new", "in", "rank", "records", "occurrences", "G²"]
    assert lines[header + 1].split() == ["brintfabrik", "2026-W12", "1", "4", "4", "7.7552"]
    assert lines[header + 2].split() == ["co2-afgift", "2026-W12", "2", "3", "3", "5.8164"]
    assert lines[-3:] == [
        "to collect them, add to the design file's terms:",
        "  - brintfabrik",
        "  - co2-afgift",
    ]
    assert "klima" not in done.stdout  # the design's own search term


def test_json_output_and_records_the_enrichment_has_not_reached(corpus, conn, database_url):
    _plant(corpus, conn, database_url)
    corpus.add(3 * WEEK, text="Solceller solceller")  # not enriched yet
    done = observatory(database_url, "suggest-terms", corpus.design, "--json", "--limit", "1")
    assert done.returncode == 0, done.stderr
    payload = json.loads(done.stdout)
    assert payload["query_design_id"] == corpus.design and payload["period"] == "week"
    assert (payload["records"], payload["records_without_terms"]) == (11, 1)
    assert [s["term"] for s in payload["suggestions"]] == ["brintfabrik"]
    text = observatory(database_url, "suggest-terms", "Klima").stdout
    assert "1 of them have no stored terms yet: materialize the record_terms enrichment" in text


def test_a_filtered_scope_and_bad_input(corpus, conn, database_url):
    _plant(corpus, conn, database_url)
    reddit = observatory(database_url, "suggest-terms", "Klima", "--platform", "reddit", "--json")
    assert reddit.returncode == 0, reddit.stderr
    payload = json.loads(reddit.stdout)
    assert payload["records"] == 1 and payload["suggestions"] == []  # min_docs 3 not reached
    text = observatory(database_url, "suggest-terms", "Klima", "--platform", "reddit").stdout
    assert "no new terms to suggest" in text

    limit = observatory(database_url, "suggest-terms", "Klima", "--limit", "0")
    assert (limit.returncode, limit.stderr.strip()) == (
        1,
        "observatory: error: --limit must be between 1 and 100, got 0",
    )
    unknown = observatory(database_url, "suggest-terms", "Ingen")
    assert unknown.returncode == 3 and "no query design with id or name 'Ingen'" in unknown.stderr
    dates = observatory(database_url, "suggest-terms", "Klima", "--from", "2026-04-01",
                        "--to", "2026-03-01")  # fmt: skip
    assert dates.returncode == 1 and "date_to must not be before date_from" in dates.stderr


def test_design_file_entries_read_back_as_the_terms():
    entries = ["brintfabrik", "grøn omstilling", "co2-afgift", "#dkpol", "ja: nej", "-x", "1.5"]
    lines = [design_file_entry(term) for term in entries]
    assert lines[:3] == [
        "  - brintfabrik",
        "  - {term: grøn omstilling, type: phrase}",
        "  - co2-afgift",
    ]
    parsed = yaml.safe_load("terms:\n" + "\n".join(lines))["terms"]
    assert [t["term"] if isinstance(t, dict) else t for t in parsed] == entries
