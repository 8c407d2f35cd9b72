"""An analysis' own parameters (windows, thresholds, list lengths): defaults plus overrides,
each checked against its rule, so a bad value is refused by name before any SQL runs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from observatory_pipelines.research.framework import ResearchInputError


@dataclass(frozen=True)
class Rule:
    """What a parameter accepts: a number in [low, high], a bool, or one of ``choices``."""

    low: float | None = None
    high: float | None = None
    integer: bool = False
    choices: tuple[str, ...] = ()
    optional: bool = False  # None accepted (for example "estimate the window")


def check_parameters(
    defaults: dict[str, Any], rules: dict[str, Rule], overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """``defaults`` with ``overrides`` applied, every value checked; ResearchInputError names
    the first parameter that is unknown or out of its rule."""
    overrides = overrides or {}
    unknown = sorted(set(overrides) - set(defaults))
    if unknown:
        raise ResearchInputError(
            f"unknown parameter {unknown[0]!r}; known: {', '.join(sorted(defaults))}"
        )
    values = {**defaults, **overrides}
    for name, value in values.items():
        _check(name, value, rules.get(name, Rule()), defaults[name])
    return values


def bind(
    params: dict[str, Any],
    defaults: dict[str, Any],
    rules: dict[str, Rule],
    overrides: dict[str, Any] | None,
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the checked parameters, the scope's params with them: what the SQL binds)."""
    options = check_parameters(defaults, rules, overrides)
    return options, {**params, **options}


def _check(name: str, value: Any, rule: Rule, default: Any) -> None:
    if value is None:
        if not rule.optional:
            raise ResearchInputError(f"parameter {name} must be given, got None")
        return
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ResearchInputError(f"parameter {name} must be true or false, got {value!r}")
        return
    if rule.choices:
        if value not in rule.choices:
            raise ResearchInputError(
                f"parameter {name} must be one of {', '.join(rule.choices)}, got {value!r}"
            )
        return
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ResearchInputError(f"parameter {name} must be a number, got {value!r}")
    if rule.integer and not isinstance(value, int):
        raise ResearchInputError(f"parameter {name} must be a whole number, got {value!r}")
    if (rule.low is not None and value < rule.low) or (rule.high is not None and value > rule.high):
        raise ResearchInputError(
            f"parameter {name} must be between {rule.low} and {rule.high}, got {value!r}"
        )
