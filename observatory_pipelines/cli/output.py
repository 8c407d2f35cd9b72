"""Tables for people, JSON for programs: every command prints through here."""

from __future__ import annotations

import json
import sys
import uuid
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any


def plain(value: Any) -> Any:
    """A JSON-ready copy: UUIDs and numbers as JSON has them, times in ISO 8601 (UTC)."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        items = [plain(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set | frozenset) else items
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(plain(payload), ensure_ascii=False, indent=2) + "\n")


def cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%SZ")
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, list | tuple):
        return ", ".join(cell(v) for v in value) or "-"
    return " ".join(str(value).split())


def table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> list[str]:
    """Aligned lines: a header of the labels, then one line per row; numbers right-aligned."""
    cells = [[cell(row.get(key)) for key, _ in columns] for row in rows]
    widths = [
        max([len(label), *(len(line[i]) for line in cells)]) for i, (_, label) in enumerate(columns)
    ]
    numeric = [
        bool(rows) and all(isinstance(row.get(key), int | None) for row in rows)
        for key, _ in columns
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if right else v.ljust(w)
            for v, w, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    return [line([label for _, label in columns]), *(line(values) for values in cells)]


def print_lines(lines: Sequence[str]) -> None:
    sys.stdout.write("".join(f"{line}\n" for line in lines))
