"""One research asset materialized for a corpus' design and for an empty design."""

from __future__ import annotations

import json
from typing import Any

from tests.research.conftest import materialize_research, metadata


def run_with_empty(name: str, corpus, postgres, store) -> tuple[dict[str, Any], dict, str]:
    """(the asset's metadata for the corpus' design, the stored result.json of a new empty
    design, that design's id); both runs must succeed."""
    empty = corpus.new_design("Empty")
    result = materialize_research([name], corpus.design, postgres, store)
    nothing = materialize_research([name], empty, postgres, store)
    assert result.success and nothing.success
    key = f"analysis/{empty}/standard/research/{name}/result.json"
    return metadata(result, name), json.loads(store.outputs().get_bytes(key)), empty
