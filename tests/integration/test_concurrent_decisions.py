"""Two people deciding the same thing at the same moment: exactly one decision is recorded."""

from __future__ import annotations

import threading
from decimal import Decimal

from core.domain.claims import ClaimState
from core.domain.errors import DomainError
from core.services import claims
from core.services.context import Context
from tests.factories import add_records, audit_trail, make_org, open_complete_claim


def test_racing_approvals_and_rejections_give_one_decision(ctx: Context) -> None:
    org = make_org(ctx)
    add_records(ctx, org.employee, ["2026-08", "2026-09", "2026-10"], unpaid=["2026-10"])
    claim_id = open_complete_claim(ctx, org.employee)
    claims.submit_claim(ctx, claim_id, org.employee.id)
    assert claims.claim_view(ctx, claim_id).claim.state is ClaimState.UNDER_REVIEW
    start = threading.Barrier(8)
    outcomes: list[str] = []

    def decide(index: int) -> None:
        start.wait()
        try:
            if index % 2:
                claims.approve_claim(ctx, claim_id, org.finance.id, Decimal("100.00"))
            else:
                claims.reject_claim(ctx, claim_id, org.finance.id, "duplicate invoice")
            outcomes.append("won")
        except DomainError:
            outcomes.append("refused")

    threads = [threading.Thread(target=decide, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(outcomes) == 8, "every racer got an answer, none crashed"
    assert outcomes.count("won") == 1
    decisions = [
        e
        for e in audit_trail(ctx, "claim", claim_id)
        if e.action in ("claim.approve", "claim.reject")
    ]
    assert len(decisions) == 1
