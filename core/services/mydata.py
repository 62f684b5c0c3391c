"""/mydata: an employee's own data as a zip (``data.json`` and their claim documents).

Only the asker's data goes in (core/domain/mydata.py says what and how others stay out); the
export is audited (``mydata.export``) and allowed once per ``Rules.export_every``, counted from
the audit trail so every process and restart agrees (two requests in the very same instant may
both pass: the limit is against abuse, not a lock). The zip is built in memory and handed to the
chat; hrbot keeps no copy of it.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from core.domain.claims import Claim, ClaimDocument
from core.domain.directory import Employee
from core.domain.mydata import FORMAT, ExportTooSoon, audit_entry, document_path, next_export_at
from core.domain.reports import jsonable
from core.services.common import audit
from core.services.context import Context

if TYPE_CHECKING:
    from core.persistence.uow import UnitOfWork

ACTION = "mydata.export"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024
"""Claim documents go in the zip up to this many bytes in all (chat platforms cap file sizes);
the rest are listed with ``"omitted": "too_large"`` and HR can hand them over."""


@dataclass(frozen=True)
class DataExport:
    filename: str
    content: bytes
    documents: int
    """Claim documents included as files."""
    content_type: str = "application/zip"


def export_my_data(ctx: Context, employee_id: int, channel: str | None = None) -> DataExport:
    """The person's own data; raises ``ExportTooSoon`` inside the allowed interval."""
    now = ctx.now()
    with ctx.uow() as uow:
        me = uow.directory.employee(employee_id)
        last = uow.privacy.last_action_at(ACTION, ("employee", me.id))
        allowed = next_export_at(last, ctx.rules.export_every)
        if allowed is not None and now < allowed:
            raise ExportTooSoon("one export a day: try again later", next_at=allowed.isoformat())
        claims = list(uow.claims.of_employee(me.id))
        documents = {c.id: list(uow.claims.documents(c.id)) for c in claims}
        data = _data(ctx, uow, me, claims, documents)
        files = _files(ctx, data, documents, claims)
        audit(
            uow,
            now,
            ACTION,
            ("employee", me.id),
            me,
            channel=channel,
            claims=len(claims),
            documents=len(files),
        )
        content = _zip(data, files, now.astimezone(ctx.rules.timezone).timetuple()[:6])
        uow.commit()
    stamp = now.astimezone(ctx.rules.timezone).strftime("%Y%m%d")
    return DataExport(f"hrbot-mydata-{me.employee_no}-{stamp}.zip", content, len(files))


def _data(
    ctx: Context,
    uow: UnitOfWork,
    me: Employee,
    claims: list[Claim],
    documents: dict[int, list[ClaimDocument]],
) -> dict[str, Any]:
    branch = uow.directory.branch(me.branch_id)
    subjects = [("employee", me.id)] + [("claim", c.id) for c in claims]
    subjects += [("handoff", h["id"]) for h in uow.privacy.handoffs_of(me.id)]
    return {
        "format": FORMAT,
        "exported_at": ctx.now(),
        "employee": {
            "employee_no": me.employee_no,
            "name": me.name,
            "id_number": me.id_number,
            "branch": {"code": branch.code, "name": branch.name},
            "department": uow.privacy.department_name(me.department_id),
            "role": me.role,
            "email": me.email,
            "phone": me.phone,
            "slack_user_id": me.slack_user_id,
            "telegram_user_id": me.telegram_user_id,
            "locale": me.locale,
            "hire_date": me.hire_date,
            "leave_date": me.leave_date,
            "contribution_base": me.contribution_base,
        },
        "contributions": [
            {
                "period": r.period,
                "base": r.base,
                "employer_amount": r.employer_amount,
                "employee_amount": r.employee_amount,
                "due_date": r.due_date,
                "paid_date": r.paid_date,
                "delay_reason": r.delay_reason,
            }
            for r in uow.contributions.for_employee(me.id)
        ],
        "claims": [_claim(c, documents[c.id]) for c in claims],
        "records": [
            {"kind": r.kind, "filename": r.filename, "period": r.period, "filed_at": r.filed_at}
            for r in uow.records.of_employee(me.id)
        ],
        "consents": [
            {
                "kind": c.kind,
                "notice_version": c.notice_version,
                "granted": c.granted,
                "at": c.at,
                "channel": c.channel,
            }
            for c in uow.privacy.consents_of(me.id)
        ],
        "questions": [
            {k: v for k, v in h.items() if k != "id"} for h in uow.privacy.handoffs_of(me.id)
        ],
        "audit": [
            audit_entry(
                row.at,
                row.action,
                (row.subject_kind, row.subject_id),
                row.actor_id,
                (row.from_state, row.to_state),
                row.channel,
                row.detail or {},
                me.id,
            )
            for row in uow.privacy.audit_about(subjects)
        ],
    }


def _claim(claim: Claim, documents: list[ClaimDocument]) -> dict[str, Any]:
    return {
        "reference": claim.reference,
        "claim_type": claim.claim_type,
        "state": claim.state,
        "amount": claim.amount,
        "hold_reason": claim.hold_reason,
        "decision_reason": claim.decision_reason,
        "created_at": claim.created_at,
        "submitted_at": claim.submitted_at,
        "decided_at": claim.decided_at,
        "paid_at": claim.paid_at,
        "payout_reference": claim.payout_reference,
        "documents": [
            {
                "id": d.id,
                "kind": d.kind,
                "filename": d.filename,
                "content_type": d.content_type,
                "size": d.size,
                "sha256": d.sha256,
                "uploaded_at": d.uploaded_at,
                "file": None,
            }
            for d in documents
        ],
    }


def _files(
    ctx: Context,
    data: dict[str, Any],
    documents: dict[int, list[ClaimDocument]],
    claims: list[Claim],
) -> dict[str, bytes]:
    """The documents' bytes by path in the zip, within the size budget; each document's entry
    in ``data`` says where its file is, or why it is not there."""
    files: dict[str, bytes] = {}
    budget = MAX_DOCUMENT_BYTES
    for claim, shown in zip(claims, data["claims"], strict=True):
        for document, entry in zip(documents[claim.id], shown["documents"], strict=True):
            if document.size > budget:
                entry["omitted"] = "too_large"
                continue
            try:
                content = ctx.documents.get(document.storage_key)
            except FileNotFoundError:
                entry["omitted"] = "missing"
                continue
            path = document_path(claim.reference, document.id, document.kind, document.content_type)
            files[path], entry["file"] = content, path
            budget -= len(content)
    return files


def _zip(data: dict[str, Any], files: dict[str, bytes], stamp: Any) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        text = json.dumps(jsonable(data), ensure_ascii=False, indent=2, sort_keys=True)
        deflate = zipfile.ZIP_DEFLATED
        archive.writestr(zipfile.ZipInfo("data.json", stamp), text.encode(), deflate)
        for path, content in sorted(files.items()):
            archive.writestr(zipfile.ZipInfo(path, stamp), content, deflate)
    return buffer.getvalue()
