"""docs/designs.md cannot drift: its arena options are the collectors' declarations, and every
field of the format is documented."""

from __future__ import annotations

import re
from pathlib import Path

from observatory_pipelines.arenas import registry
from observatory_pipelines.designs.reference import BEGIN, END, docs_block
from observatory_pipelines.designs.schema import DesignModel

DOCS = Path(__file__).parents[2] / "docs" / "designs.md"


def test_arena_options_in_the_docs_are_generated_from_the_collectors():
    text = DOCS.read_text(encoding="utf-8")
    start, end = text.index(BEGIN), text.index(END) + len(END)
    assert text[start:end] == docs_block(), (
        "docs/designs.md's arena section differs from the collectors: replace it with the "
        "output of `python -m observatory_pipelines.designs.reference`"
    )
    # ... and that block names every arena and every option a design may write.
    block = text[start:end]
    for platform in registry.available_platforms():
        assert f"**{platform}**" in block
        for option in registry.get_collector_class(platform).option_specs:
            if option.type != "(set by collection)":
                assert f"| `{option.name}` |" in block, (platform, option.name)


def test_every_field_of_the_format_is_in_the_field_table():
    text = DOCS.read_text(encoding="utf-8")
    rows = set(re.findall(r"^\| `([a-z_]+)(?:\.from)?`", text, re.M))
    assert {field.alias or name for name, field in DesignModel.model_fields.items()} <= rows
