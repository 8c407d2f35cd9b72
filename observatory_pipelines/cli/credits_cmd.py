"""``observatory credits balance|history``: the ledger as a researcher sees it.

Balances are the ledger's own (``CreditLedger``: allocations valid today in UTC, minus
reservations and settlements, plus refunds); history is its keyset paging, newest first,
with the opaque cursor of the next page.
"""

from __future__ import annotations

import argparse

from observatory_pipelines.cli import database
from observatory_pipelines.cli.errors import CliError
from observatory_pipelines.cli.output import print_json, print_lines, table
from observatory_pipelines.commands import Subcommands
from observatory_pipelines.credits.common import HISTORY_MAX_PAGE
from observatory_pipelines.credits.history import InvalidCursor
from observatory_pipelines.credits.ledger import CreditLedger

BALANCE_COLUMNS = (
    ("email", "USER"),
    ("allocated", "ALLOCATED"),
    ("reserved", "RESERVED"),
    ("settled", "SETTLED"),
    ("refunded", "REFUNDED"),
    ("available", "AVAILABLE"),
)
HISTORY_COLUMNS = (
    ("created_at", "WHEN (UTC)"),
    ("transaction_type", "TYPE"),
    ("credits_consumed", "CREDITS"),
    ("platform", "PLATFORM"),
    ("tier", "TIER"),
    ("collection_run_id", "RUN"),
    ("description", "DESCRIPTION"),
)


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "credits",
        help="credit balances and transaction history",
        description="Credit balances and the transaction history of the ledger.",
    )
    actions = parser.add_subparsers(dest="credits_command", required=True, metavar="ACTION")
    balance = actions.add_parser(
        "balance",
        help="available credits (one user, or every user)",
        description="Allocated, reserved, settled, refunded and available credits today (UTC): "
        "of one user, or of every user, most at risk first.",
    )
    balance.add_argument("--user", metavar="EMAIL|ID", help="one user; default every user")
    balance.add_argument("--json", action="store_true", help="machine-readable output")
    balance.set_defaults(handler=balance_command)

    history = actions.add_parser(
        "history",
        help="one user's transactions, newest first, a page at a time",
        description="One page of a user's credit transactions, newest first. The next page is "
        "asked for with --after and the cursor the previous page printed.",
    )
    history.add_argument("--user", metavar="EMAIL|ID", help="default: the only user there is")
    history.add_argument(
        "--limit",
        type=int,
        default=50,
        metavar="N",
        help=f"rows per page, 1..{HISTORY_MAX_PAGE} (default 50)",
    )
    history.add_argument("--after", metavar="CURSOR", help="the cursor a previous page printed")
    history.add_argument("--json", action="store_true", help="machine-readable output")
    history.set_defaults(handler=history_command)


def balance_command(args: argparse.Namespace) -> int:
    engine = database.engine()
    ledger = CreditLedger(engine)
    if args.user is not None:
        user = database.find_user(engine, args.user)
        balances = [{**user_fields(user), **vars(ledger.get_balance(user["id"]))}]
    else:
        emails = {u["id"]: u["email"] for u in database.rows(engine, "users_all")}
        balances = [
            {
                "user_id": b["user_id"],
                "email": emails.get(b["user_id"]),
                **{k: b[k] for k, _ in BALANCE_COLUMNS[1:]},
            }
            for b in ledger.all_balances()
        ]
    if args.json:
        print_json({"date": ledger.today(), "balances": balances})
    else:
        print_lines(table(balances, BALANCE_COLUMNS))
    return 0


def user_fields(user: dict) -> dict:
    return {"user_id": user["id"], "email": user["email"]}


def history_command(args: argparse.Namespace) -> int:
    if not 1 <= args.limit <= HISTORY_MAX_PAGE:
        raise CliError(f"--limit must be between 1 and {HISTORY_MAX_PAGE}, got {args.limit}")
    engine = database.engine()
    user = database.find_user(engine, args.user)
    try:
        page, cursor = CreditLedger(engine).get_transaction_history(
            user["id"], cursor=args.after, limit=args.limit
        )
    except InvalidCursor as exc:
        raise CliError(f"--after: {exc}") from None
    if args.json:
        print_json({**user_fields(user), "transactions": page, "next_cursor": cursor})
        return 0
    lines = table(page, HISTORY_COLUMNS) if page else [f"no transactions for {user['email']}"]
    if cursor:
        lines.append(f"more: observatory credits history --user {user['email']} --after {cursor}")
    print_lines(lines)
    return 0
