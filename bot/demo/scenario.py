"""``hrbot demo``: the seed scenario, played through the real services with a simulated clock.

A throw-away SQLite database holds the demo organisation; a recording channel stands in for the
chat platforms, e-mail and SMS. Every step checks that what the seed says happened did happen;
the demo exits non-zero otherwise.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from adapters.documents import FilesystemDocumentStore
from bot.demo.org import load_demo_org
from bot.demo.transcript import Transcript
from core.domain.batches import BatchState
from core.domain.claims import ClaimState, ClaimType, DocumentKind
from core.domain.contributions import DelayReason, MonthState, Status
from core.domain.escalation import AlertState
from core.domain.notifications import ChannelKind
from core.domain.periods import Period
from core.persistence.engine import make_engine
from core.persistence.migrate import upgrade
from core.persistence.uow import Database
from core.ports import ManualClock
from core.services import alerts, batches, claims, consents
from core.services.buttons import resolve_button
from core.services.context import Context, Rules
from core.services.status import check_status

# 12 October 2026, 09:00 in Shanghai: August (due 15 Aug) and September (due 15 Sep) are overdue.
DEMO_START = datetime(2026, 10, 12, 1, 0, tzinfo=UTC)

SAMPLE_FILES = {
    DocumentKind.ADMISSION_CERTIFICATE: ("住院证.pdf", b"%PDF-1.4\n% admission certificate\n"),
    DocumentKind.ITEMIZED_BILL: ("费用清单.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 64),
    DocumentKind.ID_COPY: ("身份证.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64),
}


@dataclass
class World:
    ctx: Context
    clock: ManualClock
    show: Transcript
    ids: dict[str, int]

    def person(self, employee_no: str) -> int:
        return self.ids[employee_no]


@contextmanager
def demo_world(lang: str, out: Callable[[str], None]) -> Iterator[World]:
    with tempfile.TemporaryDirectory(prefix="hrbot-demo-") as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'demo.db'}")
        upgrade(engine)
        db = Database(engine)
        clock = ManualClock(DEMO_START)
        rules = Rules(channels=frozenset(ChannelKind))
        ctx = Context(db.uow, clock, FilesystemDocumentStore(Path(tmp) / "documents"), rules)
        with ctx.uow() as uow:
            load_demo_org(uow, ctx.today(), ctx.now())
            uow.commit()
            staff = [
                e for b in uow.directory.branches() for e in uow.directory.employees_of_branch(b.id)
            ]
        show = Transcript(ctx, lang, out, names={e.employee_no: e.name for e in staff})
        try:
            yield World(ctx, clock, show, {e.employee_no: e.id for e in staff})
        finally:
            db.dispose()


def run_demo(lang: str = "zh-CN", out: Callable[[str], None] = print) -> bool:
    """Play all seven steps; True only if every scripted check held."""
    with demo_world(lang, out) as world:
        show = world.show
        show.out(
            show.text(
                "hrbot 演示：张三住院，而分公司的社保还没缴",
                "hrbot demo: Zhang San is in hospital and his branch's contributions are late",
            )
        )
        clock_line = f"🕘 {show.renderer.translator_for_locale().when(world.ctx.now())} "
        clock_line += f"({world.ctx.rules.timezone.key})"
        show.say(clock_line, clock_line)
        claim_id = step1_claim(world)
        step2_status(world, claim_id)
        alert_id = step3_notices(world, claim_id)
        batch_ids = step4_finance_approves(world, alert_id)
        step5_paid(world, claim_id, alert_id, batch_ids)
        step6_payout(world, claim_id)
        main = (world.show.passed, list(world.show.failed))
    with demo_world(lang, out) as world:
        step7_escalation(world)
        passed, failed = main[0] + world.show.passed, main[1] + world.show.failed
    total = passed + len(failed)
    out("")
    if failed:
        out(
            world.show.text(
                f"✘ {len(failed)}/{total} 项检查未通过。",
                f"✘ {len(failed)} of {total} checks failed.",
            )
        )
        return False
    out(
        world.show.text(
            f"✔ 7 步全部按脚本发生（{total} 项检查通过）。",
            f"✔ All 7 steps happened as scripted ({total} checks passed).",
        )
    )
    return True


def step1_claim(w: World) -> int:
    s, zhang = w.show, w.person("E1001")
    s.heading(
        "1. 张三在聊天中发起住院报销，上传住院证、费用清单和身份证复印件",
        "1. Zhang San opens a hospitalization claim in chat and uploads his documents",
    )
    s.say("张三 → 机器人：/claim 住院", "Zhang San → bot: /claim hospitalization")
    step1_consent(w)
    claim = claims.open_claim(w.ctx, zhang, ClaimType.HOSPITALIZATION, channel="demo")
    t = s.renderer.translator_for_locale()
    for kind, (filename, content) in SAMPLE_FILES.items():
        view = claims.attach_document(w.ctx, claim.id, zhang, kind, filename, content, "demo")
        items = " ".join(
            ("✅" if i.received else "❌") + t.word("document", i.kind)
            for i in view.checklist()
            if i.required
        )
        s.say(f"张三 上传 {filename} → {items}", f"Zhang San uploads {filename} → {items}")
    s.say("张三 → 机器人：提交", "Zhang San → bot: submit")
    submitted = claims.submit_claim(w.ctx, claim.id, zhang, channel="demo")
    s.check(
        len(claims.claim_view(w.ctx, claim.id).documents) == 3,
        "三份材料均已收到并存档",
        "all three documents received and stored",
    )
    s.check(
        submitted.state is ClaimState.ON_HOLD,
        f"报销 {submitted.reference} 已提交",
        f"claim {submitted.reference} submitted",
    )
    return claim.id


def step1_consent(w: World) -> None:
    """Before his first document, Zhang San is asked for separate consent (PIPL)."""
    s, zhang, version = w.show, w.person("E1001"), w.ctx.rules.medical_notice
    s.check(
        consents.consent_needed(w.ctx, zhang),
        "上传材料前，机器人先请张三单独同意处理医疗和身份信息",
        "before any document the bot asks Zhang San for separate consent",
    )
    t = s.renderer.translator_for_locale()
    notice = t(f"consent.notice.{version}", days=w.ctx.rules.retention.documents_days)
    asked = f"{notice.splitlines()[0]} ({version}) "
    asked += f"[{t('button.consent_grant')}] [{t('button.consent_refuse')}]"
    s.say(f"机器人 → 张三：{asked}", f"bot → Zhang San: {asked}")
    s.say(
        f"张三 点击 [{t('button.consent_grant')}]",
        f"Zhang San clicks [{t('button.consent_grant')}]",
    )
    given = consents.record_consent(w.ctx, zhang, True, version, channel="demo")
    s.check(
        given.granted
        and given.notice_version == version
        and not consents.consent_needed(w.ctx, zhang),
        f"同意已记录（告知版本 {version}、时间、渠道）",
        f"consent recorded (notice {version}, time, channel)",
    )


def step2_status(w: World, claim_id: int) -> None:
    s = w.show
    s.heading(
        "2. 状态检查读取最近 3 个月：8 月和 9 月逾期，报销暂缓",
        "2. The status check reads the last 3 months: August and September overdue; claim held",
    )
    report = check_status(w.ctx, "E1001", months=w.ctx.rules.claim_check_months)
    t = s.renderer.translator_for_locale()
    strip = " | ".join(f"{m.period} {t.word('month', m.state)}" for m in report.months)
    s.say(
        f"{strip} → {t.word('status', report.status)}",
        f"{strip} → {t.word('status', report.status)}",
    )
    overdue = [str(m.period) for m in report.months if m.state is MonthState.OVERDUE]
    s.check(overdue == ["2026-08", "2026-09"], "8 月、9 月逾期未缴", "August and September overdue")
    s.check(report.status is Status.DELAYED, "状态为“延迟”", "status is delayed")
    claim = claims.claim_view(w.ctx, claim_id).claim
    s.check(claim.state is ClaimState.ON_HOLD, "报销被暂缓", "the claim is on hold")


def step3_notices(w: World, claim_id: int) -> int:
    s = w.show
    s.heading(
        "3. 两条通知同时发出：张三收到暂缓说明，分公司人事收到 24 小时期限的告警",
        "3. Two notices at once: Zhang San learns why, the branch's HR gets a 24-hour alert",
    )
    sent = s.deliver()
    to_zhang = [m for a, m in sent if a.target == "E1001"]
    to_hr = [(a, m) for a, m in sent if a.target == "H2001"]
    s.check(
        any(m.key == "claim.held" for m in to_zhang),
        "张三收到暂缓通知和下一步说明",
        "Zhang San is told his claim is held and what to do",
    )
    s.check(
        {a.platform for a, m in to_hr if m.key == "alert.level1"} >= {"recording", "email"},
        "人事王芳通过聊天和邮件收到一级告警",
        "HR Wang Fang is alerted by chat and e-mail",
    )
    with w.ctx.uow() as uow:
        alert = uow.alerts.unresolved_for("held_claim", claim_id)[0]
        deadline = min(st.due_at for st in uow.alerts.pending_steps(alert.id))
        s.check(
            deadline - alert.opened_at == timedelta(hours=24),
            "答复期限为 24 小时",
            "the deadline to give the cause is 24 hours",
        )
        return alert.id


def step4_finance_approves(w: World, alert_id: int) -> list[int]:
    s, hr, finance = w.show, w.person("H2001"), w.person("F5001")
    s.heading(
        "4. 人事查明原因（财务审批未完成）并请财务审批；财务在聊天中点按钮批准",
        "4. HR finds the cause (finance approval) and asks finance, who approves with a button",
    )
    fix_date = w.ctx.today() + timedelta(days=2)
    alerts.acknowledge_alert(
        w.ctx, alert_id, hr, DelayReason.FINANCE_APPROVAL, fix_date, channel="demo"
    )
    s.say(
        f"王芳 点击 [确认原因]：财务审批未完成，预计 {fix_date} 解决",
        f"Wang Fang clicks [Confirm cause]: finance approval pending, fix by {fix_date}",
    )
    batch_ids = _pending_batches(w)
    for batch_id in batch_ids:
        batches.request_finance_approval(w.ctx, batch_id, hr, channel="demo")
    sent = s.deliver()
    cards = [m for a, m in sent if a.target == "F5001" and m.key == "batch.approval_requested"]
    for card in cards:
        button = next(b for b in card.buttons if b.action == "batch.approve")
        resolved = resolve_button(w.ctx, button.token, finance)
        s.say(f"孙丽 点击 [{button.label}]", f"Sun Li clicks [{button.label}]")
        batches.approve_batch(w.ctx, resolved.payload["batch_id"], finance, channel="demo")
    s.deliver()
    with w.ctx.uow() as uow:
        states = [uow.batches.get(b).state for b in batch_ids]
    s.check(
        len(cards) == 2 and all(b.buttons for b in cards),
        "财务收到两张带按钮的审批卡片",
        "finance receives two approval cards with buttons",
    )
    s.check(
        states == [BatchState.APPROVED] * 2,
        "8 月、9 月缴费批次已批准",
        "the August and September batches are approved",
    )
    return batch_ids


def _pending_batches(w: World) -> list[int]:
    with w.ctx.uow() as uow:
        branch = uow.directory.branch_by_code("SH01")
        assert branch is not None
        found = [uow.batches.latest(branch.id, Period(2026, m)) for m in (8, 9)]
        return [b.id for b in found if b is not None and b.state is BatchState.FINANCE_PENDING]


def step5_paid(w: World, claim_id: int, alert_id: int, batch_ids: list[int]) -> None:
    s = w.show
    w.clock.advance(timedelta(hours=26))
    s.heading(
        "5. 社保缴纳完成：张三状态恢复正常，暂缓的报销自动恢复并通知张三",
        "5. Contributions paid: Zhang San's status is normal, the held claim resumes by itself",
    )
    for batch_id in batch_ids:
        batches.submit_batch(w.ctx, batch_id, reference=f"BUREAU-{batch_id}")
        batches.record_batch_payment(w.ctx, batch_id, w.ctx.today(), reference=f"BANK-{batch_id}")
    s.say("缴费批次已报送社保局，银行扣款成功", "The batches are filed with the bureau and paid")
    sent = s.deliver()
    report = check_status(w.ctx, "E1001", months=w.ctx.rules.claim_check_months)
    t = s.renderer.translator_for_locale()
    strip = " | ".join(f"{m.period} {t.word('month', m.state)}" for m in report.months)
    s.say(strip, strip)
    with w.ctx.uow() as uow:
        claim_state = uow.claims.get(claim_id).state
        alert_state = uow.alerts.get(alert_id).state
    s.check(
        report.status is Status.NORMAL, "张三的状态恢复为“正常”", "Zhang San's status is normal"
    )
    s.check(
        claim_state is ClaimState.UNDER_REVIEW,
        "报销自动恢复为审核中",
        "the claim resumed to under review by itself",
    )
    s.check(
        any(a.target == "E1001" and m.key == "claim.resumed" for a, m in sent),
        "张三收到恢复通知",
        "Zhang San is told",
    )
    s.check(alert_state is AlertState.RESOLVED, "告警已自动关闭", "the alert closed by itself")


def step6_payout(w: World, claim_id: int) -> None:
    s, finance, zhang = w.show, w.person("F5001"), w.person("E1001")
    s.heading(
        "6. 财务用按钮审核通过并打款；张三收到“已打款”通知（含短信），凭证归档可下载",
        "6. Finance approves with a button and pays; Zhang San is told (and texted); voucher filed",
    )
    card = next(
        m
        for a, m in w.show.channel.sent
        if a.target == "F5001" and m.key == "claim.review_requested"
    )
    button = next(b for b in card.buttons if b.action == "claim.approve")
    resolved = resolve_button(w.ctx, button.token, finance)
    s.say(
        f"孙丽 点击 [{button.label}]，核定金额 ¥8650.00",
        f"Sun Li clicks [{button.label}], amount ¥8650.00",
    )
    claims.approve_claim(w.ctx, resolved.payload["claim_id"], finance, Decimal("8650.00"), "demo")
    claims.record_payout(w.ctx, claim_id, finance, reference="PAY-20261013-0001", channel="demo")
    sent = s.deliver()
    keys = {(a.platform, m.key) for a, m in sent if a.target == "E1001"}
    view = claims.claim_view(w.ctx, claim_id)
    voucher = next((d for d in view.documents if d.kind is DocumentKind.VOUCHER), None)
    s.check(
        ("recording", "claim.paid") in keys and ("sms", "claim.paid") in keys,
        "张三通过聊天和短信收到“已打款”通知",
        "Zhang San gets the paid notice by chat and SMS",
    )
    s.check(view.claim.state is ClaimState.PAID, "报销状态：已打款", "the claim is paid")
    if s.check(
        voucher is not None, "报销凭证已存入张三的档案", "the voucher is filed in his record"
    ):
        assert voucher is not None
        document, content = claims.read_document(w.ctx, voucher.id, zhang, channel="demo")
        s.say(
            f"张三 下载 {document.filename}（{len(content)} 字节）",
            f"Zhang San downloads {document.filename} ({len(content)} bytes)",
        )
        s.check(
            content.startswith(b"%PDF-"), "凭证可以下载（PDF）", "the voucher downloads as a PDF"
        )


def step7_escalation(w: World) -> None:
    s, zhang = w.show, w.person("E1001")
    s.heading(
        "7. 假如无人处理：24 小时后升级至人事经理，48 小时后升级至人力资源总监",
        "7. Had nobody acted: the HR manager after 24 hours, the HR director after 48",
    )
    consents.record_consent(w.ctx, zhang, True, w.ctx.rules.medical_notice, channel="demo")
    claim = claims.open_claim(w.ctx, zhang, ClaimType.HOSPITALIZATION)
    for kind, (filename, content) in SAMPLE_FILES.items():
        claims.attach_document(w.ctx, claim.id, zhang, kind, filename, content)
    claims.submit_claim(w.ctx, claim.id, zhang)
    start = w.ctx.now()
    s.deliver()
    seen: dict[str, list[str]] = {}
    for hours in (23, 24, 47, 48):
        w.clock.set(start + timedelta(hours=hours))
        alerts.sweep_escalations(w.ctx)
        s.say(f"⏩ +{hours} 小时", f"⏩ +{hours} h")
        seen[str(hours)] = [f"{a.target}:{m.key}" for a, m in s.deliver()]
    s.check(
        not any(k.endswith("level2") for k in seen["23"]),
        "23 小时时尚未升级",
        "no escalation at 23 hours",
    )
    s.check(
        "M3001:alert.level2" in seen["24"],
        "24 小时：人事经理刘强收到二级告警",
        "at 24 hours HR manager Liu Qiang is alerted",
    )
    s.check(
        "D4001:alert.level3" in seen["48"] and not seen["47"],
        "48 小时：人力资源总监陈静收到三级告警",
        "at 48 hours HR director Chen Jing is alerted",
    )
