"""Imports from the dashboard as an HR director meets them: upload, read the dry run, confirm.

The app runs over a migrated SQLite file with no organisation loaded, so every employee counted
came from the file under test; uploads wait in ``<tmp>/imports`` between check and confirm.
"""

from __future__ import annotations

import csv
import io
import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient

from adapters.web.dashboard.runtime import IMPORT_MAX_AGE, Dashboard
from core.domain.accounts import AccountRole
from core.services import accounts
from tests.dashboard_support import (
    HASHER,
    PASSWORD,
    csrf_of,
    dashboard_client,
    services_of,
    settings_for,
)
from tests.factories import make_org
from tests.integration.imports.helpers import id_number, table_counts, write_xlsx

HEADER = ["employee_no", "name", "id_number", "branch_code", "branch_name", "hire_date"]
CLEAN = [
    ["N001", "孙一", id_number(11), "HZ01", "杭州分公司", "2025-03-01"],
    ["N002", "周二", id_number(12), "HZ01", "杭州分公司", "2025-04-01"],
]
TOKEN = re.compile(r'name="token" value="([^"]+)"')
CONFIRM = "确认导入 · Confirm import"
DIRECTOR = "director@example.test"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with dashboard_client(settings_for(tmp_path, max_upload_mb=1), demo=False) as client:
        add_account(client, DIRECTOR, AccountRole.ADMIN)
        yield client


def add_account(client: TestClient, email: str, role: AccountRole) -> int:
    new = accounts.add_user(services_of(client).ctx, HASHER, email, role, PASSWORD)
    assert new.account.id is not None
    return new.account.id


