"""ID numbers and phone numbers at rest: ciphertext in the table, plain text to the code.

Checked on the raw rows (what a stolen database file shows), through the ORM and Core writes
the code uses, across a key rotation, with the wrong key, and through migration 0013 itself.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, bindparam, text, update
from sqlalchemy.exc import IntegrityError

from bot.cli import main
from core.domain.directory import Employee
from core.encryption import TEXT_PREFIX, EncryptionKeyError, Keyring
from core.encryption_keys import current_keyring, install_keyring, keyring_from
from core.persistence import tables as t
from core.persistence.engine import make_engine
from core.persistence.migrate import alembic_config, upgrade
from core.services.context import Context
from tests.factories import Org, consent_all, make_org, open_complete_claim

OLD = "old-key-for-tests-0123456789abcdefghij"  # pragma: allowlist secret
NEW = "new-key-for-tests-0123456789abcdefghij"  # pragma: allowlist secret
ID_NUMBER = "110105199005170012"
PHONE = "13912345678"

UseKeys = Callable[[str], Keyring]


@pytest.fixture
def use_keys() -> Iterator[UseKeys]:
    """Switch the process's keys as ``HRBOT_ENCRYPTION_KEY`` would; the old ones come back."""
    previous = current_keyring()

    def use(setting: str) -> Keyring:
        ring = keyring_from(setting)
        install_keyring(ring)
        return ring

    yield use
    install_keyring(previous)


@pytest.fixture
def org(ctx: Context) -> Org:
    return make_org(ctx)


def person(ctx: Context, org: Org, number: str = "E900", id_number: str = ID_NUMBER) -> Employee:
    with ctx.uow() as uow:
        employee = Employee(
            employee_no=number,
            name="测试",
            branch_id=org.branch.id,
            hire_date=date(2024, 1, 1),
            id_number=id_number,
            phone=PHONE,
        )
        uow.directory.add(employee)
        uow.commit()
        return employee


def raw(ctx: Context, employee_id: int) -> dict[str, str | None]:
    with ctx.uow() as uow:
        row = uow.session.execute(
            text("SELECT id_number, phone, id_number_hash FROM employees WHERE id = :id"),
            {"id": employee_id},
        ).one()
        return dict(row._mapping)


def test_the_table_holds_ciphertext_and_the_code_reads_plain_text(ctx: Context, org: Org) -> None:
    employee = person(ctx, org)
    stored = raw(ctx, employee.id)
    ring = current_keyring()
    for name in ("id_number", "phone"):
        assert str(stored[name]).startswith(f"{TEXT_PREFIX}{ring.primary.name}:")
    assert ID_NUMBER not in str(stored) and PHONE not in str(stored)
    assert stored["id_number_hash"] == ring.blind_index(ID_NUMBER)
    with ctx.uow() as uow:
        again = uow.directory.employee(employee.id)
        assert (again.id_number, again.phone) == (ID_NUMBER, PHONE)


def test_the_blind_index_finds_the_employee_and_keeps_id_numbers_unique(
    ctx: Context, org: Org
) -> None:
    employee = person(ctx, org)
    with ctx.uow() as uow:
        found = uow.directory.employee_by_id_number(ID_NUMBER)
        assert found is not None and found.id == employee.id
        assert uow.directory.employee_by_id_number("11010519491231002X") is None
    with pytest.raises(IntegrityError):
        person(ctx, org, "E901")


def test_core_writes_and_clearing_keep_the_hash_in_step(ctx: Context, org: Org) -> None:
    """The import's executemany and a purge's ``.values(id_number=None)`` alike."""
    employee = person(ctx, org)
    other = "11010519491231002X"
    with ctx.uow() as uow:
        statement = t.employees.update().where(t.employees.c.id == bindparam("row_id"))
        uow.session.connection().execute(statement, [{"row_id": employee.id, "id_number": other}])
        uow.commit()
    assert raw(ctx, employee.id)["id_number_hash"] == current_keyring().blind_index(other)
    with ctx.uow() as uow:
        found = uow.directory.employee_by_id_number(other)
        assert found is not None and found.id == employee.id
        cleared = update(t.employees).where(t.employees.c.id == employee.id)
        uow.session.execute(cleared.values(id_number=None, phone=None))
        uow.commit()
    assert raw(ctx, employee.id) == {"id_number": None, "phone": None, "id_number_hash": None}


