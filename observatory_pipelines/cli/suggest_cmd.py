"""``observatory suggest-terms``: the newest emerging terms of a design, as search terms to add.

Computed on the spot by the emergent-terms analysis (``research.suggestions``) over the
design's records in the scope given, from the n-grams the ``record_terms`` enrichment
stored; the design's own search terms are never suggested. The design files stay the
researcher's: the command prints the lines to add to the file's ``terms:`` list and
changes nothing.
"""

from __future__ import annotations

import argparse
import json
import re

from observatory_pipelines.analysis.scope import AnalysisScope, check_scope
from observatory_pipelines.cli import database
from observatory_pipelines.cli.errors import CliError
from observatory_pipelines.cli.output import print_json, print_lines, table
from observatory_pipelines.commands import Subcommands
from observatory_pipelines.db.engine import connect
from observatory_pipelines.research.suggestions import suggest_terms

COLUMNS = (
    ("term", "term"),
    ("period", "new in"),
    ("rank", "rank"),
    ("doc_freq", "records"),
    ("freq", "occurrences"),
    ("keyness_g2", "G²"),
)
PLAIN_TERM = re.compile(r"[^\W\d_][\w-]*( [^\W\d_][\w-]*)?")


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "suggest-terms",
        help="new terms rising in a design's records, to add as search terms",
        description="The terms new to the emergent-terms ranking in the latest calendar "
        "slices (ISO weeks, or months with RESEARCH_PERIOD=month) of one query design's "
        "records, newest first, as lines for the design file's terms: list. Nothing is "
        "changed; docs/analysis.md (emergent terms) explains the ranking.",
    )
    parser.add_argument("design", metavar="DESIGN", help="the query design's name or id")
    parser.add_argument("--limit", type=int, default=10, help="most terms shown (default 10)")
    parser.add_argument("--platform", action="append", help="only this platform (repeatable)")
    parser.add_argument("--from", dest="date_from", metavar="DATE", help="records from DATE")
    parser.add_argument("--to", dest="date_to", metavar="DATE", help="records up to DATE")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(handler=suggest_command)


def design_file_entry(term: str) -> str:
    """One entry of a design file's ``terms:`` list; quoted unless it is plain words."""
    text = term if PLAIN_TERM.fullmatch(term) else json.dumps(term, ensure_ascii=False)
    return f"  - {{term: {text}, type: phrase}}" if " " in term else f"  - {text}"


def suggest_command(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= 100:
        raise CliError(f"--limit must be between 1 and 100, got {args.limit}")
    engine = database.engine()
    design = database.find_design(engine, args.design)
    scope = AnalysisScope(
        query_design_id=str(design["id"]),
        platforms=args.platform,
        date_from=args.date_from,
        date_to=args.date_to,
    )
    # A refused scope or parameter (ValueError) is main.run_handler's: one line, exit 1.
    with connect(database.database_url()) as conn:
        found = suggest_terms(conn, check_scope(conn, scope), args.limit)
    if args.json:
        print_json({
            "design": design["name"],
            "query_design_id": design["id"],
            "period": found.period,
            "records": found.records,
            "records_without_terms": found.records_without_terms,
            "suggestions": found.terms,
        })  # fmt: skip
        return 0
    lines = [f"{design['name']}: {found.records:,} records in the scope, by ISO {found.period}"]
    if found.records_without_terms:
        lines.append(
            f"  {found.records_without_terms:,} of them have no stored terms yet: materialize "
            "the record_terms enrichment (Dagster UI, group enrichments) to include them"
        )
    if not found.terms:
        lines.append("no new terms to suggest (too few records per slice, or none new)")
        print_lines(lines)
        return 0
    lines += [
        "",
        *table(found.terms, COLUMNS),
        "",
        "to collect them, add to the design file's terms:",
    ]
    lines += [design_file_entry(row["term"]) for row in found.terms]
    print_lines(lines)
    return 0
