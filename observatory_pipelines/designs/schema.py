"""The design file format and its validation: a file's data → ``DesignDoc`` or every error.

One design per file::

    name: Grønland og USA                  # unique among design files
    owner: researcher@example.dk           # a users row: e-mail or id
    description: Debatten om Grønland      # optional
    active: true                           # false (or removing the file) deactivates it
    mode: batch                            # batch: one window; live: every day from window.from
    window: {from: 2026-03-01, to: 2026-03-07}   # ISO dates (to included) or datetimes
    language: da                           # expected language (query_designs.language)
    country: dk                            # locale (query_designs.locale_country)
    tier: free                             # default tier of every arena
    terms:                                 # at least one
      - grønland                           # a keyword
      - {term: "#dkpol", type: hashtag}    # keyword | phrase | hashtag
      - all: [trump, grønland]             # an AND-group: every term must occur
    actor_lists:
      - name: Partier
        actors:
          - name: Socialdemokratiet
            platforms: {bluesky: socialdemokratiet.dk, youtube: {id: UC...}}
    arenas:                                # platform → options the arena declares
      rss_feeds: {outlets: [dr]}
      bluesky: {}

The schema (pydantic) checks shapes and types; the arenas' own declarations
(``arenas.registry``, ``Collector.check_options``, ``option_specs``, ``supported_tiers``) decide
which arenas exist and what each takes, so there is one place per rule. Checks that need the
database (the owner, a name another file already holds) are in ``sync.py``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    field_validator,
)

from observatory_pipelines.arenas import registry
from observatory_pipelines.arenas.base import COMMON_OPTION_SPECS, ArenaOptionError
from observatory_pipelines.designs.files import DesignError, DesignFileInvalid, ParsedFile
from observatory_pipelines.windows import BoundError, as_bound

TERM_TYPES = ("keyword", "phrase", "hashtag")
MODES = ("batch", "live")
TIER_NAMES = ("free", "medium", "premium")

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]


class _Strict(BaseModel):
    # A field the format does not know is an error (a typo must not be dropped silently);
    # a bare number where text is expected (a year as a search term) is text.
    model_config = ConfigDict(extra="forbid", coerce_numbers_to_str=True, frozen=True)


class TermSpec(_Strict):
    term: Text
    type: Literal["keyword", "phrase", "hashtag"] = "keyword"


def _term_kind(value: Any) -> str:
    if isinstance(value, dict):
        return "term-group" if "all" in value else "term-mapping"
    return "term-string"


PlainTerm = Annotated[
    Annotated[Text, Tag("term-string")] | Annotated[TermSpec, Tag("term-mapping")],
    Discriminator(lambda v: "term-mapping" if isinstance(v, dict) else "term-string"),
]


class TermGroup(_Strict):
    all: list[PlainTerm] = Field(min_length=2)


TermEntry = Annotated[
    Annotated[Text, Tag("term-string")]
    | Annotated[TermSpec, Tag("term-mapping")]
    | Annotated[TermGroup, Tag("term-group")],
    Discriminator(_term_kind),
]


class PresenceSpec(_Strict):
    id: Text | None = None  # actor_platform_presences.platform_user_id
    username: Text | None = None  # actor_platform_presences.platform_username


Presence = Annotated[
    Annotated[Text, Tag("presence-id")] | Annotated[PresenceSpec, Tag("presence-mapping")],
    Discriminator(lambda v: "presence-mapping" if isinstance(v, dict) else "presence-id"),
]


class ActorSpec(_Strict):
    name: Annotated[Text, StringConstraints(max_length=500)]
    type: Annotated[Text, StringConstraints(max_length=50)] | None = None
    platforms: dict[str, Presence] = Field(min_length=1)


class ActorListSpec(_Strict):
    name: Annotated[Text, StringConstraints(max_length=200)]
    description: str | None = None
    sampling_method: Annotated[Text, StringConstraints(max_length=50)] | None = None
    actors: list[ActorSpec] = Field(min_length=1)


def _iso_bound(value: str | None) -> str | None:
    """A window bound as collection will read it (``windows.as_bound``: the one rule)."""
    if value is None:
        return None
    text = str(value).strip()
    try:
        as_bound(text, end=False)
    except BoundError:
        raise ValueError(
            f"not a date (YYYY-MM-DD) or an ISO datetime (YYYY-MM-DDTHH:MM[+02:00]): {text!r}"
        ) from None
    return text


class WindowSpec(_Strict):
    date_from: str | None = Field(None, alias="from")
    date_to: str | None = Field(None, alias="to")

    _check = field_validator("date_from", "date_to")(_iso_bound)


class DesignModel(_Strict):
    name: Annotated[Text, StringConstraints(max_length=200)]
    owner: Text
    description: str | None = None
    active: bool = True
    mode: Literal["batch", "live"] = "batch"
    window: WindowSpec | None = None
    language: Annotated[Text, StringConstraints(max_length=10, to_lower=True)] = "da"
    country: Annotated[Text, StringConstraints(max_length=5, to_lower=True)] = "dk"
    tier: Literal["free", "medium", "premium"] = "free"
    terms: list[TermEntry] = Field(min_length=1)
    actor_lists: list[ActorListSpec] = Field(default_factory=list)
    arenas: dict[str, dict[str, Any] | bool | None] = Field(min_length=1)


FIELDS = tuple(DesignModel.model_fields)


@dataclass(frozen=True)
class TermRow:
    term: str
    term_type: str
    group: int | None  # AND-group number within the design; None = a term on its own


@dataclass(frozen=True)
class PresenceRow:
    platform: str
    platform_user_id: str | None
    platform_username: str | None


@dataclass(frozen=True)
class ActorRow:
    name: str
    actor_type: str | None
    presences: tuple[PresenceRow, ...]


@dataclass(frozen=True)
class ActorListRow:
    name: str
    description: str | None
    sampling_method: str | None
    actors: tuple[ActorRow, ...]


@dataclass
class DesignDoc:
    """A valid design file, in the shape of the tables it becomes."""

    file: ParsedFile
    name: str
    owner: str
    description: str | None
    active: bool
    mode: str
    date_from: str | None
    date_to: str | None
    language: str
    locale_country: str
    tier: str
    terms: list[TermRow]
    actor_lists: list[ActorListRow]
    arenas: dict[str, dict[str, Any]]
    owner_id: str | None = field(default=None)  # resolved against users by sync

    def arenas_config(self) -> dict[str, Any]:
        """``query_designs.arenas_config`` (docs/collection.md)."""
        config: dict[str, Any] = {"mode": self.mode, "tier": self.tier, "arenas": self.arenas}
        if self.date_from:
            config["date_from"] = self.date_from
        if self.date_to:
            config["date_to"] = self.date_to
        return config

    def fingerprint(self) -> str:
        """SHA-256 of what the design collects: a change to it is a revision (a new run)."""
        collected = {
            "arenas_config": self.arenas_config(),
            "terms": [[t.term, t.term_type, t.group] for t in self.terms],
            "actor_lists": [
                [a.name, [[p.platform, p.platform_user_id, p.platform_username]
                          for actor in a.actors for p in actor.presences]]
                for a in self.actor_lists
            ],
            "language": self.language,
            "locale_country": self.locale_country,
        }  # fmt: skip
        return hashlib.sha256(
            json.dumps(collected, sort_keys=True, ensure_ascii=False).encode()
        ).hexdigest()


def validate(parsed: ParsedFile) -> DesignDoc:
    """The file's design, or DesignFileInvalid with every error (schema, window, arenas)."""
    data = parsed.data if isinstance(parsed.data, dict) else {}
    arenas, tier = data.get("arenas"), data.get("tier")
    # The arenas are checked from the raw data, so their errors come with the schema's.
    errors = _arena_errors(
        parsed, arenas if isinstance(arenas, dict) else {}, tier if tier in TIER_NAMES else "free"
    )
    try:
        model = DesignModel.model_validate(parsed.data)
    except ValidationError as exc:
        errors += _schema_errors(parsed, exc)
        raise DesignFileInvalid(sorted(set(errors), key=lambda e: (e.line, e.column))) from None
    errors += _window_errors(parsed, model) + _actor_errors(parsed, model)
    if errors:
        raise DesignFileInvalid(sorted(errors, key=lambda e: (e.line, e.column)))
    return DesignDoc(
        file=parsed,
        name=model.name,
        owner=model.owner,
        description=model.description,
        active=model.active,
        mode=model.mode,
        date_from=model.window.date_from if model.window else None,
        date_to=model.window.date_to if model.window else None,
        language=model.language,
        locale_country=model.country,
        tier=model.tier,
        terms=_term_rows(model),
        actor_lists=_actor_list_rows(model),
        arenas=_arena_options(model),
    )


