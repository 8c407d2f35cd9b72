"""What a collection will cost before it runs, arena by arena.

Each arena's collector prices the request itself (``estimate_credits``, which
goes through the one cost table in ``costs.py``). An arena the registry does not
know is priced at its tier's ``estimated_credits_per_1k`` per thousand expected
records (``max_records`` in its options, else 1000). An arena whose estimate
raises is logged at WARNING and counts 0: a broken estimator must not block a run.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select

from observatory_pipelines.arenas.base import CollectionRequest, SearchTerm
from observatory_pipelines.costs import TIER_DEFAULTS
from observatory_pipelines.logs import get_logger
from observatory_pipelines.windows import as_bound

log = get_logger(__name__)

DEFAULT_EXPECTED_RECORDS = 1000


def _arenas(config: Any) -> dict[str, dict]:
    """The per-arena options of an ``arenas_config`` (whole config, bare mapping, or list)."""
    if isinstance(config, list | tuple):
        return {str(name): {} for name in config}
    if not isinstance(config, dict):
        raise ValueError(f"arenas_config must be a mapping, got {type(config).__name__}")
    arenas = config.get("arenas", config)
    if isinstance(arenas, list | tuple):
        return {str(name): {} for name in arenas}
    out: dict[str, dict] = {}
    for key, options in arenas.items():
        if isinstance(options, dict):
            if options.get("enabled", True) is not False:
                out[key] = options
        elif options is True:
            out[key] = {}
    return out


def _query_design_inputs(engine: Engine, design: Any, terms: list[str] | None):
    from observatory_pipelines.db.models import SearchTerm as SearchTermRow

    if terms is None:
        with engine.connect() as conn:
            terms = list(
                conn.scalars(
                    select(SearchTermRow.term).where(
                        SearchTermRow.query_design_id == design.id,
                        SearchTermRow.is_active.is_(True),
                    )
                )
            )
    return design.arenas_config or {}, terms, design.default_tier


def _fallback(platform: str, tier: str, options: dict) -> int:
    default = TIER_DEFAULTS.get(tier)
    if default is None:
        log.warning("credits.estimate.unknown_tier", platform=platform, tier=tier)
        return 0
    expected = int(options.get("max_records") or DEFAULT_EXPECTED_RECORDS)
    return -(-expected * default.estimated_credits_per_1k // 1000)


def estimate_credits(
    engine: Engine,
    arenas_config: Any,
    date_from: Any,
    date_to: Any,
    terms: list[str] | None = None,
    tier: str | None = None,
) -> dict[str, int]:
    default_tier = tier
    if hasattr(arenas_config, "arenas_config"):  # a QueryDesign row
        arenas_config, terms, design_tier = _query_design_inputs(engine, arenas_config, terms)
        default_tier = tier or design_tier
    if isinstance(arenas_config, dict):
        date_from = date_from if date_from is not None else arenas_config.get("date_from")
        date_to = date_to if date_to is not None else arenas_config.get("date_to")
        default_tier = default_tier or arenas_config.get("tier")
    if date_from is None or date_to is None:
        raise ValueError("estimate needs date_from and date_to (arguments or arenas_config)")
    start, end = as_bound(date_from, end=False), as_bound(date_to, end=True)
    search_terms = [SearchTerm(term=t) for t in (terms or [])]

    try:
        from observatory_pipelines.arenas import registry
    except ImportError as exc:  # registry not importable: price every arena by tier default
        log.warning("credits.estimate.no_registry", error=str(exc))
        registry = None

    result: dict[str, int] = {}
    for platform, options in _arenas(arenas_config).items():
        arena_tier = str(options.get("tier") or default_tier or "free")
        try:
            if registry is None:
                raise KeyError(platform)
            collector_cls = registry.get_collector_class(platform)
        except KeyError:
            result[platform] = _fallback(platform, arena_tier, options)
            continue
        except Exception as exc:
            log.warning("credits.estimate.lookup_failed", platform=platform, error=str(exc))
            result[platform] = _fallback(platform, arena_tier, options)
            continue
        request = CollectionRequest(
            date_from=start,
            date_to=end,
            terms=search_terms,
            tier=arena_tier,
            options=options,
            max_records=options.get("max_records"),
        )
        try:
            credits = int(collector_cls().estimate_credits(request))
            if credits < 0:
                raise ValueError(f"negative estimate {credits}")
        except Exception as exc:
            log.warning(
                "credits.estimate.failed",
                platform=platform,
                error=f"{type(exc).__name__}: {exc}",
            )
            credits = 0
        result[platform] = credits
    return result
