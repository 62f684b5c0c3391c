"""``hrbot report …`` as an operator meets it: a real process on a migrated SQLite file holding
the demo organisation (dated relative to today: Shanghai's two latest due months unpaid awaiting
finance, one Beijing month unpaid for a data error, one Chengdu month paid late after a bank
failure, a joiner in Guangzhou this month)."""

from __future__ import annotations

import csv
import io
import json

import pytest

from tests.cli_support import demo_env, hrbot


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return demo_env(tmp_path_factory.mktemp("report-cli"))


def run(env: dict[str, str], *args: str) -> str:
    done = hrbot("report", *args, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    return done.stdout


def test_delays_table_shows_overdue_months_and_reasons(env: dict[str, str]) -> None:
    lines = run(env, "delays").splitlines()
    assert lines[0].startswith("overdue batches per branch per month · ")
    rows = [line.split() for line in lines]
    overdue = [
        (r[0], r[-1]) for r in rows if r and r[0] in {"BJ01", "CD01", "SH01"} and len(r) == 6
    ]
    assert overdue == [
        ("BJ01", "other"),
        ("CD01", "bank"),
        ("SH01", "finance_approval"),
        ("SH01", "finance_approval"),
    ]
    # Group: 4 branches × 12 months; 4 overdue, finance 2, bank 1, other 1 → 50 / 25 / 25 %.
    (total,) = [r for r in rows if r and r[0] == "TOTAL"]
    assert " ".join(total[1:]) == "全集团 48 4 2 0 0 1 1 50.0 0.0 0.0 25.0 25.0"
    (guangzhou,) = [r for r in rows if r and r[0] == "GZ01"]
    assert guangzhou[-5:] == ["-"] * 5  # no overdue month: no shares


def test_delays_csv_is_one_block_per_table_with_its_header(env: dict[str, str]) -> None:
    text = run(env, "delays", "--format", "csv")
    first, second = (list(csv.reader(io.StringIO(block))) for block in text.split("\n\n"))
    assert first[0] == [
        "branch_code",
        "branch_name",
        "period",
        "late_people",
        "days_late",
        "reason",
    ]
    assert [row[0] for row in first[1:]] == ["BJ01", "CD01", "SH01", "SH01"]
    assert first[3][1] == "上海分公司" and first[3][3] == "7"
    assert second[0][:4] == ["branch_code", "branch_name", "branch_months", "overdue_months"]
    assert [row[0] for row in second[1:]] == ["BJ01", "CD01", "GZ01", "SH01", "TOTAL"]
    assert second[3][-5:] == [""] * 5


def test_delays_json_for_chosen_branches(env: dict[str, str]) -> None:
    data = json.loads(
        run(env, "delays", "--format", "json", "--branch", "SH01", "--branch", "CD01")
    )
    assert data["report"] == "delays"
    assert [b["branch_code"] for b in data["branches"]] == ["CD01", "SH01"]
    assert data["group"]["reasons"] == {
        "finance_approval": 2,
        "hr_verification": 0,
        "bureau": 0,
        "bank": 1,
        "other": 0,
    }
    assert data["group"]["shares"]["finance_approval"] == "66.7"


def test_window_options(env: dict[str, str]) -> None:
    default = json.loads(run(env, "delays", "--format", "json"))
    this_month = default["last"]
    assert default["first"] < this_month
    only = json.loads(run(env, "delays", "--format", "json", "--from", this_month))
    assert (only["first"], only["last"]) == (this_month, this_month)
    assert only["group"]["months"] == 4


def test_costs_show_departments_and_this_months_joiner(env: dict[str, str]) -> None:
    data = json.loads(run(env, "costs", "--format", "json"))
    assert [d["branch_code"] for d in data["departments"]] == ["BJ01", "CD01", "GZ01", "SH01"]
    assert sum(float(d["share"]) for d in data["departments"]) == pytest.approx(100, abs=0.2)
    joiner = data["new_hires"][-1]
    assert (joiner["hires"], joiner["employer"]) == (1, "2340.00")  # 9000 × 26 %
    table = run(env, "costs")
    assert "employer cost per department" in table and "new-hire cost per month" in table


@pytest.mark.parametrize("report", ["durations", "escalations"])
def test_reports_with_nothing_to_count_still_print_their_tables(
    env: dict[str, str], report: str
) -> None:
    text = run(env, report, "--format", "csv")
    headers = [block.splitlines()[0] for block in text.split("\n\n")]
    assert headers[0].startswith("group," if report == "durations" else "branch_code,")
    assert json.loads(run(env, report, "--format", "json"))["report"] == report
    assert run(env, report).strip()


def test_help_names_the_options(env: dict[str, str]) -> None:
    text = run(env, "delays", "--help")
    assert all(option in text for option in ("--format", "--from", "--to", "--branch"))


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("delays", "--from", "2026-13"), 2, "--from"),
        (("costs", "--to", "soon"), 2, "--to"),
        (("durations", "--from", "2026-10", "--to", "2026-01"), 2, "after --to"),
        (("delays", "--format", "xml"), 2, "--format"),
        (("escalations", "--branch", "SH01", "--branch", "XX99"), 1, "no branch"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(
    env: dict[str, str], args: tuple[str, ...], code: int, says: str
) -> None:
    done = hrbot("report", *args, env=env)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr
    assert done.stdout == ""


def test_each_export_is_audited_with_the_operator_and_what_was_taken(
    env: dict[str, str],
) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(env["HRBOT_DATABASE_URL"])
    query = text("SELECT actor, channel, detail FROM audit_log WHERE action = 'report.export'")
    with engine.connect() as conn:
        before = len(conn.execute(query).all())
    run(env, "costs", "--format", "csv", "--branch", "SH01")
    with engine.connect() as conn:
        rows = conn.execute(query).all()
    engine.dispose()
    assert len(rows) == before + 1
    actor, channel, detail = rows[-1]
    assert actor.startswith("operator:") and channel == "cli"
    recorded = json.loads(detail)
    assert recorded["report"] == "costs" and recorded["format"] == "csv"
    assert recorded["branches"] == ["SH01"]