def _schema_errors(parsed: ParsedFile, exc: ValidationError) -> list[DesignError]:
    errors = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        kind = error["type"]
        if kind == "extra_forbidden":
            parent = _model_at(loc[:-1])
            known = (
                ", ".join(f.alias or n for n, f in parent.model_fields.items()) if parent else ""
            )
            message = "not a field here" + (f" (fields: {known})" if known else "")
        elif kind == "missing":
            message = "required"
        elif kind == "too_short" and loc and loc[-1] in ("terms", "arenas", "actors", "all"):
            message = {
                "terms": "at least one search term is needed",
                "arenas": "at least one arena is needed",
                "actors": "an actor list needs at least one actor",
                "all": "an AND-group needs at least two terms",
            }[str(loc[-1])]
        elif kind in ("model_type", "dict_type") and not loc:
            message = "a design file is a mapping of fields (" + ", ".join(FIELDS) + ")"
        elif error.get("input", ...) is None and kind.endswith("_type"):
            message = "empty: a value is required"
        else:
            message = error["msg"].removeprefix("Value error, ")
        errors.append(parsed.error(loc, message))
    return sorted(set(errors), key=lambda e: (e.line, e.column, e.field))


def _model_at(loc: tuple[Any, ...]) -> type[BaseModel] | None:
    """The schema model at a location (for listing its fields in an unknown-field error)."""
    path = [c for c in loc if not isinstance(c, int)]
    models: dict[tuple[str, ...], type[BaseModel]] = {
        (): DesignModel,
        ("window",): WindowSpec,
        ("terms", "term-mapping"): TermSpec,
        ("terms", "term-group"): TermGroup,
        ("terms", "term-group", "all", "term-mapping"): TermSpec,
        ("actor_lists",): ActorListSpec,
        ("actor_lists", "actors"): ActorSpec,
    }
    model = models.get(tuple(path))
    if (
        model is None
        and path[:2] == ["actor_lists", "actors"]
        and path[-1:] == ["presence-mapping"]
    ):
        model = PresenceSpec
    return model


