"""``hrbot import contributions``: one row per employee and month, upserted by that natural key.

Level 2: the employee is in the database; the month lies inside their employment; no employee
and month twice in the file; amounts not negative, and employer plus employee share not above
the base (shares are rates of it, far below 100%); no payment dated in the future.

A contributions file can hold hundreds of thousands of rows, so it is streamed: valid rows are
staged in chunks, each chunk looked up in the database once (to tell created, updated and
unchanged apart) and written at once with Core executemany. Memory holds one chunk, the sample,
the totals and one small integer per row for the duplicate check.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from core.domain.periods import Period
from core.imports.base import Importer, Values
from core.imports.columns import CONTRIBUTIONS
from core.imports.report import Action

CHUNK = 2_000
_AMOUNTS = ("base", "employer_amount", "employee_amount")
_OPTIONAL = ("paid_date", "delay_reason")


@dataclass(frozen=True, slots=True)
class Person:
    id: int
    branch_code: str
    first_month: int
    last_month: int | None
    hire_date: date
    leave_date: date | None


def month_index(period: Period) -> int:
    return period.year * 12 + period.month - 1


class ContributionImport(Importer):
    schema = CONTRIBUTIONS
    measures = _AMOUNTS

    def prepare(self) -> None:
        codes = {row["id"]: row["code"] for row in self.store.rows("branches", ("id", "code"))}
        columns = ("id", "employee_no", "branch_id", "hire_date", "leave_date")
        self.people = {
            row["employee_no"]: Person(
                row["id"],
                codes[row["branch_id"]],
                month_index(Period.of(row["hire_date"])),
                month_index(Period.of(row["leave_date"])) if row["leave_date"] else None,
                row["hire_date"],
                row["leave_date"],
            )
            for row in self.store.rows("employees", columns)
        }
        self._seen: dict[int, int] = {}
        self._chunk: list[tuple[int, str, Person, Values]] = []

    def check(self, line: int, values: Values) -> None:
        number = values.get("employee_no")
        person = self.people.get(number) if number is not None else None
        if number is not None and person is None:
            self.issue(line, "employee_no", number, "unknown_employee")
        period = values.get("period")
        if person is not None and period is not None:
            self._check_month(line, person, period)
        amounts = [values.get(name) for name in _AMOUNTS]
        for name, amount in zip(_AMOUNTS, amounts, strict=True):
            if amount is not None and amount < 0:
                self.issue(line, name, amount, "negative_amount")
        base, employer, employee = amounts
        if base is not None and employer is not None and employee is not None:
            shares = employer + employee
            if min(employer, employee) >= 0 and shares > base:
                self.issue(line, "base", base, "amounts_exceed_base", total=shares)
        paid = values.get("paid_date")
        if paid is not None and paid > self.today:
            self.issue(line, "paid_date", paid, "paid_in_future", today=self.today.isoformat())

    def _check_month(self, line: int, person: Person, period: Period) -> None:
        index = month_index(period)
        if index < person.first_month or (
            person.last_month is not None and index > person.last_month
        ):
            leave = person.leave_date.isoformat() if person.leave_date else "-"
            self.issue(
                line,
                "period",
                period,
                "outside_employment",
                hire_date=person.hire_date.isoformat(),
                leave_date=leave,
            )
        # One int per row (not a tuple of objects) keeps the duplicate check small at 200k rows.
        key = person.id * 40_000 + index
        first = self._seen.setdefault(key, line)
        if first != line:
            self.issue(line, "period", period, "duplicate_in_file", first=first)

    def accept(self, line: int, values: Values) -> None:
        number = values["employee_no"]
        person = self.people[number]
        record = {
            "employee_id": person.id,
            "period": values["period"],
            "base": values["base"],
            "employer_amount": values["employer_amount"],
            "employee_amount": values["employee_amount"],
            "due_date": values["due_date"],
        }
        for name in _OPTIONAL:
            if name in self.present:  # a column the file leaves out keeps its stored value
                record[name] = values[name]
        self._chunk.append((line, number, person, record))
        if len(self._chunk) >= CHUNK:
            self._flush()

    def finish(self) -> None:
        self._flush()

    def _flush(self) -> None:
        chunk, self._chunk = self._chunk, []
        if not chunk:
            return
        stored = self._stored(chunk)
        created: list[Values] = []
        updated: list[Values] = []
        for line, number, person, record in chunk:
            old = stored.get((record["employee_id"], record["period"]))
            if old is None:
                action = Action.CREATE
                created.append(record)
            elif any(old[name] != value for name, value in record.items()):
                action = Action.UPDATE
                updated.append({"id": old["id"]} | record)
            else:
                action = Action.UNCHANGED
            self.result.counts.add(action)
            self.totals.add(
                person.branch_code, str(record["period"]), [record[a] for a in _AMOUNTS]
            )
            self.sample(line, action, partial(_shown, number, record))
        if self.may_write:
            self.store.insert("contributions", created)
            self.store.update("contributions", updated)

    def _stored(
        self, chunk: list[tuple[int, str, Person, Values]]
    ) -> dict[tuple[int, Any], Values]:
        ids = {record["employee_id"] for *_, record in chunk}
        periods = {record["period"] for *_, record in chunk}
        rows = self.store.contributions_of(ids, periods)
        return {(row["employee_id"], row["period"]): row for row in rows}


def _shown(number: str, record: Values) -> Values:
    """The stored row with the employee number in place of the internal id."""
    return {"employee_no": number} | {k: v for k, v in record.items() if k != "employee_id"}
