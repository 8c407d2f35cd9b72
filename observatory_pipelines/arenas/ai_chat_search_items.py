"""What ai_chat_search reads out of OpenRouter's answers: questions, citations, cost, records.

Kept apart from the collector (requests, budget, rotation) so the mapping can be read on
its own. Shapes follow OpenRouter's docs (chat completions, OpenAI-compatible):
``choices[0].message.content``, ``choices[0].message.annotations[]`` of type
``url_citation`` (every web-search result normalised to it, whatever the model), and
``usage`` with ``prompt_tokens``, ``completion_tokens`` and ``cost`` (US dollars billed:
tokens and web search together).
"""

from __future__ import annotations

import functools
import hashlib
import math
import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlsplit

from observatory_pipelines.arenas.base import NormalizedRecord
from observatory_pipelines.arenas.text import clean_str

MICRO_USD = Decimal(1_000_000)
# "1.", "1)", "- ", "* ", "• " in front of a proposed question, and quotes around it.
_NUMBERING = re.compile(r"^\s*(?:\d{1,2}\s*[.):-]|[-*•–])\s*")
_QUOTES = "\"'“”„«»"
PRODUCERS = {
    "openai": "OpenAI",
    "perplexity": "Perplexity",
    "anthropic": "Anthropic",
    "google": "Google",
    "x-ai": "xAI",
    "meta-llama": "Meta",
    "mistralai": "Mistral AI",
    "deepseek": "DeepSeek",
    "qwen": "Qwen",
}


def questions(content: Any, limit: int) -> list[str]:
    """The questions an expansion answer proposes, one a line, numbering stripped, at most
    ``limit``, without repeats."""
    if not isinstance(content, str):
        return []
    found: list[str] = []
    for line in content.splitlines():
        text = _NUMBERING.sub("", line).strip().strip(_QUOTES).strip()
        text = " ".join(text.split())
        if len(text) >= 3 and text not in found:
            found.append(text[:500])
        if len(found) >= limit:
            break
    return found


def message_of(body: dict[str, Any]) -> dict[str, Any] | None:
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        return None
    message = choices[0].get("message")
    return message if isinstance(message, dict) else None


def citations(body: dict[str, Any], message: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """The answer's sources, first citation first, one per URL: ``annotations`` of type
    ``url_citation`` (OpenRouter's normalised form), else ``message.citations`` objects,
    else the old top-level ``citations`` list of URLs (spec §2, checked in that order);
    and how many citations had no http(s) URL (dropped, counted as rejected)."""
    found: list[dict[str, Any]] = []
    annotations = message.get("annotations")
    if isinstance(annotations, list):
        for item in annotations:
            if isinstance(item, dict) and item.get("type") == "url_citation":
                cited = item.get("url_citation")
                if isinstance(cited, dict):
                    found.append(
                        {
                            "url": cited.get("url"),
                            "title": cited.get("title"),
                            "snippet": cited.get("content"),
                            "start_index": cited.get("start_index"),
                            "end_index": cited.get("end_index"),
                        }
                    )
    if not found and isinstance(message.get("citations"), list):
        found = [
            {"url": c.get("url"), "title": c.get("title"), "snippet": c.get("snippet")}
            for c in message["citations"]
            if isinstance(c, dict)
        ]
    if not found and isinstance(body.get("citations"), list):
        found = [{"url": url} for url in body["citations"]]
    out: list[dict[str, Any]] = []
    seen: set[str] = set()
    dropped = 0
    for cited in found:
        url = cited.get("url")
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            dropped += 1
            continue
        if url in seen:
            continue
        seen.add(url)
        out.append({k: v for k, v in cited.items() if v is not None} | {"rank": len(out) + 1})
    return out, dropped


def billed_micro_usd(body: Any) -> int | None:
    """What OpenRouter billed for one completion, in millionths of a dollar (rounded up);
    None when the reply carries no readable ``usage.cost``."""
    usage = body.get("usage") if isinstance(body, dict) else None
    cost = usage.get("cost") if isinstance(usage, dict) else None
    if isinstance(cost, bool) or not isinstance(cost, int | float | str):
        return None
    try:
        value = Decimal(str(cost))
    except InvalidOperation:
        return None
    if not value.is_finite() or value < 0:
        return None
    return math.ceil(value * MICRO_USD)


def tokens(body: Any) -> dict[str, int]:
    usage = body.get("usage") if isinstance(body, dict) else None
    if not isinstance(usage, dict):
        return {}
    return {
        name: usage[key]
        for name, key in (("prompt", "prompt_tokens"), ("completion", "completion_tokens"))
        if isinstance(usage.get(key), int)
    }


def producer(model: str) -> str:
    """``openai/gpt-5-nano`` → ``OpenAI``; an unknown maker as its id prefix."""
    maker = model.split("/", 1)[0].lower()
    return PRODUCERS.get(maker, maker)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def answer_records(
    *,
    platform: str,
    arena: str,
    term: str,
    slot: int,
    phrasing: str,
    requested_model: str,
    body: dict[str, Any],
    message: dict[str, Any],
    day: datetime,
    language: str,
    web_results: int,
) -> tuple[list[NormalizedRecord], int]:
    """One ``ai_chat_response`` record and one ``ai_chat_citation`` per cited URL, and the
    number of citations without a URL (dropped).

    The answer's id is its term, question slot, model and UTC day (the spec's phrasing
    text would change when the model words a question differently on a rerun the same day:
    one answer per term, slot, model and day, the first of the day kept); a citation's is its
    answer's and the URL. Both are dated the day (00:00 UTC): AI answers have no date of
    their own, and a rerun the same day finds the same keys.
    """
    model = body.get("model") if isinstance(body.get("model"), str) else requested_model
    cited, dropped = citations(body, message)
    answer_id = _digest(term, str(slot), requested_model, f"{day:%Y-%m-%d}")
    meta = {
        "query_phrasing": phrasing,
        "search_term_original": term,
        "question_slot": slot,
        "model_used": model,
        "model_requested": requested_model,
        "model_producer": producer(model),
        "citations": [{k: c[k] for k in ("rank", "url", "title") if k in c} for c in cited],
        "citation_count": len(cited),
        "tokens_used": tokens(body),
        "cost_usd": (body.get("usage") or {}).get("cost"),
        "temperature": 0,
        "web_search": {"tool": "openrouter:web_search", "max_results": web_results},
        "generation_id": body.get("id"),
        "finish_reason": (body.get("choices") or [{}])[0].get("finish_reason"),
    }
    record = functools.partial(
        NormalizedRecord, platform=platform, arena=arena, published_at=day, language=language
    )
    records = [
        record(
            content_type="ai_chat_response",
            platform_id=answer_id,
            title=phrasing,
            text_content=clean_str(message.get("content")),
            author_platform_id=model,
            author_display_name=producer(model),
            raw_metadata=meta,
            hash_source=answer_id,
        )
    ]
    for citation in cited:
        url = citation["url"]
        host = (urlsplit(url).hostname or "").lower()
        citation_id = _digest(answer_id, url)
        records.append(
            record(
                content_type="ai_chat_citation",
                platform_id=citation_id,
                url=url,
                title=clean_str(citation.get("title")),
                text_content=clean_str(citation.get("snippet")),
                raw_metadata={
                    "parent_response_platform_id": answer_id,
                    "citation_rank": citation["rank"],
                    "original_term": term,
                    "expanded_phrasing": phrasing,
                    "model": model,
                    "source_domain": host.removeprefix("www.") or None,
                    **{k: citation[k] for k in ("start_index", "end_index") if k in citation},
                },
                hash_source=citation_id,
            )
        )
    return records, dropped
