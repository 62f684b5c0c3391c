"""Imports from the dashboard: upload a CSV or XLSX file, read the dry run's report, confirm.

Only admins and HR directors (``Viewer.may_import``). The check reads the upload with a hard cap
while the bytes arrive (Content-Length is only a hint), saves it under ``uploads_dir`` with a random
name and mode 0600 (a folder never served), and runs the import as a dry run. A clean file gets a
confirmation form carrying a signed token (stored name, kind, account; good for
``IMPORT_MAX_AGE``); confirming runs the import for real, all rows or none, and deletes the file
whatever happens. A file with issues is deleted at once. Reports are worded by
``Dashboard.import_texts`` (the command line's catalogs), in Chinese and English.
"""

import math
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse

from adapters.web.dashboard.auth import Viewer, check_csrf
from adapters.web.dashboard.common import Runtime, error_page, page_viewer, render
from adapters.web.dashboard.import_upload import (
    STORED,
    Refused,
    UploadForm,
    claim,
    read_small_form,
    read_upload,
    size_text,
    store,
)
from adapters.web.dashboard.runtime import IMPORT_MAX_AGE, Dashboard
from core.domain.errors import DomainError
from core.imports.base import ImportOptions
from core.imports.columns import SCHEMAS
from core.imports.report import ImportResult, Issue
from core.imports.run import run_import
from core.imports.sources import SourceError
from core.services import accounts

KINDS = {
    "employees": ("员工", "Employees"),
    "contributions": ("缴费记录", "Contributions"),
    "budgets": ("预算", "Budgets"),
}
SUFFIXES = (".csv", ".xlsx")
ISSUES_SHOWN = 200

DENIED = "只有管理员和 HR 总监可以导入 · Only admins and HR directors may import"
EXPIRED = (
    "导入确认无效、已过期或不属于您，请重新上传文件 · "
    "This confirmation is invalid, expired or not yours: upload the file again"
)
GONE = (
    "这个文件已经导入过或已失效，请重新上传 · "
    "This upload was already used or has expired: upload it again"
)
NO_FILE = "请选择一个 CSV 或 XLSX 文件 · Choose a CSV or XLSX file"
BAD_SUFFIX = (
    "只接受 .csv 或 .xlsx 文件（旧版 .xls 请另存为 .xlsx），未保存任何内容 · "
    "Only .csv or .xlsx files (save an old .xls as .xlsx): nothing was stored"
)
BAD_KIND = "请选择导入类型 · Choose what the file holds"
CHANGED = (
    "确认前数据已有变化，文件现在有以下错误，未写入任何数据 · "
    "The data changed since the check: the file now has the errors below, nothing was written"
)
SAMPLE_TITLE = (
    "抽样核对：随机 {count} 行，按将要保存的样子显示，请与原文件逐项对照",
    "Sample review: {count} random rows as they will be stored; compare each with the file",
)
MORE_ISSUES = "……另有 {count} 个错误未在此列出 · … and {count} more errors not listed here"


# Wording -----------------------------------------------------------------------------------


class _Codes:
    """Stand-in wording when no catalog was passed in: the stable codes themselves."""

    def __init__(self, _locale: str) -> None:
        pass

    def __call__(self, key: str, **_params: Any) -> str:
        return key

    def reason(self, issue: Issue) -> str:
        return issue.code

    def field(self, name: str) -> str:
        return name


class Wording:
    """The import catalogs in both languages: each text as a (中文, English) pair."""

    def __init__(self, web: Dashboard) -> None:
        make = web.import_texts or _Codes
        self.both = (make("zh-CN"), make("en"))

    def __call__(self, key: str, kind: str = "", **params: Any) -> tuple[str, str]:
        zh, en = (
            t(key, **params, **({"kind": t(f"kind.{kind}")} if kind else {})) for t in self.both
        )
        return zh, en

    def line(self, key: str, kind: str = "", **params: Any) -> str:
        return " · ".join(self(key, kind, **params))

    def reason(self, issue: Issue) -> tuple[str, str]:
        return self.both[0].reason(issue), self.both[1].reason(issue)

    def field(self, name: str) -> tuple[str, str]:
        return self.both[0].field(name), self.both[1].field(name)

    def refusal(self, error: DomainError) -> str:
        key = f"source.{error.reason}" if isinstance(error, SourceError) else error.code
        text = " · ".join(t(key, **error.params) for t in self.both)
        return str(error) if key in text else text


