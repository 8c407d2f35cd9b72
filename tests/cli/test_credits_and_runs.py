"""``observatory credits`` and ``observatory run status`` against the seeded ledger and run."""

from __future__ import annotations

from observatory_pipelines.credits.ledger import CreditLedger

from .conftest import DESIGN_NAME


def test_balance_of_one_user_is_the_ledgers(observatory, seed, db):
    result = observatory("credits", "balance", "--user", "ANA@example.org", "--json")
    assert result.code == 0, result.stderr
    (balance,) = result.json()["balances"]
    ledger = vars(CreditLedger(db).get_balance(seed.ana))
    assert {k: balance[k] for k in ledger} == ledger
    # 1000 allocated; 40 + 30 reserved and both released; 25 charged.
    assert ledger == {
        "allocated": 1000,
        "reserved": 70,
        "settled": 25,
        "refunded": 70,
        "available": 975,
    }
    assert balance["user_id"] == seed.ana and balance["email"] == "ana@example.org"
    assert result.stderr == ""


def test_balances_of_every_user_by_id_and_as_a_table(observatory, cli, seed):
    result = observatory("credits", "balance")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["USER", "ALLOCATED", "RESERVED", "SETTLED", "REFUNDED", "AVAILABLE"]
    rows = {line.split()[0]: line.split()[1:] for line in lines[1:]}
    assert rows == {
        "ana@example.org": ["1,000", "70", "25", "70", "975"],
        "bo@example.org": ["500", "0", "0", "0", "500"],
    }
    by_id = cli("credits", "balance", "--user", seed.bo, "--json").json()
    assert [b["available"] for b in by_id["balances"]] == [500]


def test_history_pages_cover_the_ledger_once_newest_first(cli, seed, db):
    expected, cursor = CreditLedger(db).get_transaction_history(seed.ana, limit=50)
    assert cursor is None and len(expected) == 5  # 2 reservations, 1 settlement, 2 refunds
    seen, after, pages = [], None, 0
    while True:
        argv = ["credits", "history", "--user", "ana@example.org", "--limit", "2", "--json"]
        page = cli(*argv, *(["--after", after] if after else [])).json()
        pages += 1
        seen += page["transactions"]
        after = page["next_cursor"]
        if after is None:
            break
    assert pages == 3
    assert [t["id"] for t in seen] == [str(t["id"]) for t in expected]
    assert [t["transaction_type"] for t in seen] == [t["transaction_type"] for t in expected]
    assert sorted(t["transaction_type"] for t in seen) == [
        "refund",
        "refund",
        "reservation",
        "reservation",
        "settlement",
    ]


def test_history_table_prints_the_next_page_command(observatory, cli, seed):
    result = observatory("credits", "history", "--user", "ana@example.org", "--limit", "4")
    assert result.code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split()[:3] == ["WHEN", "(UTC)", "TYPE"]
    assert len(lines) == 1 + 4 + 1
    assert lines[-1].startswith("more: observatory credits history --user ana@example.org --after ")
    cursor = lines[-1].rsplit(" ", 1)[1]
    last = cli("credits", "history", "--user", "ana@example.org", "--after", cursor)
    assert len(last.stdout.splitlines()) == 1 + 1


def test_history_refusals_are_one_line(cli, seed):
    bad_cursor = cli("credits", "history", "--user", "ana@example.org", "--after", "x")
    assert bad_cursor.code == 1
    assert bad_cursor.stderr.count("\n") == 1 and "invalid history cursor" in bad_cursor.stderr
    ambiguous = cli("credits", "history")
    assert ambiguous.code == 1
    assert ambiguous.stderr == "observatory: error: 2 users exist: name one with --user EMAIL|ID\n"
    unknown = cli("credits", "balance", "--user", "nobody@example.org")
    assert unknown.code == 3
    assert unknown.stderr == (
        "observatory: error: no user with id or e-mail 'nobody@example.org'\n"
    )
    limit = cli("credits", "history", "--user", "ana@example.org", "--limit", "0")
    assert limit.code == 1 and "--limit must be between 1 and 200" in limit.stderr


def test_run_status_of_a_seeded_run(observatory, cli, seed):
    result = observatory("run", "status", seed.run, "--json")
    assert result.code == 0, result.stderr
    run = result.json()
    assert run["id"] == seed.run and run["design"] == DESIGN_NAME
    assert run["status"] == "completed"
    assert run["arenas"] == ["bluesky:failed", "rss_feeds:completed"]
    assert run["records_collected"] == 3 and run["records_attributed"] == 3
    assert (run["credits_reserved"], run["credits_spent"], run["credits_held"]) == (70, 25, 0)
    assert run["credits_settled"] == 25 and run["credits_refunded"] == 70
    assert run["skipped_sources"] == 2
    assert run["failure"] == "bluesky: HTTP 401 from bluesky createSession"
    tasks = {t["platform"]: t for t in run["tasks"]}
    assert tasks["rss_feeds"]["skipped_by_reason"] == {"http_error": 1, "timeout": 1}
    assert tasks["rss_feeds"]["duplicates_skipped"] == 1
    assert tasks["bluesky"]["status"] == "failed"

    human = cli("run", "status", seed.run)
    assert human.code == 0
    assert f"run        {seed.run}" in human.stdout
    assert "reserved 70, spent 25, still held 0" in human.stdout
    assert "rss_feeds: 2 source(s) skipped (http_error 1, timeout 1)" in human.stdout
    assert "HTTP 401 from bluesky createSession" in human.stdout


def test_run_status_of_a_design_and_of_unknown_ones(observatory, cli, seed):
    listed = cli("run", "status", "--design", DESIGN_NAME, "--json").json()
    assert [r["id"] for r in listed["runs"]] == [seed.run]
    table = cli("run", "status", "--design", seed.design)
    assert table.stdout.splitlines()[0].split()[:3] == ["RUN", "DESIGN", "STATE"]
    assert seed.run in table.stdout

    unknown_design = observatory("run", "status", "--design", "Ingen sådan")
    assert unknown_design.code == 3
    assert unknown_design.stderr == (
        "observatory: error: no query design with id or name 'Ingen sådan'\n"
    )
    unknown_run = cli("run", "status", "00000000-0000-0000-0000-000000000000")
    assert unknown_run.code == 3
    assert unknown_run.stderr.count("\n") == 1
    not_a_uuid = cli("run", "status", "yesterday")
    assert not_a_uuid.code == 1 and "RUN_ID must be a UUID" in not_a_uuid.stderr
