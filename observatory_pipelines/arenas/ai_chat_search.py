"""AI chat search through OpenRouter: which sources AI answer engines cite for Danish issues.

Two steps per term group (its terms joined by spaces, spec §2):

1. *expansion*: one chat completion asks the model for N questions a Dane would ask an AI
   chatbot about the term, one a line (N = ``questions_per_term``: 5 medium, 10 premium);
2. *answers*: each question is asked with OpenRouter's ``openrouter:web_search`` server tool,
   and the answer is stored with its citations.

``POST {OPENROUTER_API_URL}/chat/completions`` (``Authorization: Bearer``), OpenAI-compatible
JSON, ``temperature: 0``, ``max_tokens`` bounded. DISAGREE: the spec (and the original)
turned web search on with the ``:online`` model suffix (the web plugin); OpenRouter's docs now
call the plugin deprecated and point to the ``openrouter:web_search`` server tool in the
``tools`` array, which this collector sends (``max_results`` = ``web_results``). Citations
are read as the docs normalise them (``message.annotations[]`` of type ``url_citation``),
with the spec's older forms as fallbacks (``ai_chat_search_items.citations``).

Records: one ``ai_chat_response`` per question (text, model, term, citations in
raw_metadata) and one ``ai_chat_citation`` per cited URL (url, title, snippet, rank), so
``record_urls`` finds each cited page as the citation's own URL; dated the UTC day.

Cost: OpenRouter bills dollars (tokens at the model's price plus the web search), and every
reply carries what it billed in ``usage.cost``. One unit is a millionth of a dollar of that
(costs.py: 15,000 a credit), so settlement charges what OpenRouter charged, whatever the
model. The estimate is calls x the operator's per-call ceiling
(``AI_CHAT_SEARCH_MAX_USD_PER_CALL``): terms x (1 expansion + N answers); the collector
stops before a call that could overrun it. A reply without a readable ``usage.cost`` is
charged the ceiling (what the call was allowed to cost). Tokens are counted as well
(``rate_limit_state.tokens``). Models: the operator's allow-list ``AI_CHAT_SEARCH_MODELS``
(the first is the default); a design may choose another listed one, never an unlisted one.

Errors (OpenRouter's docs): 401 → the key is flagged; 402 (no credits on the account or the
key's limit spent) → the key is exhausted and the pool rotates (questions and answers already
paid for are kept in ``rate_limit_state`` and not asked again); 429 waits for Retry-After and
retries, and a rate limit that persists stops the arena with what it has; 403 is a
moderation flag on the input (DISAGREE: the original took it for an auth failure), so that
question is skipped and the key is not blamed; 408, 400, 5xx after retries and a reply that
is not a completion skip the question; a question that failed is skipped by name.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from observatory_pipelines import settings
from observatory_pipelines.arenas import ai_chat_search_items as items
from observatory_pipelines.arenas.base import (
    ArenaAuthError,
    ArenaError,
    ArenaOption,
    ArenaOptionError,
    ArenaQuotaExceeded,
    CollectionRequest,
    Collector,
    HealthStatus,
    Page,
    SkippedSource,
    SourceFailed,
)
from observatory_pipelines.arenas.http import ArenaHttpClient, describe, error_detail, json_body
from observatory_pipelines.arenas.matching import term_groups
from observatory_pipelines.arenas.registry import register
from observatory_pipelines.arenas.support import SourceTally, failed_source, record_cap, require
from observatory_pipelines.arenas.text import clamp_record

DEFAULT_BASE_URL = "https://openrouter.ai/api/v1"
QUESTIONS = {"medium": 5, "premium": 10}
MAX_QUESTIONS = 20
DEFAULT_MAX_TOKENS = 2_000
DEFAULT_WEB_RESULTS = 5

PROMPTS = {
    "da": {
        "expand": (
            "Du hjælper forskere med at forstå, hvordan danskere søger information hos "
            "AI-chatbots. Skriv {n} realistiske spørgsmål på dansk, som en dansker kunne stille "
            "en AI-chatbot om emnet. Skriv ét spørgsmål pr. linje, uden nummerering og uden "
            "anden tekst."
        ),
        "answer": "Besvar spørgsmålet på dansk. Henvis til dine kilder.",
    },
    "en": {
        "expand": (
            "You help researchers understand how people in Denmark look for information from "
            "AI chatbots. Write {n} realistic questions a Dane could ask an AI chatbot about "
            "the topic. One question per line, no numbering, no other text."
        ),
        "answer": "Answer the question in English. Cite your sources.",
    },
}


class StopCollecting(ArenaError):
    """OpenRouter keeps rate limiting, or the run's estimate is spent: stop with what we have."""