def report_context(w: Wording, result: ImportResult, filename: str) -> dict[str, Any]:
    """What ``imports_report.html`` shows of a result, every text already worded."""
    shown = result.issues[:ISSUES_SHOWN]
    names = list(result.sample[0].values) if result.sample else []
    key = "line.dry_run" if result.dry_run else "line.written"
    return {
        "result": result,
        "filename": filename,
        "kind_label": KINDS[result.kind],
        "read": w.line("line.read", path=filename, source=result.source, rows=result.rows),
        "failed": w.line("line.failed", issues=result.issue_count, rows=len(result.invalid_lines)),
        "issues_title": w("title.issues", shown=len(shown), total=result.issue_count),
        "issue_heads": [w(f"col.{c}") for c in ("row", "column", "value", "reason")],
        "issues": [(i.line, i.column, i.value, w.reason(i)) for i in shown],
        "more": MORE_ISSUES.format(count=result.issue_count - len(shown)),
        "has_more": result.issue_count > len(shown),
        "sample_title": tuple(t.format(count=len(result.sample)) for t in SAMPLE_TITLE),
        "sample_heads": [w("col.row"), w("col.action"), *(w.field(n) for n in names)],
        "sample": [
            (r.line, w(f"action.{r.action}"), list(r.values.values())) for r in result.sample
        ],
        **_totals(w, result),
        "counts": w.line(key, result.kind, **vars(result.counts)),
        "related": [
            w.line("line.related", kind, **vars(counts))
            for kind, counts in result.related.items()
            if counts.created or counts.updated
        ],
    }


def _totals(w: Wording, result: ImportResult) -> dict[str, Any]:
    monthly = any(total.period for total in result.totals)
    heads = [w("col.branch"), *([w("col.period")] if monthly else []), w("col.rows")]
    return {
        "totals_title": w("title.totals" if monthly else "title.totals_by_branch"),
        "totals_heads": heads,
        "measure_heads": [w.field(m) for m in result.measures],
        "totals": [
            (
                [t.branch_code, *([t.period] if monthly else []), str(t.rows)],
                [f"{t.sums[m]:,.2f}" for m in result.measures],
            )
            for t in result.totals
        ],
    }


# Pages -------------------------------------------------------------------------------------


