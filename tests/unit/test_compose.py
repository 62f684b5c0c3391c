"""``docker-compose.yml`` names only what exists: images built from the project's Dockerfile or
official ones we chose, ``hrbot`` commands and options the CLI has, ``HRBOT_`` variables that are
settings; every app process shares the documents volume and web processes leave the work to the
workers. No Docker needed: the file is read as YAML and checked against the code."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import typer

from bot.cli import app
from bot.settings import Settings

yaml = pytest.importorskip("yaml")  # PyYAML comes with the test extras (schemathesis)

ROOT = Path(__file__).resolve().parents[2]
OFFICIAL_IMAGES = {"postgres:16"}
INTERPOLATED = re.compile(r"\$\{(HRBOT_[A-Z0-9_]+)")


def load() -> dict[str, Any]:
    return dict(yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8")))


def command_problem(argv: list[str]) -> str | None:
    """Why ``hrbot *argv`` would not start, as click would say it; None when it parses."""
    # Typer carries its own click: groups are told by their sub-commands, errors by TyperException.
    command: Any = typer.main.get_command(app)
    words = list(argv)
    while hasattr(command, "commands"):
        if not words or words[0].startswith("-"):
            return f"`hrbot {' '.join(argv)}` names no command"
        sub = command.commands.get(words[0])
        if sub is None:
            return f"hrbot has no command {words[0]!r}"
        command = sub
        words.pop(0)
    try:
        command.make_context(command.name or "hrbot", words)  # parses, never runs
    except typer.TyperException as error:
        return f"`hrbot {' '.join(argv)}`: {error.format_message()}"
    return None


def variables(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        environment = dict(item.partition("=")[::2] for item in environment)
    return {str(k): str(v) for k, v in environment.items()}


def is_built(service: dict[str, Any]) -> bool:
    return "build" in service


def image_problem(service: dict[str, Any]) -> str | None:
    if is_built(service):
        build = service["build"]
        context = build if isinstance(build, str) else build.get("context", ".")
        dockerfile = (
            "Dockerfile" if isinstance(build, str) else build.get("dockerfile", "Dockerfile")
        )
        if (ROOT / context / dockerfile).resolve() != ROOT / "Dockerfile":
            return f"built from {context}/{dockerfile}, not the project's Dockerfile"
        if "entrypoint" in service:
            return "overrides the image's `hrbot` entrypoint"
        return None
    if service.get("image") not in OFFICIAL_IMAGES:
        return f"image {service.get('image')!r} is neither built here nor allowed"
    return None


def app_problems(name: str, service: dict[str, Any], compose: dict[str, Any]) -> list[str]:
    """A long-running hrbot process: shares the documents, waits for the migration."""
    found = []
    documents = Path(variables(service).get("HRBOT_DOCUMENTS_DIR", "-"))
    mounts = [str(v).split(":") for v in service.get("volumes", [])]
    shared = [
        source
        for source, target, *_ in mounts
        if source in (compose.get("volumes") or {}) and documents.is_relative_to(target)
    ]
    if not shared:
        found.append(f"{name}: no named volume holds HRBOT_DOCUMENTS_DIR {documents}")
    depends = service.get("depends_on") or {}
    migrations = [
        other
        for other, condition in depends.items()
        if compose["services"][other].get("command") == ["db", "upgrade"]
        and condition.get("condition") == "service_completed_successfully"
    ]
    if not migrations:
        found.append(f"{name}: does not wait for `hrbot db upgrade` to complete")
    command = service["command"]
    if command[0] == "serve":
        if "--no-worker" not in command:
            found.append(f"{name}: a web process of a fleet runs with --no-worker")
        if "/readyz" not in str(service.get("healthcheck", {}).get("test")):
            found.append(f"{name}: its health check does not ask /readyz")
    return found


def problems(compose: dict[str, Any]) -> list[str]:
    found: list[str] = []
    fields = Settings.model_fields
    for name, service in compose["services"].items():
        if problem := image_problem(service):
            found.append(f"{name}: {problem}")
        used = set(variables(service)) | set(INTERPOLATED.findall(str(service)))
        found += [
            f"{name}: {variable} is no setting"
            for variable in sorted(used)
            if variable.startswith("HRBOT_")
            and variable.removeprefix("HRBOT_").lower() not in fields
        ]
        if not is_built(service):
            continue
        command = service.get("command")
        if not isinstance(command, list) or not command:
            found.append(f"{name}: no command list")
            continue
        if problem := command_problem([str(word) for word in command]):
            found.append(f"{name}: {problem}")
        elif command[0] in ("serve", "worker"):
            found += app_problems(name, service, compose)
    return found


def test_the_compose_file_names_only_what_exists() -> None:
    assert problems(load()) == []


def test_the_fleet_is_two_web_processes_and_two_workers_over_postgres() -> None:
    services = load()["services"]
    commands = [s.get("command", [None])[0] for s in services.values()]
    assert commands.count("serve") == 2
    assert commands.count("worker") == 2
    assert commands.count("db") == 1  # the one-shot migration
    assert services["postgres"]["image"] == "postgres:16"
    for service in filter(is_built, services.values()):
        url = variables(service)["HRBOT_DATABASE_URL"]
        assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url


def _set(service: str, key: str, value: Any) -> Any:
    def mutate(compose: dict[str, Any]) -> None:
        compose["services"][service] = copy.deepcopy(compose["services"][service])
        compose["services"][service][key] = value

    return mutate


def _add_variable(compose: dict[str, Any]) -> None:
    web = compose["services"]["web1"] = copy.deepcopy(compose["services"]["web1"])
    web["environment"]["HRBOT_DATABASE_URI"] = "sqlite://"


WORKER = ["worker", "--log-json"]


@pytest.mark.parametrize(
    ("mutate", "says"),
    [
        (_set("web1", "command", ["serve", "--no-workers"]), "No such option"),
        (_set("web1", "command", ["serve", "--host", "0.0.0.0"]), "--no-worker"),
        (_set("worker2", "command", ["work"]), "no command 'work'"),
        (_set("migrate", "command", ["db", "migrate"]), "no command 'migrate'"),
        (_set("worker1", "command", ["worker", "--interval", "soon"]), "soon"),
        (_add_variable, "HRBOT_DATABASE_URI is no setting"),
        (_set("postgres", "image", "postgres:latest"), "neither built here nor allowed"),
        (_set("worker2", "volumes", []), "no named volume"),
        (_set("web2", "depends_on", {"postgres": {"condition": "service_healthy"}}), "db upgrade"),
        (_set("web2", "healthcheck", {"test": ["CMD", "true"]}), "/readyz"),
        (_set("worker1", "entrypoint", ["sh", "-c"]), "entrypoint"),
    ],
)
def test_the_checks_catch_a_mistake(mutate: Any, says: str) -> None:
    compose = load()
    mutate(compose)
    found = problems(compose)
    assert any(says in problem for problem in found), found
