"""/mydata: an employee's own data as a zip; nobody else's data in it; audited; once a day."""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from core.domain.audit import AuditEntry
from core.domain.directory import Employee
from core.domain.mydata import ExportTooSoon
from core.ports import ManualClock
from core.services.claims import approve_claim, claim_view, read_document, submit_claim
from core.services.consents import record_consent
from core.services.context import Context
from core.services.mydata import export_my_data
from tests.factories import (
    Org,
    add_employee,
    add_records,
    audit_trail,
    make_org,
    open_complete_claim,
)

MONTHS = ["2026-07", "2026-08", "2026-09", "2026-10"]


@dataclass
class People:
    org: Org
    other: Employee
    mine: int
    """Zhang San's claim, submitted and approved; HR has read one of its documents."""
    theirs: int
    """The other employee's claim."""


@pytest.fixture
def people(ctx: Context) -> People:
    org = make_org(ctx)
    other = add_employee(ctx, org.branch, "SH01-E777", "李雷", id_sequence=777)
    add_records(ctx, org.employee, MONTHS, unpaid=["2026-10"])
    add_records(ctx, other, MONTHS, unpaid=["2026-10"])
    mine = open_complete_claim(ctx, org.employee)
    submit_claim(ctx, mine, org.employee.id, channel="slack")
    approve_claim(ctx, mine, org.finance.id, Decimal("8650.00"), channel="slack")
    first = claim_view(ctx, mine).documents[0]
    read_document(ctx, first.id, org.hr.id, channel="web")
    theirs = open_complete_claim(ctx, other)
    with ctx.uow() as uow:  # as a stand-in's decision is audited (core/services/scope.py)
        uow.audit.add(
            AuditEntry(
                at=ctx.now(),
                action="claim.return",
                subject_kind="claim",
                subject_id=mine,
                actor_id=org.finance.id,
                actor=org.finance.employee_no,
                detail={"on_behalf_of": other.employee_no, "reason": "clearer scan please"},
            )
        )
        uow.commit()
    record_consent(ctx, org.employee.id, True, ctx.rules.medical_notice, channel="telegram")
    return People(org, other, mine, theirs)


def unpack(content: bytes) -> tuple[dict[str, Any], dict[str, bytes]]:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = archive.namelist()
        data = json.loads(archive.read("data.json"))
        files = {n: archive.read(n) for n in names if n != "data.json"}
    return data, files


def test_the_export_holds_the_askers_profile_contributions_claims_and_consents(
    ctx: Context, people: People
) -> None:
    me = people.org.employee
    made = export_my_data(ctx, me.id, channel="slack")
    assert made.filename == "hrbot-mydata-SH01-E001-20261012.zip"
    data, files = unpack(made.content)
    assert data["employee"]["employee_no"] == me.employee_no
    assert data["employee"]["id_number"] == me.id_number  # whole: the file goes only to them
    assert data["employee"]["branch"] == {"code": "SH01", "name": "上海分公司"}
    assert [c["period"] for c in data["contributions"]] == MONTHS
    assert data["contributions"][0]["employer_amount"] == "2650.50"
    (claim,) = data["claims"]
    assert (claim["state"], claim["amount"]) == ("approved", "8650.00")
    assert [d["kind"] for d in claim["documents"]] == [
        "admission_certificate",
        "itemized_bill",
        "id_copy",
    ]
    stored = {d.id: d for d in claim_view(ctx, people.mine).documents}
    for entry in claim["documents"]:
        assert files[entry["file"]] == ctx.documents.get(stored[entry["id"]].storage_key)
    assert made.documents == len(files) == 3
    assert [(c["granted"], c["channel"]) for c in data["consents"]] == [
        (True, "web"),  # the test organisation's own consent (tests/factories.py)
        (True, "telegram"),
    ]
    actions = [(a["action"], a["by"]) for a in data["audit"]]
    assert ("claim.submit", "you") in actions and ("claim.approve", "staff") in actions
    assert ("document.read", "staff") in actions  # who looked at their documents, as a role
    assert ("consent.grant", "you") in actions


def test_nobody_elses_data_is_in_the_export(ctx: Context, people: People) -> None:
    made = export_my_data(ctx, people.org.employee.id)
    data, files = unpack(made.content)
    text = json.dumps(data, ensure_ascii=False)
    other, org = people.other, people.org
    assert other.id_number is not None
    for theirs in (other.name, other.employee_no, other.id_number, f"C{people.theirs:06d}"):
        assert theirs not in text
    for staff in (org.hr, org.finance):  # staff act on the claim but are not named
        assert staff.name not in text and staff.employee_no not in text
    their_documents = {d.sha256 for d in claim_view(ctx, people.theirs).documents}
    mine = {entry["sha256"] for c in data["claims"] for entry in c["documents"]}
    assert not their_documents & mine
    assert all(name.startswith(f"documents/C{people.mine:06d}/") for name in files)
    subjects = {a["subject"] for a in data["audit"]}
    assert subjects == {f"employee:{org.employee.id}", f"claim:{people.mine}"}
    (returned,) = [a for a in data["audit"] if a["action"] == "claim.return"]
    assert returned["detail"] == {"reason": "clearer scan please"}


def test_the_export_is_audited(ctx: Context, people: People) -> None:
    me = people.org.employee
    export_my_data(ctx, me.id, channel="telegram")
    (row,) = [a for a in audit_trail(ctx, "employee", me.id) if a.action == "mydata.export"]
    assert (row.actor_id, row.channel, row.at) == (me.id, "telegram", ctx.now())
    assert row.detail == {"claims": 1, "documents": 3}


def test_one_export_a_day(ctx: Context, clock: ManualClock, people: People) -> None:
    me, other = people.org.employee, people.other
    export_my_data(ctx, me.id)
    clock.advance(timedelta(hours=23, minutes=59))
    with pytest.raises(ExportTooSoon) as early:
        export_my_data(ctx, me.id)
    assert early.value.params["next_at"] == (ctx.now() + timedelta(minutes=1)).isoformat()
    export_my_data(ctx, other.id)  # the limit is per person
    clock.advance(timedelta(minutes=1))
    export_my_data(ctx, me.id)
    exports = [a for a in audit_trail(ctx, "employee", me.id) if a.action == "mydata.export"]
    assert len(exports) == 2  # the refused one left no row


def test_an_employee_with_nothing_yet_gets_an_export_too(ctx: Context, people: People) -> None:
    newcomer = add_employee(ctx, people.org.branch, "SH01-E010", "新人", consent=False)
    data, files = unpack(export_my_data(ctx, newcomer.id).content)
    assert (data["claims"], data["contributions"], data["consents"], files) == ([], [], [], {})
    assert [a["action"] for a in data["audit"]] == []
