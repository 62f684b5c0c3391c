"""``hrbot import budgets``: ``branch_code, period, amount``, upserted by branch and month.

Level 2: the branch is in the database, the amount is not negative, and no branch and month
appears twice in the file. A budget file has a row per branch and month, so it is held whole.
"""

from __future__ import annotations

from functools import partial

from core.domain.budgets import Budget
from core.imports.base import Importer, Values
from core.imports.columns import BUDGETS
from core.imports.report import Action


class BudgetImport(Importer):
    schema = BUDGETS
    measures = ("amount",)

    def prepare(self) -> None:
        self.branches = {row["code"]: row["id"] for row in self.store.rows("branches")}
        self.stored = {(row["branch_id"], row["period"]): row for row in self.store.rows("budgets")}
        self.staged: list[tuple[int, str, Budget]] = []
        self._first: dict[tuple[str, object], int] = {}

    def check(self, line: int, values: Values) -> None:
        code, period = values.get("branch_code"), values.get("period")
        if code is not None and code not in self.branches:
            self.issue(line, "branch_code", code, "unknown_branch")
        amount = values.get("amount")
        if amount is not None and amount < 0:
            self.issue(line, "amount", amount, "negative_amount")
        if code is not None and period is not None:
            first = self._first.setdefault((code, period), line)
            if first != line:
                self.issue(line, "period", period, "duplicate_in_file", first=first)

    def accept(self, line: int, values: Values) -> None:
        code = values["branch_code"]
        budget = Budget(self.branches[code], values["period"], values["amount"])
        self.staged.append((line, code, budget))

    def finish(self) -> None:
        created: list[Values] = []
        updated: list[Values] = []
        for line, code, budget in self.staged:
            record = {
                "branch_id": budget.branch_id,
                "period": budget.period,
                "amount": budget.amount,
            }
            old = self.stored.get((budget.branch_id, budget.period))
            if old is None:
                action = Action.CREATE
                created.append(record)
            elif old["amount"] != budget.amount:
                action = Action.UPDATE
                updated.append({"id": old["id"], "amount": budget.amount})
            else:
                action = Action.UNCHANGED
            self.result.counts.add(action)
            self.totals.add(code, str(budget.period), [budget.amount])
            self.sample(line, action, partial(_shown, code, budget))
        if self.may_write:
            self.store.insert("budgets", created)
            self.store.update("budgets", updated)


def _shown(code: str, budget: Budget) -> Values:
    return {"branch_code": code, "period": budget.period, "amount": budget.amount}
