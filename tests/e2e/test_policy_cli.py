"""``hrbot policy show|set`` as an operator meets it: a real process on a migrated SQLite file
holding the demo organisation (whose past alerts started under the settings' policy)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.cli_support import demo_env, hrbot

pytestmark = pytest.mark.slow

SETTINGS_LEVELS = "hr:0h,hr_manager:24h,hr_director:48h"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Shared by the tests that store nothing."""
    return demo_env(tmp_path_factory.mktemp("policy-cli"))


@pytest.fixture
def fresh_env(tmp_path: Path) -> dict[str, str]:
    return demo_env(tmp_path)


def shown(env: dict[str, str]) -> dict[str, object]:
    answer = hrbot("policy", "show", "--json", env=env)
    assert answer.returncode == 0, answer.stderr
    data: dict[str, object] = json.loads(answer.stdout)
    return data


def test_show_names_the_levels_their_source_and_the_history(env: dict[str, str]) -> None:
    answer = hrbot("policy", "show", env=env)

    assert answer.returncode == 0, answer.stderr
    out = answer.stdout
    assert "policy default, version 1, from settings" in out
    assert "人事经理 HR manager" in out and "24 小时 · 24 h" in out
    assert "人事总监 HR director" in out and "立即 · at once" in out
    assert "the last level 2 more time(s), every 24h" in out
    assert f"text     {SETTINGS_LEVELS}" in out
    assert "v1  settings 设置" in out
    data = shown(env)
    assert data["source"] == "settings" and data["text"] == SETTINGS_LEVELS
    assert data["repeat"] == 2 and data["interval"] == "24h"
    levels = data["levels"]
    assert isinstance(levels, list)
    assert [(lvl["role"], lvl["role_zh"], lvl["delay"]) for lvl in levels] == [
        ("hr", "人事专员", "0h"),
        ("hr_manager", "人事经理", "24h"),
        ("hr_director", "人事总监", "48h"),
    ]


def test_set_stores_a_new_version_that_show_then_reports(fresh_env: dict[str, str]) -> None:
    env = fresh_env
    alerts_before = shown(env)["history"]
    assert isinstance(alerts_before, list) and alerts_before[0]["alerts"] > 0

    answer = hrbot(
        "policy",
        "set",
        "--levels",
        "hr:0wh,hr_manager:8wh,hr_director:16wh",
        "--repeat",
        "1",
        "--note",
        "working hours",
        "--by",
        "ops@example.com",
        env=env,
    )

    assert answer.returncode == 0, answer.stderr
    assert answer.stdout.startswith("policy default: version 2 saved (was 1)")
    assert "8 个工作小时 · 8 working hours" in answer.stdout
    assert "alerts already open keep their version" in answer.stdout
    data = shown(env)
    assert (data["source"], data["version"]) == ("edited", 2)
    assert data["text"] == "hr:0wh,hr_manager:8wh,hr_director:16wh"
    assert data["repeat"] == 1
    history = data["history"]
    assert isinstance(history, list)
    assert [(v["version"], v["source"], v["edited_by"]) for v in history] == [
        (1, "settings", None),
        (2, "edited", "ops@example.com"),
    ]
    assert history[0]["alerts"] == alerts_before[0]["alerts"]  # old alerts keep version 1
    assert history[1]["alerts"] == 0 and history[1]["note"] == "working hours"
    text = hrbot("policy", "show", env=env).stdout
    assert 'ops@example.com "working hours"  0 alerts' in text


def test_a_refused_edit_exits_1_with_the_reason_and_stores_nothing(env: dict[str, str]) -> None:
    before = shown(env)
    cases = {
        ("--levels", SETTINGS_LEVELS): "hrbot: nothing changed: that is the current policy",
        ("--levels", "hr:0h,finance:24h"): (
            "hrbot: level 2: finance is not an HR role; escalations go to hr, hr_manager or "
            "hr_director"
        ),
        ("--levels", "hr:0h,hr_manager:24wh"): "hrbot: every level counts in the same unit",
        ("--levels", "hr:0h", "--repeat", "11"): "hrbot: repeat must be 0 to 10, got 11",
    }
    for args, message in cases.items():
        answer = hrbot("policy", "set", *args, env=env)
        assert answer.returncode == 1, args
        assert answer.stderr.startswith(message), answer.stderr
        assert len(answer.stderr.strip().splitlines()) == 1 and answer.stdout == ""
    assert shown(env) == before


def test_bad_usage_exits_2(env: dict[str, str]) -> None:
    missing = hrbot("policy", "set", env=env)
    assert missing.returncode == 2 and "--levels" in missing.stderr
    not_a_number = hrbot("policy", "set", "--levels", "hr:0h", "--repeat", "many", env=env)
    assert not_a_number.returncode == 2
    assert "Traceback" not in missing.stderr + not_a_number.stderr
    helped = hrbot("policy", "--help", env=env)
    assert helped.returncode == 0 and "show" in helped.stdout and "set" in helped.stdout
