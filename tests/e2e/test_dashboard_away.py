"""Setting and cancelling an absence (with a substitute) from the dashboard's "Away" page.

The demo organisation: 王芳 (H2001) and 赵敏 (H2002) are HR, 孙丽 (F5001) is finance, and the
admin account has no employee behind it. Dates are counted from the app's own clock.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.domain.directory import Employee
from core.services import absences
from core.services.absences import AbsenceView
from tests.dashboard_support import dashboard_client, login, services_of, settings_for
from tests.factories import audit_trail, notices, row_counts

WANG, ZHAO, ADMIN = "wangfang@example.com", "zhaomin@example.com", "admin@example.com"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with dashboard_client(settings_for(tmp_path)) as client:
        yield client


def employee(client: TestClient, employee_no: str) -> Employee:
    with services_of(client).ctx.uow() as uow:
        found = uow.directory.employee_by_no(employee_no)
    assert found is not None
    return found


def absences_of(client: TestClient, employee_no: str) -> list[AbsenceView]:
    return absences.my_absences(services_of(client).ctx, employee(client, employee_no).id)


def day(client: TestClient, offset: int) -> str:
    today: date = services_of(client).ctx.today()
    return (today + timedelta(days=offset)).isoformat()


def set_away(
    client: TestClient, csrf: str, starts: str, ends: str, substitute: str = ""
) -> tuple[int, str]:
    """Post the form as a browser would; the status and the page the person ends up on."""
    answer = client.post(
        "/dashboard/away",
        data={"csrf": csrf, "starts_on": starts, "ends_on": ends, "substitute": substitute},
        follow_redirects=False,
    )
    if answer.status_code == 303:
        assert answer.headers["location"].startswith("/dashboard/away?msg=")
        return 303, client.get(answer.headers["location"]).text
    return answer.status_code, answer.text


def test_set_an_absence_with_a_substitute_then_cancel_it(client: TestClient) -> None:
    ctx = services_of(client).ctx
    csrf = login(client, WANG)
    empty = client.get("/dashboard/away")
    assert empty.status_code == 200 and "没有休假" in empty.text

    status, page = set_away(client, csrf, day(client, 1), day(client, 5), "@H2002")

    assert status == 303
    assert "已记录休假" in page and "Absence recorded" in page
    assert day(client, 1) in page and day(client, 5) in page
    assert "赵敏" in page and "H2002" in page and "管理后台" in page
    (view,) = absences_of(client, "H2001")
    assert view.substitute is not None and view.substitute.employee_no == "H2002"
    assert view.absence.channel == "dashboard"
    assert view.absence.id is not None
    (entry,) = audit_trail(ctx, "absence", view.absence.id)
    assert entry.action == "away.set" and entry.channel == "dashboard"
    assert entry.actor == "H2001" and entry.detail["substitute"] == "H2002"
    told = notices(ctx, "delegation.you_substitute", employee(client, "H2002"))
    assert len(told) == 1

    answer = client.post(
        f"/dashboard/away/{view.absence.id}/cancel", data={"csrf": csrf}, follow_redirects=False
    )

    assert answer.status_code == 303
    after = client.get(answer.headers["location"]).text
    assert "已取消休假" in after and "没有休假" in after
    assert absences_of(client, "H2001") == []
    actions = [e.action for e in audit_trail(ctx, "absence", view.absence.id)]
    assert actions == ["away.set", "away.cancel"]
    assert audit_trail(ctx, "absence", view.absence.id)[-1].channel == "dashboard"


def test_the_substitute_sees_whom_they_stand_in_for_today(client: TestClient) -> None:
    csrf = login(client, WANG)
    assert set_away(client, csrf, day(client, 0), day(client, 2), "H2002")[0] == 303
    login(client, WANG)
    assert "进行中" in client.get("/dashboard/away").text  # started today

    login(client, ZHAO)
    page = client.get("/dashboard/away").text

    covering = page.split('id="covering"')[1]
    assert "王芳" in covering and "H2001" in covering


def test_an_absence_without_a_substitute_says_what_that_means(client: TestClient) -> None:
    csrf = login(client, WANG)
    status, page = set_away(client, csrf, day(client, 3), day(client, 3))
    assert status == 303 and "未指定代理人" in page
    (view,) = absences_of(client, "H2001")
    assert view.substitute is None


def test_a_loop_of_substitutes_is_refused_and_nothing_is_stored(client: TestClient) -> None:
    csrf = login(client, ZHAO)
    assert set_away(client, csrf, day(client, 1), day(client, 5), "H2001")[0] == 303
    csrf = login(client, WANG)
    before = row_counts(services_of(client).ctx)

    status, page = set_away(client, csrf, day(client, 4), day(client, 8), "H2002")

    assert status == 400
    assert "循环" in page and "loop" in page
    assert "王芳 (H2001) → 赵敏 (H2002) → 王芳 (H2001)" in page
    assert row_counts(services_of(client).ctx) == before
    assert absences_of(client, "H2001") == []
    assert f'value="{day(client, 4)}"' in page  # what was typed is kept for a retry


@pytest.mark.parametrize(
    ("starts", "ends"),
    [
        ("2026-13-01", "2026-13-05"),  # no such month
        ("next week", ""),
        ("", ""),
        (5, 2),  # the end before the start
        (-3, -1),  # already over
        (0, 400),  # longer than a year
    ],
)
def test_bad_dates_are_refused_and_nothing_is_stored(
    client: TestClient, starts: str | int, ends: str | int
) -> None:
    csrf = login(client, WANG)
    before = row_counts(services_of(client).ctx)
    first = day(client, starts) if isinstance(starts, int) else starts
    last = day(client, ends) if isinstance(ends, int) else ends

    status, page = set_away(client, csrf, first, last, "H2002")

    assert status == 400
    assert "日期有误" in page and "Those dates will not do" in page
    assert row_counts(services_of(client).ctx) == before


@pytest.mark.parametrize(
    ("substitute", "reason"),
    [
        ("H9999", "找不到员工 H9999"),
        ("F5001", "HR 的工作只能由 HR 代理"),  # finance cannot do HR work
        ("H2001", "不能指定自己为代理人"),
    ],
)
def test_an_unfit_substitute_is_refused(client: TestClient, substitute: str, reason: str) -> None:
    csrf = login(client, WANG)
    before = row_counts(services_of(client).ctx)

    status, page = set_away(client, csrf, day(client, 1), day(client, 2), substitute)

    assert status == 400 and reason in page and "Nothing was saved" in page
    assert row_counts(services_of(client).ctx) == before


def test_overlapping_ones_own_absence_is_refused(client: TestClient) -> None:
    csrf = login(client, WANG)
    assert set_away(client, csrf, day(client, 1), day(client, 5))[0] == 303
    status, page = set_away(client, csrf, day(client, 5), day(client, 6))
    assert status == 400 and "重叠" in page
    assert len(absences_of(client, "H2001")) == 1


def test_cancelling_someone_elses_absence_answers_404(client: TestClient) -> None:
    csrf = login(client, ZHAO)
    assert set_away(client, csrf, day(client, 1), day(client, 2))[0] == 303
    (theirs,) = absences_of(client, "H2002")
    csrf = login(client, WANG)

    for absence_id in (theirs.absence.id, 999_999):
        answer = client.post(f"/dashboard/away/{absence_id}/cancel", data={"csrf": csrf})
        assert answer.status_code == 404
        assert "没有这条休假" in answer.text

    assert [v.absence.id for v in absences_of(client, "H2002")] == [theirs.absence.id]


def test_cancelling_twice_says_it_is_already_cancelled(client: TestClient) -> None:
    csrf = login(client, WANG)
    assert set_away(client, csrf, day(client, 1), day(client, 2))[0] == 303
    (view,) = absences_of(client, "H2001")
    path = f"/dashboard/away/{view.absence.id}/cancel"
    assert client.post(path, data={"csrf": csrf}, follow_redirects=False).status_code == 303
    again = client.post(path, data={"csrf": csrf})
    assert again.status_code == 400 and "已结束或已取消" in again.text


def test_posts_without_the_csrf_token_are_refused(client: TestClient) -> None:
    csrf = login(client, WANG)
    assert set_away(client, csrf, day(client, 1), day(client, 2))[0] == 303
    (view,) = absences_of(client, "H2001")
    before = row_counts(services_of(client).ctx)

    form = {"starts_on": day(client, 10), "ends_on": day(client, 11), "substitute": "H2002"}
    for token in ("", "forged"):
        assert set_away(client, token, form["starts_on"], form["ends_on"], "H2002")[0] == 403
        cancel = client.post(f"/dashboard/away/{view.absence.id}/cancel", data={"csrf": token})
        assert cancel.status_code == 403
    missing = client.post("/dashboard/away", data=form)  # no csrf field at all
    assert missing.status_code == 403 and "CSRF" in missing.text

    assert row_counts(services_of(client).ctx) == before
    assert [v.absence.id for v in absences_of(client, "H2001")] == [view.absence.id]


def test_an_account_without_an_employee_gets_403(client: TestClient) -> None:
    csrf = login(client, ADMIN)
    assert 'href="/dashboard/away"' not in client.get("/dashboard").text
    page = client.get("/dashboard/away")
    assert page.status_code == 403 and "未关联员工档案" in page.text
    status, text = set_away(client, csrf, day(client, 1), day(client, 2), "H2002")
    assert status == 403 and "未关联员工档案" in text
    assert client.post("/dashboard/away/1/cancel", data={"csrf": csrf}).status_code == 403


def test_strangers_are_sent_to_the_login_page(client: TestClient) -> None:
    client.cookies.clear()
    before = row_counts(services_of(client).ctx)
    for answer in (
        client.get("/dashboard/away", follow_redirects=False),
        client.post(
            "/dashboard/away",
            data={"starts_on": day(client, 1), "ends_on": day(client, 2)},
            follow_redirects=False,
        ),
    ):
        assert answer.status_code == 303
        assert answer.headers["location"] == "/dashboard/login?next=/dashboard/away"
    assert row_counts(services_of(client).ctx) == before