def login(client: TestClient, email: str) -> str:
    """Log in through the form; the session's CSRF token comes from the imports page."""
    client.cookies.clear()
    form = client.get("/dashboard/login")
    answer = client.post(
        "/dashboard/login",
        data={"email": email, "password": PASSWORD, "csrf": csrf_of(form.text), "next": ""},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    return csrf_of(client.get("/dashboard/imports").text)


def web_of(client: TestClient) -> Dashboard:
    return client.app.state.dashboard  # type: ignore[attr-defined,no-any-return]


def csv_bytes(rows: list[list[str]], header: list[str] = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def check(
    client: TestClient,
    csrf: str | None,
    content: bytes,
    name: str = "员工.csv",
    kind: str = "employees",
) -> httpx.Response:
    data = {"kind": kind} | ({"csrf": csrf} if csrf is not None else {})
    response: httpx.Response = client.post(
        "/dashboard/imports/check", data=data, files={"file": (name, content)}
    )
    return response


def confirm(client: TestClient, csrf: str, token: str) -> httpx.Response:
    data = {"csrf": csrf, "token": token, "filename": "员工.csv"}
    response: httpx.Response = client.post("/dashboard/imports/confirm", data=data)
    return response


def employees(client: TestClient) -> int:
    return table_counts(services_of(client).ctx)["employees"]


def stored(client: TestClient) -> list[Path]:
    folder = web_of(client).uploads_dir
    return sorted(folder.iterdir()) if folder.exists() else []


def token_of(html: str) -> str:
    found = TOKEN.search(html)
    assert found, "no confirmation on the page"
    return found.group(1)


def test_a_clean_file_is_checked_then_written_on_confirmation(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    page = client.get("/dashboard/imports")
    assert 'enctype="multipart/form-data"' in page.text
    assert "employee_no" in page.text and "contribution_base" in page.text

    report = check(client, csrf, csv_bytes(CLEAN))

    assert report.status_code == 200, report.text
    assert "孙一" in report.text and "周二" in report.text  # the sample, as it will be stored
    assert "HZ01" in report.text  # the totals per branch
    assert "would create 2, update 0, leave 0 unchanged" in report.text
    assert "试运行，未写入：将新建 2" in report.text
    assert CONFIRM in report.text
    assert employees(client) == 0
    [waiting] = stored(client)
    assert waiting.suffix == ".csv" and waiting.stat().st_mode & 0o777 == 0o600

    done = confirm(client, csrf, token_of(report.text))

    assert done.status_code == 200, done.text
    assert "employees imported: 2 created, 0 updated, 0 unchanged" in done.text
    assert "员工导入完成：新建 2，更新 0，不变 0" in done.text
    assert employees(client) == 2
    assert stored(client) == []
    again = confirm(client, csrf, token_of(report.text))
    assert again.status_code == 410
    assert employees(client) == 2


def test_a_file_with_mistakes_names_each_row_and_column_and_writes_nothing(
    client: TestClient,
) -> None:
    csrf = login(client, DIRECTOR)
    wrong_digit = id_number(11)[:17] + ("0" if id_number(11)[17] != "0" else "1")
    rows = [
        [*CLEAN[0][:2], wrong_digit, *CLEAN[0][3:]],
        [*CLEAN[1][:5], "2025/13/01"],
    ]

    report = check(client, csrf, csv_bytes(rows))

    assert report.status_code == 200
    cells = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)</td>", report.text)
    assert cells == [("2", "id_number"), ("3", "hire_date")]
    assert "身份证号校验位不符" in report.text and "check digit" in report.text
    assert "日期应写作 YYYY-MM-DD" in report.text
    assert wrong_digit not in report.text  # ID numbers are shown masked
    assert "nothing was written" in report.text
    assert CONFIRM not in report.text and 'name="token"' not in report.text
    assert employees(client) == 0
    assert stored(client) == []


def test_a_long_list_of_mistakes_shows_the_first_200_and_counts_the_rest(
    client: TestClient,
) -> None:
    csrf = login(client, DIRECTOR)
    rows = [[f"N{n:03d}", "某人", "", "HZ01", "杭州分公司", "2025-03-01"] for n in range(250)]

    report = check(client, csrf, csv_bytes(rows))

    assert "Errors (200 of 250)" in report.text
    assert report.text.count('<tr><td class="num">') == 200
    assert "50 more errors not listed here" in report.text
    assert employees(client) == 0 and stored(client) == []


def test_a_file_that_is_not_a_table_is_refused_and_not_kept(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)

    garbled = check(client, csrf, b"employee_no,name\n\xff\xfe\xff\n")
    not_xlsx = check(client, csrf, b"PK\x03\x04 not a workbook", name="员工.xlsx")
    old_excel = check(client, csrf, b"\xd0\xcf\x11\xe0", name="员工.xls")

    assert garbled.status_code == 400
    assert "UTF-8 或 GBK" in garbled.text and "save the CSV as UTF-8 or GBK" in garbled.text
    assert not_xlsx.status_code == 400 and "not a valid XLSX file" in not_xlsx.text
    assert old_excel.status_code == 400 and "Only .csv or .xlsx files" in old_excel.text
    assert stored(client) == []


def test_a_workbook_is_checked_like_a_csv(client: TestClient, tmp_path: Path) -> None:
    csrf = login(client, DIRECTOR)
    book = write_xlsx(tmp_path / "people.xlsx", HEADER, CLEAN)

    report = check(client, csrf, book.read_bytes(), name="People.XLSX")

    assert report.status_code == 200, report.text
    assert "xlsx Sheet1" in report.text and CONFIRM in report.text
    assert [path.suffix for path in stored(client)] == [".xlsx"]


def test_data_changed_since_the_check_means_the_errors_are_shown_and_nothing_written(
    client: TestClient,
) -> None:
    csrf = login(client, DIRECTOR)
    report = check(client, csrf, csv_bytes(CLEAN))
    token = token_of(report.text)
    # Meanwhile someone imports another person with 孙一's ID number.
    taken = [["X009", "别人", id_number(11), "HZ01", "杭州分公司", "2025-01-01"]]
    other = check(client, csrf, csv_bytes(taken))
    assert confirm(client, csrf, token_of(other.text)).status_code == 200
    assert employees(client) == 1

    late = confirm(client, csrf, token)

    assert late.status_code == 409
    assert "The data changed since the check" in late.text
    assert "X009" in late.text  # the reason names who holds the ID number now
    assert employees(client) == 1
    assert stored(client) == []


def test_hr_staff_may_not_import(client: TestClient) -> None:
    org = make_org(services_of(client).ctx)
    assert org.hr.email is not None
    add_account(client, org.hr.email, AccountRole.HR)
    csrf = login(client, org.hr.email)

    page = client.get("/dashboard/imports")
    checked = check(client, csrf, csv_bytes(CLEAN))
    confirmed = confirm(client, csrf, "anything")

    assert page.status_code == 403 and "Only admins and HR directors may import" in page.text
    assert checked.status_code == 403
    assert confirmed.status_code == 403
    assert 'href="/dashboard/imports"' not in page.text  # no menu entry either
    assert stored(client) == []


def test_a_confirmation_works_only_for_its_own_account(client: TestClient) -> None:
    add_account(client, "other@example.test", AccountRole.ADMIN)
    csrf = login(client, DIRECTOR)
    token = token_of(check(client, csrf, csv_bytes(CLEAN)).text)

    other_csrf = login(client, "other@example.test")
    refused = confirm(client, other_csrf, token)

    assert refused.status_code == 403 and "not yours" in refused.text
    assert employees(client) == 0
    csrf = login(client, DIRECTOR)
    assert confirm(client, csrf, token).status_code == 200  # still the director's to confirm
    assert employees(client) == 2


def test_an_expired_confirmation_is_refused_and_its_file_removed(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    token = token_of(check(client, csrf, csv_bytes(CLEAN)).text)
    value = token.rsplit(".", 2)[0]
    stale = web_of(client).signer("import").sign(value, now=time.time() - IMPORT_MAX_AGE - 5)
    forged = value + ".1.forged"

    assert confirm(client, csrf, forged).status_code == 403
    assert len(stored(client)) == 1
    refused = confirm(client, csrf, stale)

    assert refused.status_code == 403 and "expired" in refused.text
    assert employees(client) == 0
    assert stored(client) == []


def test_forms_without_the_session_csrf_token_are_refused(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    token = token_of(check(client, csrf, csv_bytes(CLEAN)).text)

    no_csrf = check(client, None, csv_bytes(CLEAN))
    wrong_csrf = check(client, "0" * 40, csv_bytes(CLEAN))
    unconfirmed = client.post("/dashboard/imports/confirm", data={"token": token})

    assert no_csrf.status_code == 403 and wrong_csrf.status_code == 403
    assert unconfirmed.status_code == 403
    assert employees(client) == 0
    assert len(stored(client)) == 1  # only the checked file, still waiting for its confirmation


def test_a_file_over_the_limit_is_refused_unstored(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    big = csv_bytes(CLEAN) + b"#" * (1024 * 1024)

    refused = check(client, csrf, big)

    assert refused.status_code == 413
    assert "1 MB" in refused.text and "nothing was stored" in refused.text
    assert stored(client) == []


def test_the_limit_holds_without_a_content_length(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    boundary = "hrbot-test-boundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="csrf"\r\n\r\n{csrf}\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="kind"\r\n\r\nemployees\r\n'
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n\r\n'
    ).encode()

    def body() -> Iterator[bytes]:  # streamed: httpx sends it chunked, with no length
        yield head
        for _ in range(40):
            yield b"x" * 65536
        yield f"\r\n--{boundary}--\r\n".encode()

    refused = client.post(
        "/dashboard/imports/check",
        content=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )

    assert refused.status_code == 413
    assert stored(client) == []


def test_uploads_never_confirmed_are_swept_by_a_later_check(client: TestClient) -> None:
    csrf = login(client, DIRECTOR)
    folder = web_of(client).uploads_dir
    folder.mkdir(parents=True, exist_ok=True)
    forgotten = folder / ("ab" * 16 + ".csv")
    forgotten.write_bytes(csv_bytes(CLEAN))
    an_hour_ago = time.time() - 3600
    os.utime(forgotten, (an_hour_ago, an_hour_ago))
    unrelated = folder / "README.txt"
    unrelated.write_text("not an upload")

    check(client, csrf, csv_bytes(CLEAN))

    assert not forgotten.exists()
    assert unrelated.exists()
    assert len([p for p in stored(client) if p.suffix == ".csv"]) == 1