def imports_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(prefix="/dashboard/imports", include_in_schema=False)
    Who = Annotated[Viewer, Depends(page_viewer(runtime))]

    @router.get("", response_class=HTMLResponse)
    async def upload_page(request: Request, viewer: Who) -> HTMLResponse:
        web = runtime(request)
        if not viewer.may_import:
            return error_page(web, viewer, 403, DENIED)
        return _upload_page(web, viewer)

    @router.post("/check", response_class=HTMLResponse)
    async def check(request: Request, viewer: Who) -> HTMLResponse:
        web = runtime(request)
        if not viewer.may_import:
            return error_page(web, viewer, 403, DENIED)
        try:
            form = await read_upload(request, web.max_upload_bytes)
        except Refused as refused:
            return _upload_page(web, viewer, refused.message, refused.status)
        check_csrf(web, viewer, form.fields.get("csrf"))
        kind = form.fields.get("kind", "")
        problem = _problem(kind, form)
        if problem:
            return _upload_page(web, viewer, problem, 400, kind)
        path = await web.call(store, web.uploads_dir, form)
        result = None
        try:
            options = ImportOptions(dry_run=True)
            result = await web.call(run_import, web.ctx, kind, path, options)
        except DomainError as error:  # not a table at all: nothing to report row by row
            return _upload_page(web, viewer, Wording(web).refusal(error), 400, kind)
        finally:
            if result is None or not result.ok:
                path.unlink(missing_ok=True)
        token = web.signer("import").sign(f"{path.name}:{kind}:{viewer.account_id}")
        return _report_page(web, viewer, result, form.filename, token if result.ok else "")

    @router.post("/confirm", response_class=HTMLResponse)
    async def confirm(request: Request, viewer: Who) -> HTMLResponse:
        web = runtime(request)
        if not viewer.may_import:
            return error_page(web, viewer, 403, DENIED)
        try:
            fields = await read_small_form(request)
        except Refused as refused:
            return error_page(web, viewer, refused.status, refused.message)
        check_csrf(web, viewer, fields.get("csrf"))
        pending = _pending(web, viewer, fields.get("token", ""))
        if isinstance(pending, HTMLResponse):
            return pending
        path, kind = pending
        filename = fields.get("filename", "")[:200] or "—"
        try:
            result = await web.call(run_import, web.ctx, kind, path, ImportOptions())
        except DomainError as error:  # e.g. the database refused a row written meanwhile
            status = 400 if isinstance(error, SourceError) else 409
            return _upload_page(web, viewer, Wording(web).refusal(error), status, kind)
        finally:
            path.unlink(missing_ok=True)
        if not result.ok:
            return _report_page(web, viewer, result, filename, "", CHANGED, 409)
        counts = result.counts
        await web.call(
            accounts.record_action,
            web.ctx,
            viewer.account_id,
            "import.apply",
            kind=kind,
            file=filename,
            rows=result.rows,
            created=counts.created,
            updated=counts.updated,
            unchanged=counts.unchanged,
        )
        return _report_page(web, viewer, result, filename, "", None)

    return router


def _problem(kind: str, form: UploadForm) -> str | None:
    if kind not in KINDS:
        return BAD_KIND
    if not form.filename and not form.content:
        return NO_FILE
    if Path(form.filename).suffix.lower() not in SUFFIXES:
        return BAD_SUFFIX
    return None if form.content else NO_FILE


def _pending(web: Dashboard, viewer: Viewer, token: str) -> tuple[Path, str] | HTMLResponse:
    """The stored file and kind a confirmation names, if the token is genuine, fresh and this
    viewer's; a genuine but stale one also takes its file away."""
    signer = web.signer("import")
    value = signer.unsign(token, math.inf) or ""
    name, _, rest = value.partition(":")
    kind, _, account = rest.partition(":")
    if not STORED.fullmatch(name) or kind not in KINDS or account != str(viewer.account_id):
        return error_page(web, viewer, 403, EXPIRED)
    path = web.uploads_dir / name
    if signer.unsign(token, IMPORT_MAX_AGE) is None:
        path.unlink(missing_ok=True)
        return error_page(web, viewer, 403, EXPIRED)
    taken = claim(path)
    if taken is None:
        return error_page(web, viewer, 410, GONE)
    return taken, kind


def _upload_page(
    web: Dashboard, viewer: Viewer, flash: str | None = None, status: int = 200, kind: str = ""
) -> HTMLResponse:
    w = Wording(web)
    schemas = {
        name: [(c.name, w.field(c.name), c.required) for c in SCHEMAS[name].columns]
        for name in KINDS
    }
    return render(
        web,
        viewer,
        "imports.html",
        status,
        nav="imports",
        flash=flash,
        flash_kind="error",
        kinds=KINDS,
        kind=kind or "employees",
        schemas=schemas,
        limit=size_text(web.max_upload_bytes),
    )


def _report_page(
    web: Dashboard,
    viewer: Viewer,
    result: ImportResult,
    filename: str,
    token: str,
    flash: str | None = None,
    status: int = 200,
) -> HTMLResponse:
    context = report_context(Wording(web), result, filename)
    if result.written and flash is None:
        flash = context["counts"]
    return render(
        web,
        viewer,
        "imports_report.html",
        status,
        nav="imports",
        flash=flash,
        flash_kind="ok" if result.ok else "error",
        token=token,
        minutes=IMPORT_MAX_AGE // 60,
        **context,
    )
