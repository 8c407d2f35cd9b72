"""``observatory arenas list``: every arena, generated from the collectors themselves.

Options (names, types, defaults) come from each collector's ``option_specs`` (the same
declaration ``check_options`` accepts designs by), tiers, credentials, caps and request
spacing from its class attributes, costs from ``costs.py`` (the table the ledger prices
with). Nothing here is written by hand, so the listing cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from observatory_pipelines.arenas.base import COMMON_OPTION_SPECS, ArenaOption, Collector
from observatory_pipelines.arenas.registry import available_platforms, get_collector_class
from observatory_pipelines.cli.output import print_json, print_lines, table
from observatory_pipelines.commands import Subcommands
from observatory_pipelines.costs import PLATFORM_COSTS, TIER_DEFAULTS

OPTION_COLUMNS = (
    ("name", "OPTION"),
    ("type", "TYPE"),
    ("default", "DEFAULT"),
    ("help", "MEANING"),
)


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "arenas", help="the arenas a design can collect from", description=__doc__.splitlines()[0]
    )
    actions = parser.add_subparsers(dest="arenas_command", required=True, metavar="ACTION")
    listing = actions.add_parser(
        "list",
        help="every arena: options, tiers, credentials, limits and costs",
        description="Every arena a query design can name under 'arenas:', with the options "
        "it takes (name, type, default), its tiers, the credential fields the operator's "
        "pool must hold, its limits and what it costs per tier.",
    )
    listing.add_argument("--json", action="store_true", help="machine-readable output")
    listing.set_defaults(handler=list_command)


def option_entry(option: ArenaOption) -> dict[str, Any]:
    return {
        "name": option.name,
        "type": option.type,
        "default": option.default,
        "help": option.help,
    }


def tier_costs(platform: str, tiers: tuple[str, ...]) -> dict[str, dict[str, Any]]:
    cost = PLATFORM_COSTS.get(platform)
    out: dict[str, dict[str, Any]] = {}
    for tier in tiers:
        if cost is None:
            per_1k = TIER_DEFAULTS.get(tier, TIER_DEFAULTS["free"]).estimated_credits_per_1k
            out[tier] = {"free": per_1k == 0, "credits_per_1000_units": per_1k}
        elif tier in cost.free_tiers:
            out[tier] = {"free": True, "units_per_credit": None}
        else:
            # One platform through two providers prices its tiers apart (google_search,
            # x_twitter, google_autocomplete): the tier's own rate, as credits_for uses.
            per_credit = dict(cost.tier_units_per_credit).get(tier, cost.units_per_credit)
            out[tier] = {"free": False, "units_per_credit": per_credit}
    return out


def arena_entry(cls: type[Collector]) -> dict[str, Any]:
    tiers = tuple(cls.supported_tiers)
    caps = {
        tier: getattr(cls, "tier_caps", {}).get(tier, cls.max_records_per_run) for tier in tiers
    }
    return {
        "platform": cls.platform,
        "arena": cls.arena,
        "tiers": list(tiers),
        "credentials": {
            "needed": cls.needs_credentials,
            "optional": cls.credentials_optional,
            "not_on_tiers": list(cls.keyless_tiers),
            "pool_platform": cls.credential_platform or cls.platform,
            "fields": [field.split("|") for field in cls.credential_fields],
        },
        "options": [option_entry(o) for o in (*COMMON_OPTION_SPECS, *cls.option_specs)],
        "limits": {
            "max_records_per_run": caps,
            "min_seconds_between_requests": cls.min_request_interval,
            "quota": cls.quota or None,
        },
        "costs": tier_costs(cls.platform, tiers),
        "api_host_setting": cls.host_setting,
    }


def catalog() -> list[dict[str, Any]]:
    """Every registered arena, by platform key."""
    return [arena_entry(get_collector_class(platform)) for platform in available_platforms()]


def describe_cost(cost: dict[str, Any]) -> str:
    if cost["free"]:
        return "no credits"
    if cost.get("units_per_credit"):
        return f"1 credit per {cost['units_per_credit']} API units"
    return f"{cost['credits_per_1000_units']} credits per 1000 units"


def arena_lines(entry: dict[str, Any]) -> list[str]:
    credentials = entry["credentials"]
    if credentials["needed"]:
        fields = ", ".join(" or ".join(names) for names in credentials["fields"])
        needs = f"yes, from the operator's credential pool: {fields}"
        if credentials.get("pool_platform") not in (None, entry["platform"]):
            needs += f" (pool platform {credentials['pool_platform']})"
        if credentials.get("not_on_tiers"):
            needs += f"; none on {', '.join(credentials['not_on_tiers'])}"
    elif credentials.get("optional"):
        needs = "optional: a pooled credential is used when the operator added one"
        if credentials["fields"]:
            fields = ", ".join(" or ".join(names) for names in credentials["fields"])
            needs += f" ({fields})"
    else:
        needs = "none"
    limits = entry["limits"]
    interval = limits["min_seconds_between_requests"]
    lines = [
        f"{entry['platform']}  ({entry['arena']})",
        f"  tiers        {', '.join(entry['tiers'])}",
        "  costs        "
        + "; ".join(f"{tier}: {describe_cost(c)}" for tier, c in entry["costs"].items()),
        f"  credentials  {needs}",
        "  records      at most "
        + "; ".join(f"{tier}: {n:,}" for tier, n in limits["max_records_per_run"].items())
        + " per run",
        "  requests     "
        + (
            f"at most one every {interval:.3g} s per host ({60 / interval:.0f} a minute)"
            if interval
            else "no spacing (reads local files)"
        ),
    ]
    if limits["quota"]:
        lines.append(f"  quota        {limits['quota']}")
    if entry["api_host_setting"]:
        lines.append(f"  API host     set by the operator ({entry['api_host_setting']})")
    options = [{**o, "default": as_written(o["default"])} for o in entry["options"]]
    lines += ["  " + line for line in table(options, OPTION_COLUMNS)]
    return lines


def as_written(value: Any) -> str:
    """A default as a design file writes it (true, 250, "DA"); none: "-"."""
    return "-" if value is None else json.dumps(value, ensure_ascii=False)


def list_command(args: argparse.Namespace) -> int:
    entries = catalog()
    if args.json:
        print_json({"arenas": entries})
        return 0
    lines: list[str] = []
    for entry in entries:
        lines += [*arena_lines(entry), ""]
    print_lines(lines[:-1])
    return 0
