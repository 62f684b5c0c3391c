"""``hrbot roster build|show`` as an operator meets it: a real process on a migrated SQLite file
holding the demo organisation."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest

from bot.roster_cli import outcome_line
from core.domain.periods import Period
from core.services.roster import RosterOutcome
from tests.cli_support import demo_env, hrbot

# The demo organisation holds twelve months up to this one; two months ahead is always free.
AHEAD = str(Period.of(date.today()).shift(2))
PAST = str(Period.of(date.today()).shift(-6))


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return demo_env(tmp_path_factory.mktemp("roster-cli"))


def test_build_creates_every_branch_then_changes_nothing(env: dict[str, str]) -> None:
    first = hrbot("roster", "build", "--period", AHEAD, env=env)
    assert first.returncode == 0, first.stderr
    lines = first.stdout.splitlines()
    assert [line.split()[:2] for line in lines] == [
        ["BJ01", "created"],
        ["CD01", "created"],
        ["GZ01", "created"],
        ["SH01", "created"],
    ]
    assert all("增员" in line and "减员" in line and "转移" in line for line in lines)
    again = hrbot("roster", "build", "--period", AHEAD, "--json", env=env)
    assert again.returncode == 0, again.stderr
    data = json.loads(again.stdout)
    assert data["period"] == AHEAD
    assert {b["branch"]: b["action"] for b in data["branches"]} == {
        "BJ01": "unchanged",
        "CD01": "unchanged",
        "GZ01": "unchanged",
        "SH01": "unchanged",
    }
    shown = hrbot("roster", "show", "--period", AHEAD, "--branch", "SH01", env=env)
    assert shown.returncode == 0, shown.stderr
    (line,) = shown.stdout.splitlines()
    assert line.startswith("SH01") and "draft" in line and "7 people" in line


def test_approved_months_are_kept(env: dict[str, str]) -> None:
    done = hrbot("roster", "build", "--period", PAST, "--branch", "CD01", env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[:2] == ["CD01", "kept"]


def test_a_kept_batch_says_how_far_it_is_from_the_directory() -> None:
    kept = RosterOutcome("SH01", "kept", 9, 7, Decimal("38617.00"), differences=2)
    assert outcome_line(kept).endswith("2 lines differ — approved batches are never changed")
    assert "differ" not in outcome_line(RosterOutcome("SH01", "kept", 9, 7, Decimal("1")))


@pytest.mark.parametrize(
    ("args", "code", "says"),
    [
        (("roster", "build", "--period", "2026-13"), 2, "--period"),
        (("roster", "build", "--period", "11/2026"), 2, "--period"),
        (("roster", "build"), 2, "--period"),
        (("roster", "show", "--period", "soon"), 2, "--period"),
        (("roster", "build", "--period", "2026-11", "--branch", "XX99"), 1, "no branch"),
        (("roster", "show", "--period", "2026-11", "--branch", "XX99"), 1, "no branch"),
    ],
)
def test_bad_input_gets_one_line_and_an_exit_code(
    env: dict[str, str], args: tuple[str, ...], code: int, says: str
) -> None:
    done = hrbot(*args, env=env)
    assert done.returncode == code, done.stderr
    assert says in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("command", [("worker",), ("roster", "show", "--period", "2026-11")])
def test_gateway_settlement_without_its_urls_refuses_to_start(
    env: dict[str, str], command: tuple[str, ...]
) -> None:
    done = hrbot(*command, env=env | {"HRBOT_SETTLEMENT": "gateway"})
    assert done.returncode == 2
    assert "HRBOT_BUREAU_GATEWAY_URL" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