def _window_errors(parsed: ParsedFile, model: DesignModel) -> list[DesignError]:
    window = model.window or WindowSpec()
    errors = []
    if model.mode == "batch":
        for key, value in (("from", window.date_from), ("to", window.date_to)):
            if value is None:
                where = ("window", key) if model.window else ("window",)
                errors.append(parsed.error(where, f"a batch design needs window.{key}"))
    elif window.date_to is not None:
        errors.append(
            parsed.error(
                ("window", "to"),
                "a live design runs every day until it is deactivated; window.to is for batch "
                "designs (window.from says how far back its first run reaches)",
            )
        )
    if window.date_from and window.date_to:
        start = as_bound(window.date_from, end=False)
        end = as_bound(window.date_to, end=True)
        if start >= end:
            errors.append(
                parsed.error(
                    ("window", "to"),
                    f"{window.date_to} is before window.from {window.date_from} "
                    "(a bare date includes that whole day)",
                )
            )
    return errors


def _type_ok(declared: str, value: Any) -> bool:
    """Values of the simple declared option types; other declarations are the arena's to check."""
    if declared == "bool":
        return isinstance(value, bool)
    if declared == "int":
        return isinstance(value, int) and not isinstance(value, bool)
    if declared == "string":
        return isinstance(value, str)
    if declared == "list of strings":
        return isinstance(value, list) and all(isinstance(v, str) for v in value)
    return True


