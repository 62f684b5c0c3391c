"""Contribution budgets: what a branch plans to pay for one month (natural key: branch + month).

Finance imports them (``hrbot import budgets``) so that reports can set what was paid against what
was planned. Amounts are yuan with at most two decimals and never negative; the import checks both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from core.domain.periods import Period


@dataclass(eq=False)
class Budget:
    branch_id: int
    period: Period
    amount: Decimal
    id: int = field(init=False)