@register
class AiChatSearchCollector(Collector):
    platform = "ai_chat_search"
    arena = "search"
    supported_tiers = ("medium", "premium")
    needs_credentials = True
    credential_fields = ("api_key",)
    max_records_per_run = 500
    tier_caps = {"medium": 500, "premium": 1_000}  # the original's run caps (records)
    min_request_interval = 1.0  # well under the lowest documented limit (20 requests/min, :free)
    host_setting = "OPENROUTER_API_URL"
    quota = (
        "OpenRouter bills dollars per call (tokens + web search; usage.cost): 1 unit = "
        "$0.000001, 15,000 a credit; estimate = terms x (1 + questions) x "
        "AI_CHAT_SEARCH_MAX_USD_PER_CALL; the key's own credit limit answers 402"
    )
    option_specs = (
        ArenaOption(
            "questions_per_term",
            "int",
            None,
            f"questions the model proposes per term group (default {QUESTIONS['medium']} on "
            f"medium, {QUESTIONS['premium']} on premium; at most {MAX_QUESTIONS})",
        ),
        ArenaOption(
            "model",
            "string",
            None,
            "OpenRouter model id, one of the operator's AI_CHAT_SEARCH_MODELS "
            "(default: the first listed)",
        ),
        ArenaOption(
            "max_tokens",
            "int",
            DEFAULT_MAX_TOKENS,
            "completion tokens a call may use (reasoning included)",
        ),
        ArenaOption(
            "web_results",
            "int",
            DEFAULT_WEB_RESULTS,
            "web search results per search (openrouter:web_search max_results, 1-10)",
        ),
    )

    @classmethod
    def check_options(cls, options: Any) -> None:
        super().check_options(options)
        cls.check_counts(options, "questions_per_term", "max_tokens", "web_results")
        questions = options.get("questions_per_term")
        if questions is not None and questions > MAX_QUESTIONS:
            raise ArenaOptionError(
                f"arenas.ai_chat_search.questions_per_term must be at most {MAX_QUESTIONS}, "
                f"got {questions}"
            )
        results = options.get("web_results")
        if results is not None and results > 10:
            raise ArenaOptionError(
                f"arenas.ai_chat_search.web_results must be at most 10, got {results}"
            )
        model = options.get("model")
        allowed = settings.ai_chat_search_models()
        if model is not None and model not in allowed:
            raise ArenaOptionError(
                f"arenas.ai_chat_search.model {model!r} is not one the operator allows "
                f"(AI_CHAT_SEARCH_MODELS: {', '.join(allowed)})"
            )

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        base = (settings.openrouter_api_url() or DEFAULT_BASE_URL).rstrip("/")
        self.completions_url = f"{base}/chat/completions"
        self.key_url = f"{base}/key"
        # Answers with a web search take long; the spec's 30 s (medium) cut real answers off.
        self.http = ArenaHttpClient(
            self.rate_limit_state, timeout=60.0, min_interval=self.min_request_interval
        )

    def close(self) -> None:
        self.http.close()

    # -- cost ---------------------------------------------------------------------------

    @staticmethod
    def ceiling_units() -> int:
        """The per-call ceiling in units (millionths of a dollar)."""
        return math.ceil(settings.ai_chat_search_max_usd_per_call() * 1_000_000)

    @staticmethod
    def _topics(request: CollectionRequest) -> list[str]:
        groups = [" ".join(" ".join(t.term.split()) for t in g) for g in term_groups(request.terms)]
        return [g for g in dict.fromkeys(groups) if g]

    @staticmethod
    def _questions_per_term(request: CollectionRequest) -> int:
        value = (request.options or {}).get("questions_per_term")
        return int(value) if value else QUESTIONS.get(request.tier, QUESTIONS["medium"])

    def estimate_units(self, request: CollectionRequest) -> int:
        if request.tier not in QUESTIONS:  # no free tier: the task is refused, costs nothing
            return 0
        calls = len(self._topics(request)) * (1 + self._questions_per_term(request))
        return calls * self.ceiling_units()

    # -- requests -----------------------------------------------------------------------

    def health_check(self) -> HealthStatus:
        try:
            (key,) = require(self.credentials, "api_key", platform=self.platform)
            response = self.http.get(self.key_url, headers={"Authorization": f"Bearer {key}"})
            self._raise_for_status(response, "key")
        except ArenaError as exc:
            return HealthStatus(ok=False, detail=str(exc))
        return HealthStatus(ok=True, detail="key accepted")

    def _raise_for_status(self, response: Any, what: str) -> None:
        status = response.status_code
        if status < 400:
            return
        message = (
            f"ai_chat_search {what}: HTTP {status} from "
            f"{describe(str(response.request.url))}{error_detail(response)}"
        )
        if "html" in response.headers.get("content-type", "") and not error_detail(response):
            message += " (an HTML page where JSON was expected)"
        if status == 401:
            raise ArenaAuthError(message)
        if status == 402:  # the account or the key's credit limit is spent
            raise ArenaQuotaExceeded(message)
        if status == 403:
            raise SourceFailed(f"{message} (OpenRouter's moderation flagged the input)")
        raise SourceFailed(message, "http_error")

    def _chat(
        self, what: str, model: str, messages: list[dict], request: CollectionRequest, web: bool
    ) -> dict[str, Any]:
        """One chat completion; its cost is counted whatever became of the answer."""
        if self._spent() + self.ceiling_units() > self.estimate_units(request):
            raise StopCollecting(
                f"ai_chat_search: the run's estimate ({self.estimate_units(request)} units) "
                "would be overrun by the next call; collection stopped with what it had"
            )
        (key,) = require(self.credentials, "api_key", platform=self.platform)
        options = request.options or {}
        payload: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "temperature": 0,
            "max_tokens": int(options.get("max_tokens") or DEFAULT_MAX_TOKENS),
        }
        if web:
            results = int(options.get("web_results") or DEFAULT_WEB_RESULTS)
            payload["tools"] = [
                {
                    "type": "openrouter:web_search",
                    "parameters": {"max_results": results, "max_total_results": results},
                }
            ]
        try:
            response = self.http.post(
                self.completions_url, json=payload, headers={"Authorization": f"Bearer {key}"}
            )
        except SourceFailed as exc:
            if exc.reason == "rate_limited":
                raise StopCollecting(f"ai_chat_search {what}: {exc}") from None
            raise SourceFailed(f"ai_chat_search {what}: {exc}", exc.reason) from None
        self._raise_for_status(response, what)
        try:
            body = json_body(response, f"ai_chat_search {what}")
        except ArenaError as exc:
            self._count(None)  # answered 200: billed, but what it cost cannot be read
            raise SourceFailed(str(exc), "unparseable") from None
        self._count(body)
        if not isinstance(body, dict):
            raise SourceFailed(
                f"ai_chat_search {what}: reply from {describe(self.completions_url)} is not "
                "an object",
                "unparseable",
            )
        if isinstance(body.get("error"), dict):  # failed after generation began: a 200
            detail = str(body["error"].get("message") or body["error"].get("code"))[:200]
            raise SourceFailed(f"ai_chat_search {what}: OpenRouter error in the reply: {detail}")
        return body

    def _spent(self) -> int:
        return int(self.rate_limit_state.get("units_before_rotation", 0)) + self.units_spent

    def _count(self, body: Any) -> None:
        billed = items.billed_micro_usd(body)
        if billed is None:
            billed = self.ceiling_units()
            self.rate_limit_state["calls_without_cost"] = (
                int(self.rate_limit_state.get("calls_without_cost", 0)) + 1
            )
        self.units_spent += billed
        counted = self.rate_limit_state.setdefault("tokens", {"prompt": 0, "completion": 0})
        for name, value in items.tokens(body).items():
            counted[name] = int(counted.get(name, 0)) + value
        self.rate_limit_state["calls"] = int(self.rate_limit_state.get("calls", 0)) + 1

    # -- collection ---------------------------------------------------------------------

    def _model(self, request: CollectionRequest) -> str:
        return (request.options or {}).get("model") or settings.ai_chat_search_models()[0]

    def collect(self, request: CollectionRequest) -> Iterator[Page]:
        if request.tier not in QUESTIONS:
            raise ArenaError(
                f"ai_chat_search has no {request.tier} tier (medium or premium: OpenRouter)"
            )
        language = "en" if (request.language or "da").startswith("en") else "da"
        model = self._model(request)
        remaining = record_cap(self, request)
        day = datetime.now(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
        # Paid for by an earlier key of this task (402 rotated it): not asked again.
        expanded: dict[str, list[str]] = self.rate_limit_state.setdefault("questions", {})
        answered: dict[str, list[int]] = self.rate_limit_state.setdefault("answered", {})
        tally = SourceTally(self.platform)
        try:
            for term in self._topics(request):
                if remaining <= 0:
                    self.rate_limit_state["stopped"] = "record cap reached"
                    break
                tally.tried += 1
                try:
                    asked = self._expand(term, model, language, request, expanded)
                except SourceFailed as exc:
                    tally.failed.append(str(exc))
                    yield failed_source(str(exc), exc.reason)
                    continue
                for slot, question in enumerate(asked, start=1):
                    if slot in answered.get(term, []):
                        continue
                    if remaining <= 0:
                        break
                    what = f"{term!r} question {slot}"
                    messages = [
                        {"role": "system", "content": PROMPTS[language]["answer"]},
                        {"role": "user", "content": question},
                    ]
                    try:
                        body = self._chat(what, model, messages, request, web=True)
                        message = items.message_of(body)
                        if message is None:
                            raise SourceFailed(
                                f"ai_chat_search {what}: the reply holds no choices[0].message",
                                "unparseable",
                            )
                    except SourceFailed as exc:
                        answered.setdefault(term, []).append(slot)  # paid or refused: not again
                        tally.failed.append(str(exc))
                        yield failed_source(str(exc), exc.reason)
                        continue
                    records, dropped = items.answer_records(
                        platform=self.platform, arena=self.arena, term=term, slot=slot,
                        phrasing=question, requested_model=model, body=body, message=message,
                        day=day, language=language,
                        web_results=int((request.options or {}).get("web_results")
                                        or DEFAULT_WEB_RESULTS),
                    )  # fmt: skip
                    page = Page(records=[clamp_record(r) for r in records[:remaining]])
                    page.rejected = dropped
                    if dropped:
                        page.rejection_reasons.append(f"{dropped} citations without a URL")
                    answered.setdefault(term, []).append(slot)
                    remaining -= len(page.records)
                    yield tally.ok(page)
        except StopCollecting as exc:
            message = str(exc)
            self.rate_limit_state["stopped"] = message
            tally.pages_ok += 1  # a clean stop, not a failure of every source
            yield Page(
                records=[],
                errors=[message],
                rejection_reasons=[message],
                skipped=[SkippedSource("ai_chat_search", "stopped", message)],
            )
            return
        except (ArenaAuthError, ArenaQuotaExceeded):
            self.rate_limit_state["units_before_rotation"] = self._spent()
            raise
        tally.finish()

    def _expand(
        self,
        term: str,
        model: str,
        language: str,
        request: CollectionRequest,
        expanded: dict[str, list[str]],
    ) -> list[str]:
        """The questions for ``term`` (asked once a task: kept in rate_limit_state)."""
        if term in expanded:
            return expanded[term]
        wanted = self._questions_per_term(request)
        messages = [
            {"role": "system", "content": PROMPTS[language]["expand"].format(n=wanted)},
            {"role": "user", "content": term},
        ]
        body = self._chat(f"{term!r} expansion", model, messages, request, web=False)
        message = items.message_of(body)
        asked = items.questions(message.get("content") if message else None, wanted)
        if not asked:
            raise SourceFailed(
                f"ai_chat_search {term!r} expansion: the model proposed no questions",
                "unparseable",
            )
        expanded[term] = asked
        return asked