def test_a_wrong_key_is_a_clear_error_never_a_garbage_read(
    ctx: Context, org: Org, use_keys: UseKeys
) -> None:
    use_keys(OLD)
    employee = person(ctx, org)
    ctx.documents.put("claims/1/scan.pdf", b"%PDF-1.4 diagnosis")
    use_keys(NEW)
    with ctx.uow() as uow, pytest.raises(EncryptionKeyError, match="HRBOT_ENCRYPTION_KEY"):
        uow.directory.employee(employee.id)
    with pytest.raises(EncryptionKeyError, match="HRBOT_ENCRYPTION_KEY"):
        ctx.documents.get("claims/1/scan.pdf")


def test_after_a_rotation_the_old_key_still_decrypts_and_finds(
    ctx: Context, org: Org, use_keys: UseKeys
) -> None:
    use_keys(OLD)
    employee = person(ctx, org)
    ctx.documents.put("claims/1/scan.pdf", b"%PDF-1.4 old")
    rotated = use_keys(f"{NEW},{OLD}")
    with ctx.uow() as uow:
        again = uow.directory.employee(employee.id)
        assert (again.id_number, again.phone) == (ID_NUMBER, PHONE)
        found = uow.directory.employee_by_id_number(ID_NUMBER)  # hashed under the old key
        assert found is not None and found.id == employee.id
        again.phone = "13800000000"
        uow.commit()
    assert ctx.documents.get("claims/1/scan.pdf") == b"%PDF-1.4 old"
    assert str(raw(ctx, employee.id)["phone"]).startswith(f"{TEXT_PREFIX}{rotated.primary.name}:")


def _rows(engine: Engine) -> dict[str, str | None]:
    with engine.connect() as connection:
        names = {c.name for c in connection.exec_driver_sql("PRAGMA table_info(employees)")}
        query = "SELECT id_number, phone FROM employees"
        if "id_number_hash" in names:
            query = "SELECT id_number, phone, id_number_hash FROM employees"
        return dict(connection.exec_driver_sql(query).one()._mapping)


def test_the_migration_encrypts_on_upgrade_and_decrypts_on_downgrade(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'migrate.db'}")
    try:
        upgrade(engine, "0012")
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "INSERT INTO branches (code, name, city, region, due_day) "
                "VALUES ('SH01', '上海分公司', '', '', 15)"
            )
            connection.execute(
                text(
                    "INSERT INTO employees (employee_no, name, id_number, phone, branch_id, "
                    "role, hire_date) VALUES ('E1', '张三', :id_number, :phone, 1, 'employee', "
                    "'2024-03-01')"
                ),
                {"id_number": ID_NUMBER, "phone": PHONE},
            )
        upgrade(engine, "0013")
        encrypted = _rows(engine)
        assert str(encrypted["id_number"]).startswith(TEXT_PREFIX)
        assert str(encrypted["phone"]).startswith(TEXT_PREFIX)
        assert ID_NUMBER not in str(encrypted) and PHONE not in str(encrypted)
        assert encrypted["id_number_hash"] == current_keyring().blind_index(ID_NUMBER)
        config = alembic_config(engine.url.render_as_string(hide_password=False))
        with engine.begin() as connection:
            config.attributes["connection"] = connection
            command.downgrade(config, "0012")
        assert _rows(engine) == {"id_number": ID_NUMBER, "phone": PHONE}
    finally:
        engine.dispose()


@pytest.fixture
def wrong_key(
    ctx: Context, org: Org, engine: Engine, use_keys: UseKeys, monkeypatch: pytest.MonkeyPatch
) -> str:
    """E900 sealed with OLD, and a command line whose environment holds only NEW; OLD's id."""
    old_id = use_keys(OLD).primary.name
    person(ctx, org)
    monkeypatch.setenv("HRBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HRBOT_ENCRYPTION_KEY", NEW)
    return old_id


