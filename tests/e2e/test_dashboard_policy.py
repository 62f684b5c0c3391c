"""The dashboard's "Policy" page: admins edit the escalation policy, HR directors may only look,
everyone else is refused; a refused edit says why (Chinese first) and stores nothing.

The demo organisation: 陈静 (chenjing@, hr_director), 王芳 (wangfang@, hr) and the admin account,
which has no employee behind it. No alert has opened yet unless a test opens one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from core.domain.escalation import SubjectKind
from core.services.alerts import open_alert
from core.services.policies import show_policy
from tests.dashboard_support import dashboard_client, login, services_of, settings_for
from tests.factories import audit_trail, row_counts

ADMIN, CHEN, WANG = "admin@example.com", "chenjing@example.com", "wangfang@example.com"
FASTER = "hr:0h,hr_manager:12h,hr_director:24h"


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    with dashboard_client(settings_for(tmp_path)) as client:
        yield client


def form(
    csrf: str, levels: str = FASTER, repeat: str = "2", every: str = "", note: str = ""
) -> dict[str, str]:
    return {"csrf": csrf, "levels": levels, "repeat": repeat, "repeat_every": every, "note": note}


def open_one_alert(client: TestClient) -> None:
    ctx = services_of(client).ctx
    with ctx.uow() as uow:
        zhang = uow.directory.employee_by_no("E1001")
        assert zhang is not None
        open_alert(ctx, uow, (SubjectKind.EMPLOYEE_STATUS, zhang.id), zhang.branch_id, zhang.id)
        uow.commit()


def alerts_of(page: str, version: int) -> str:
    row = page.split(f'id="version-{version}"')[1].split("</tr>")[0]
    found = re.search(r'class="alerts">(\d+)<', row)
    assert found, row
    return found.group(1)


def test_an_admin_saves_a_new_version_and_sees_it_with_the_history(client: TestClient) -> None:
    ctx = services_of(client).ctx
    open_one_alert(client)  # started under the settings' policy, stored as version 1
    csrf = login(client, ADMIN)
    page = client.get("/dashboard/policy")
    assert page.status_code == 200
    assert "来自系统设置" in page.text and "hr:0h,hr_manager:24h,hr_director:48h" in page.text
    assert "人事经理" in page.text and "24 小时" in page.text
    assert 'id="policy-form"' in page.text

    answer = client.post(
        "/dashboard/policy", data=form(csrf, note="更快升级"), follow_redirects=False
    )

    assert answer.status_code == 303
    assert answer.headers["location"] == "/dashboard/policy?msg=saved&v=2"
    after = client.get(answer.headers["location"]).text
    assert "已保存第 2 版升级策略" in after and "Version 2 saved" in after
    assert "管理员编辑" in after and FASTER in after and "12 小时" in after
    assert "更快升级" in after and ADMIN in after
    assert alerts_of(after, 1) == "1" and alerts_of(after, 2) == "0"
    shown = show_policy(ctx)
    assert (shown.source, shown.version, shown.text) == ("edited", 2, FASTER)
    assert shown.history[-1].edited_by == ADMIN
    (entry,) = audit_trail(ctx, "policy", 2)
    assert entry.action == "policy.edit" and entry.channel == "dashboard"
    assert entry.actor == ADMIN and entry.detail["from_version"] == 1
    assert entry.detail["levels"] == FASTER


def test_an_hr_director_sees_the_policy_but_may_not_edit_it(client: TestClient) -> None:
    csrf = login(client, CHEN)
    page = client.get("/dashboard/policy")
    assert page.status_code == 200
    assert "hr:0h,hr_manager:24h,hr_director:48h" in page.text
    assert 'id="policy-form"' not in page.text
    counts = row_counts(services_of(client).ctx)

    answer = client.post("/dashboard/policy", data=form(csrf), follow_redirects=False)

    assert answer.status_code == 403
    assert row_counts(services_of(client).ctx) == counts


def test_hr_may_neither_see_nor_edit_the_policy(client: TestClient) -> None:
    csrf = login(client, WANG)
    assert client.get("/dashboard/policy").status_code == 403
    assert 'href="/dashboard/policy"' not in client.get("/dashboard").text
    counts = row_counts(services_of(client).ctx)
    assert client.post("/dashboard/policy", data=form(csrf)).status_code == 403
    assert row_counts(services_of(client).ctx) == counts


def test_an_edit_without_the_csrf_token_is_refused(client: TestClient) -> None:
    login(client, ADMIN)
    counts = row_counts(services_of(client).ctx)
    missing = {k: v for k, v in form("").items() if k != "csrf"}
    assert client.post("/dashboard/policy", data=missing).status_code == 403
    assert client.post("/dashboard/policy", data=form("forged")).status_code == 403
    assert row_counts(services_of(client).ctx) == counts


@pytest.mark.parametrize(
    ("fields", "chinese", "english"),
    [
        ({"levels": "hr:0h,boss:24h"}, "第 2 级的角色 boss 不存在", "Level 2: unknown role 'boss'"),
        ({"levels": "hr:0h,finance:24h"}, "不是 HR 角色", "finance is not an HR role"),
        ({"levels": "hr:0h,hr_manager:24wh"}, "同一单位", "Every level counts in the same unit"),
        ({"levels": "hr:10h,hr_manager:2h"}, "时长不能递减", "must not decrease"),
        ({"levels": ""}, "请至少填写一级", "Give at least one level"),
        ({"repeat": "x"}, "重复次数须为 0 到 10", "whole number from 0 to 10"),
        ({"repeat": "11"}, "重复次数须为 0 到 10", "Repeat must be 0 to 10"),
        ({"repeat_every": "2wd"}, "重复间隔 2wd 有误", "levels' unit (h)"),
        (
            {"levels": "hr:0h,hr_manager:24h,hr_director:48h"},
            "与当前策略相同",
            "Nothing changed",
        ),
    ],
)
def test_a_refused_edit_says_why_in_chinese_first_and_stores_nothing(
    client: TestClient, fields: dict[str, str], chinese: str, english: str
) -> None:
    csrf = login(client, ADMIN)
    counts = row_counts(services_of(client).ctx)

    answer = client.post("/dashboard/policy", data=form(csrf) | fields, follow_redirects=False)

    assert answer.status_code == 400
    flash = answer.text.split('class="flash error"')[1].split("</p>")[0]
    flash = flash.replace("&#39;", "'")
    assert chinese in flash and english in flash
    assert flash.index(chinese) < flash.index(english)
    assert "未保存任何内容" in flash and "Nothing was saved" in flash
    if fields.get("levels"):
        assert f'value="{fields["levels"]}"' in answer.text  # what was typed stays in the form
    assert row_counts(services_of(client).ctx) == counts
    assert show_policy(services_of(client).ctx).source == "settings"


def test_an_edit_from_a_page_shown_before_another_edit_is_refused(client: TestClient) -> None:
    csrf = login(client, ADMIN)
    stale = {"based_on": "0"}
    first = client.post("/dashboard/policy", data=form(csrf) | stale, follow_redirects=False)
    assert first.status_code == 303

    second = client.post(
        "/dashboard/policy",
        data=form(csrf, levels="hr:0h,hr_director:6h") | stale,
        follow_redirects=False,
    )

    assert second.status_code == 400 and "策略已被他人修改" in second.text
    assert show_policy(services_of(client).ctx).text == FASTER
