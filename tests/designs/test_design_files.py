"""Design files: every bad input is refused with file:line:column and the field, from the
schema and from the collectors' own option declarations; the example file validates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from observatory_pipelines.arenas import registry
from observatory_pipelines.designs.files import DesignFileInvalid, read_file
from observatory_pipelines.designs.schema import validate
from observatory_pipelines.designs.sync import check_files

from .conftest import design_yaml, write

EXAMPLES = Path(__file__).parents[2] / "observatory_pipelines" / "designs" / "examples"


def errors_of(path: Path) -> list[str]:
    with pytest.raises(DesignFileInvalid) as info:
        validate(read_file(path))
    return [str(e) for e in info.value.errors]


# (what is wrong, the YAML that replaces one block, line:column and field of the one error,
#  words of its message). Blocks are in the order name, owner, mode, window, terms, arenas.
BAD = [
    ("unknown arena", {"arenas": "arenas:\n  rss_feeds: {}\n  myspace: {}"},
     "12:3: arenas.myspace", "unknown arena 'myspace'"),
    ("impossible date", {"window": "window:\n  from: 2026-02-30\n  to: 2026-03-07"},
     "5:3: window.from", "not a date"),
    ("from after to", {"window": "window:\n  from: 2026-03-09\n  to: 2026-03-07"},
     "6:3: window.to", "before window.from 2026-03-09"),
    ("batch without an end", {"window": "window:\n  from: 2026-03-01"},
     "4:1: window.to", "a batch design needs window.to"),
    ("empty term list", {"terms": "terms: []"},
     "7:1: terms", "at least one search term"),
    ("AND-group of one", {"terms": "terms:\n  - all: [trump]"},
     "8:5: terms[0].all", "at least two terms"),
    ("unknown term type", {"terms": "terms:\n  - {term: x, type: regex}"},
     "8:15: terms[0].type", "'keyword', 'phrase' or 'hashtag'"),
    ("option the arena does not take", {"arenas": "arenas:\n  gdelt:\n    subreddits: [x]"},
     "12:5: arenas.gdelt.subreddits", "unknown option(s) subreddits (accepted:"),
    ("a host in a design", {"arenas": "arenas:\n  bluesky:\n    base_url: http://evil"},
     "12:5: arenas.bluesky.base_url", "cannot choose the host"),
    ("an import path outside FILE_IMPORT_DIR",
     {"arenas": "arenas:\n  file_import:\n    path: ../../etc/passwd"},
     "12:5: arenas.file_import.path", "outside the import folder"),
    ("option of the wrong type", {"arenas": "arenas:\n  gdelt:\n    maxrecords: many"},
     "12:5: arenas.gdelt.maxrecords", "must be of type int"),
    ("a tier the arena does not offer", {"arenas": "arenas:\n  reddit: {tier: premium}"},
     "11:12: arenas.reddit.tier", "offers the tier(s) free, medium, not premium"),
    ("unknown field", {"mode": "mode: batch\ncolour: red"},
     "4:1: colour", "not a field here"),
    ("unknown mode", {"mode": "mode: sometimes"},
     "3:1: mode", "'batch' or 'live'"),
    ("key written twice", {"mode": "mode: batch\nmode: live"},
     "4:1: mode", "written twice"),
    ("no owner", {"owner": ""}, "1:1: owner", "required"),
    ("empty owner", {"owner": "owner:"}, "2:1: owner", "empty: a value is required"),
    ("live design with an end", {"mode": "mode: live"},
     "6:3: window.to", "a live design runs every day"),
    ("unknown platform of an actor", {"arenas": "arenas:\n  rss_feeds: {}\nactor_lists:\n"
     "  - name: P\n    actors:\n      - name: S\n        platforms: {myspace: s}"},
     "16:21: actor_lists[0].actors[0].platforms.myspace", "unknown arena"),
    ("YAML that does not parse", {"terms": "terms: [grønland"},
     "8:7: (yaml)", "expected ',' or ']'"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "blocks", "where", "words"), BAD, ids=[b[0] for b in BAD])
def test_bad_input_is_refused_with_file_line_column_and_field(tmp_path, case, blocks, where, words):
    path = write(tmp_path, "design.yaml", design_yaml(**blocks))
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:{where}: "), error
    assert words in error


def test_every_error_of_a_file_is_reported_at_once(tmp_path):
    path = write(
        tmp_path,
        "design.yaml",
        design_yaml(
            window="window:\n  from: 2026-13-01\n  to: 2026-03-07",
            arenas="arenas:\n  twitter: {}\n  gdelt: {foo: 1}",
        ),
    )
    errors = errors_of(path)
    assert [e.split(": ")[0].removeprefix(f"{path}:") for e in errors] == [
        "5:3", "11:3", "12:11",
    ]  # fmt: skip


# Options whose values are checked as what they name (no default to borrow).
SAMPLE_VALUES = {
    "path": "''",  # file_import: a prefix below FILE_IMPORT_DIR ('' = all of it)
    "telegram.path": "mtproto",  # telegram: auto | preview | mtproto
    "instances": "[mastodon.social]",  # Mastodon host names
    "custom_channels": "[eksempel_kanal]",  # Telegram usernames
    "custom_channel_ids": "['1201234567890123456']",  # Discord snowflakes
    "publisher_ids": "['501']",  # Via Ritzau publisher ids (numbers)
    "domains": "[dr.dk]",  # web archives: public host names
    "url_prefixes": "['https://www.dr.dk/nyheder/']",
    "crawls": "[CC-MAIN-2026-10]",  # Common Crawl crawl ids
    "languages": "[da]",  # language codes
    "seed_articles": "['Folketingsvalget 2026']",
    "urls": "['https://www.dr.dk/nyheder/indland/x']",  # url_scraper: public page URLs
    "model": "openai/gpt-5-nano",  # ai_chat_search: one of the operator's AI_CHAT_SEARCH_MODELS
}


def test_the_options_every_arena_takes_are_its_own_declaration(tmp_path):
    # Every declared option of every arena is accepted (one place per rule: the collector).
    for platform in registry.available_platforms():
        cls = registry.get_collector_class(platform)
        for option in cls.option_specs:
            if option.name == "files":  # opened by collection; a design may not write it
                continue
            # The declared default is a value the arena takes by definition; options without
            # one get a plain sample of their type.
            if option.default not in (None, [], ()):
                value = json.dumps(option.default)
            else:
                value = {"bool": "true", "int": "5", "list of ints": "[5]"}.get(
                    option.type, "[x]" if "list" in option.type else "'imports/x/'"
                )
            value = SAMPLE_VALUES.get(
                f"{platform}.{option.name}", SAMPLE_VALUES.get(option.name, value)
            )
            tier = cls.supported_tiers[0]
            path = write(
                tmp_path,
                f"{platform}-{option.name}.yaml",
                design_yaml(arenas=f"arenas:\n  {platform}:\n    tier: {tier}\n"
                            f"    {option.name}: {value}"),
            )  # fmt: skip
            validate(read_file(path))


def test_terms_keep_their_types_and_and_groups(tmp_path):
    path = write(
        tmp_path,
        "design.yaml",
        design_yaml(
            terms="terms:\n  - grønland\n  - '#dkpol'\n  - Mette Frederiksen\n  - 2026\n"
            "  - no\n  - {term: EU, type: keyword}\n  - all: [trump, {term: køb, type: phrase}]"
        ),
    )
    doc = validate(read_file(path))
    assert [(t.term, t.term_type, t.group) for t in doc.terms] == [
        ("grønland", "keyword", None),
        ("#dkpol", "hashtag", None),
        ("Mette Frederiksen", "phrase", None),
        ("2026", "keyword", None),  # a bare number is a term, not a number
        ("no", "keyword", None),  # YAML 1.1 would have made this False
        ("EU", "keyword", None),
        ("trump", "keyword", 1),
        ("køb", "phrase", 1),
    ]
    assert doc.arenas_config() == {
        "mode": "batch", "tier": "free", "date_from": "2026-03-01", "date_to": "2026-03-07",
        "arenas": {"rss_feeds": {"outlets": ["dr"]}},
    }  # fmt: skip


def test_two_files_with_one_name_are_both_refused(tmp_path):
    first = write(tmp_path, "a.yaml", design_yaml(name="Valg"))
    second = write(tmp_path, "b.yaml", design_yaml(name="valg"))  # names are case-insensitive
    other = write(tmp_path, "c.yaml", design_yaml(name="Andet"))
    docs, errors = check_files([first, second, other])
    assert [d.name for d in docs] == ["Andet"]
    assert sorted(str(e).split(": ")[0] for e in errors) == [f"{first}:1:1", f"{second}:1:1"]
    assert all("one design, one file" in str(e) for e in errors)


def test_the_shipped_example_validates():
    examples = sorted(EXAMPLES.glob("*.yaml"))
    assert examples
    for path in examples:
        doc = validate(read_file(path))
        assert doc.terms and doc.arenas


@pytest.mark.parametrize("body", ["", "- a list\n- of terms\n", "just text\n"])
def test_a_file_that_is_not_a_mapping_says_what_a_design_is(tmp_path, body):
    path = tmp_path / "design.yaml"
    path.write_text(body)
    (error,) = errors_of(path)
    assert error.startswith(f"{path}:1:1: (design): a design file is a mapping of fields (name,")