def _arena_errors(
    parsed: ParsedFile, arenas: dict[Any, Any], default_tier: str
) -> list[DesignError]:
    known = registry.available_platforms()
    errors: list[DesignError] = []
    for platform, raw in arenas.items():
        where = ("arenas", platform)
        if platform not in known:
            errors.append(
                parsed.error(where, f"unknown arena {platform!r} (arenas: {', '.join(known)})")
            )
            continue
        options = _options_of(raw)
        if options is None:
            errors.append(parsed.error(where, "options are a mapping (or true / false)"))
            continue
        collector = registry.get_collector_class(platform)
        declared = {o.name: o for o in (*COMMON_OPTION_SPECS, *collector.option_specs)}
        for key, value in options.items():
            try:  # one key at a time, so the refusal is placed at that key
                collector.check_options({key: value})
            except ArenaOptionError as exc:
                # The arena's own message; its "arenas.<platform>..." prefix is the field shown.
                message = str(exc).removeprefix(f"arenas.{platform}.{key} ")
                message = message.removeprefix(f"arenas.{platform}: ").removeprefix("is ")
                errors.append(parsed.error((*where, key), message))
                continue
            spec = declared.get(key)
            if spec is not None and value is not None and not _type_ok(spec.type, value):
                errors.append(parsed.error((*where, key), f"must be of type {spec.type}"))
        if isinstance(options.get("max_records"), int) and options["max_records"] < 1:
            errors.append(parsed.error((*where, "max_records"), "must be at least 1"))
        if options.get("enabled", True) is False:
            continue
        tier = options.get("tier") or default_tier
        if tier not in TIER_NAMES:
            errors.append(parsed.error((*where, "tier"), f"one of {', '.join(TIER_NAMES)}"))
        elif tier not in collector.supported_tiers:
            offered = ", ".join(collector.supported_tiers)
            at = (*where, "tier") if options.get("tier") else ("tier",)
            errors.append(
                parsed.error(
                    at,
                    f"{platform} offers the tier(s) {offered}, not {tier}"
                    + ("" if options.get("tier") else f" (set arenas.{platform}.tier)"),
                )
            )
    if (
        arenas
        and not errors
        and not any(
            (_options_of(raw) or {}).get("enabled", True) is not False for raw in arenas.values()
        )
    ):
        errors.append(parsed.error(("arenas",), "every arena is disabled"))
    return errors


def _options_of(raw: dict[str, Any] | bool | None) -> dict[str, Any] | None:
    if raw is None or raw is True:
        return {}
    if raw is False:
        return {"enabled": False}
    return dict(raw) if isinstance(raw, dict) else None


def _actor_errors(parsed: ParsedFile, model: DesignModel) -> list[DesignError]:
    known = set(registry.available_platforms())
    errors: list[DesignError] = []
    seen: dict[tuple[str, str], tuple[Any, ...]] = {}
    for li, actor_list in enumerate(model.actor_lists):
        for ai, actor in enumerate(actor_list.actors):
            for platform, presence in actor.platforms.items():
                where = ("actor_lists", li, "actors", ai, "platforms", platform)
                if platform not in known:
                    errors.append(
                        parsed.error(where, f"unknown arena {platform!r} (arenas: "
                                     f"{', '.join(sorted(known))})")
                    )  # fmt: skip
                    continue
                if isinstance(presence, PresenceSpec) and not (presence.id or presence.username):
                    errors.append(parsed.error(where, "needs id or username"))
                    continue
                key = (platform, _presence_id(presence) or "")
                if key[1] and key in seen and seen[key][:2] != (li, ai):
                    first = seen[key]
                    errors.append(
                        parsed.error(
                            where,
                            f"{platform} account {key[1]!r} is already "
                            f"actor_lists[{first[0]}].actors[{first[1]}]'s",
                        )
                    )
                seen.setdefault(key, (li, ai))
    return errors


def _presence_id(presence: str | PresenceSpec) -> str | None:
    return presence if isinstance(presence, str) else presence.id


def _term_rows(model: DesignModel) -> list[TermRow]:
    rows: list[TermRow] = []
    group = 0
    for entry in model.terms:
        if isinstance(entry, TermGroup):
            group += 1
            rows += [_term_row(t, group) for t in entry.all]
        else:
            rows.append(_term_row(entry, None))
    return rows


def _term_row(term: str | TermSpec, group: int | None) -> TermRow:
    if isinstance(term, str):  # written bare: "#tag" is a hashtag, several words a phrase
        kind = "hashtag" if term.startswith("#") else "phrase" if len(term.split()) > 1 else None
        return TermRow(term, kind or "keyword", group)
    return TermRow(term.term, term.type, group)


def _actor_list_rows(model: DesignModel) -> list[ActorListRow]:
    return [
        ActorListRow(
            name=al.name,
            description=al.description,
            sampling_method=al.sampling_method,
            actors=tuple(
                ActorRow(
                    name=a.name,
                    actor_type=a.type,
                    presences=tuple(
                        PresenceRow(
                            platform,
                            _presence_id(p),
                            p.username if isinstance(p, PresenceSpec) else None,
                        )
                        for platform, p in a.platforms.items()
                    ),  # fmt: skip
                )
                for a in al.actors
            ),
        )
        for al in model.actor_lists
    ]


def _arena_options(model: DesignModel) -> dict[str, dict[str, Any]]:
    return {platform: _options_of(raw) or {} for platform, raw in model.arenas.items()}