def test_the_cli_names_the_setting_in_one_line(
    wrong_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["status", "E900"])
    assert exited.value.code == 1
    said = capsys.readouterr().err
    assert said.startswith("hrbot: cannot decrypt") and "HRBOT_ENCRYPTION_KEY" in said
    assert len(said.strip().splitlines()) == 1  # no traceback


def test_rotation_seals_everything_under_the_new_key_so_the_old_one_can_go(
    ctx: Context,
    org: Org,
    engine: Engine,
    tmp_path: Path,
    use_keys: UseKeys,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    old = os.environ["HRBOT_ENCRYPTION_KEY"]  # the suite's key sealed the organisation
    someone = person(ctx, org)
    consent_all(ctx)
    claim_id = open_complete_claim(ctx, someone)  # its documents are sealed with the old key
    with ctx.uow() as uow:
        documents = uow.claims.documents(claim_id)
        sealed = uow.session.scalar(
            text("SELECT count(*) FROM employees WHERE id_number IS NOT NULL OR phone IS NOT NULL")
        )
    assert documents and sealed
    monkeypatch.setenv("HRBOT_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("HRBOT_DOCUMENTS_DIR", str(tmp_path / "documents"))
    monkeypatch.setenv("HRBOT_ENCRYPTION_KEY", f"{NEW},{old}")
    before = raw(ctx, someone.id)

    with pytest.raises(SystemExit) as exited:
        main(["keys", "rotate", "--dry-run"])
    assert exited.value.code == 0
    said = capsys.readouterr().out
    assert f"{sealed} people (ID/mobile numbers), {len(documents)} documents" in said
    assert raw(ctx, someone.id) == before  # a dry run changes nothing

    with pytest.raises(SystemExit) as exited:
        main(["keys", "rotate"])
    assert exited.value.code == 0
    said = capsys.readouterr().out
    assert f"sealed again: {sealed} people (ID/mobile numbers), {len(documents)} documents" in said
    assert ID_NUMBER not in said and PHONE not in said

    # The old key is gone: everything still opens and the ID number is still found.
    use_keys(NEW)
    with ctx.uow() as uow:
        found = uow.directory.employee_by_id_number(ID_NUMBER)
        assert found is not None and found.id == someone.id and found.phone == PHONE
        assert len([e for e in uow.audit.all() if e.action == "keys.rotate"]) == 1
    for document in documents:
        assert ctx.documents.get(document.storage_key)

    monkeypatch.setenv("HRBOT_ENCRYPTION_KEY", NEW)
    with pytest.raises(SystemExit) as exited:
        main(["keys", "rotate"])  # again: nothing left to do
    assert exited.value.code == 0
    assert "sealed again: 0 people (ID/mobile numbers), 0 documents" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_serve_and_worker_refuse_to_start_without_the_key_that_sealed_the_data(
    command: str, wrong_key: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Started with the wrong key, a process would run and fail every turn about these people,
    each employee left without an answer: it stops at once and says which key is missing."""
    with pytest.raises(SystemExit) as exited:
        main([command])
    assert exited.value.code == 2
    said = capsys.readouterr().err
    assert said.startswith("hrbot: stored ID and mobile numbers were sealed with keys ")
    assert wrong_key in said  # and the suite's key, which sealed the organisation
    assert "HRBOT_ENCRYPTION_KEY" in said and len(said.strip().splitlines()) == 1


def test_the_start_check_finds_every_key_in_use_and_only_those(
    ctx: Context, org: Org, use_keys: UseKeys
) -> None:
    from core.services.keys import missing_keys

    suite_key = os.environ["HRBOT_ENCRYPTION_KEY"]  # it sealed the organisation's people
    suite = current_keyring().primary.name
    old = use_keys(OLD).primary.name
    person(ctx, org)
    new = use_keys(NEW).primary.name
    person(ctx, org, number="E901", id_number="110105199005170039")
    assert missing_keys(ctx) == sorted([old, suite])  # NEW sealed E901 only
    use_keys(f"{NEW},{OLD},{suite_key}")
    assert missing_keys(ctx) == []  # mid-rotation: every key in hand
    use_keys(f"{OLD},{suite_key}")
    assert missing_keys(ctx) == [new]
