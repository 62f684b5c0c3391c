"""``hrbot user add|list|token`` as an operator meets it: a real process on a migrated SQLite file
holding the demo organisation."""

from __future__ import annotations

import json

import pytest

from tests.cli_support import demo_env, hrbot

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    return demo_env(tmp_path_factory.mktemp("user-cli"))


def test_add_links_the_employee_and_never_prints_the_password(env: dict[str, str]) -> None:
    added = hrbot(
        "user",
        "add",
        "wangfang@example.com",
        "--role",
        "hr",
        "--password-stdin",
        env=env,
        input="a long secret phrase\n",
    )
    assert added.returncode == 0, added.stderr
    assert added.stdout.strip() == "account created: wangfang@example.com (王芳), role hr"
    assert "a long secret phrase" not in added.stdout + added.stderr
    listed = hrbot("user", "list", env=env)
    assert "wangfang@example.com\thr" in listed.stdout.splitlines()


def test_add_refuses_bad_input_with_one_line(env: dict[str, str]) -> None:
    role = hrbot("user", "add", "x@example.com", "--role", "boss", "--password-stdin", env=env)
    assert role.returncode == 2
    assert role.stderr.strip().startswith("hrbot: --role must be one of")
    mismatch = hrbot(
        "user",
        "add",
        "zhangsan@example.com",
        "--role",
        "finance",
        "--password-stdin",
        env=env,
        input="a long secret phrase\n",
    )
    assert mismatch.returncode == 1
    assert mismatch.stderr.strip() == "hrbot: E1001 is employee in the directory, not finance"
    short = hrbot(
        "user",
        "add",
        "root@example.com",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        input="short\n",
    )
    assert short.returncode == 1 and "at least 10 characters" in short.stderr
    assert "Traceback" not in role.stderr + mismatch.stderr + short.stderr


def test_token_is_printed_once_for_an_existing_account(env: dict[str, str]) -> None:
    hrbot(
        "user",
        "add",
        "root@example.com",
        "--role",
        "admin",
        "--password-stdin",
        env=env,
        input="a long secret phrase\n",
    )
    issued = hrbot("user", "token", "root@example.com", env=env)
    assert issued.returncode == 0, issued.stderr
    assert issued.stdout.startswith("hrb_") and len(issued.stdout.strip()) > 40
    missing = hrbot("user", "token", "nobody@example.com", env=env)
    assert missing.returncode == 1 and missing.stderr.startswith("hrbot: no account")


def test_seed_demo_gives_the_reports_a_past_and_demo_accounts(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    environment = demo_env(tmp_path_factory.mktemp("seed-demo"))
    assert hrbot("user", "list", env=environment).stdout == ""  # no accounts outside demo mode
    demo = environment | {"HRBOT_DEMO_MODE": "true"}
    again = hrbot("db", "seed-demo", env=demo)
    assert "demo dashboard accounts: 6 new" in again.stdout
    durations = hrbot("report", "durations", "--format", "json", env=environment)
    groups = {g["group"]: g for g in json.loads(durations.stdout)["groups"]}
    assert groups["normal"]["paid"] == 3 and groups["delayed"]["paid"] == 2
