"""``hrbot import employees``: level 2 checks of the directory, then the upsert by employee number.

Per row: the ID number's check digit and birth date, leave after hire, no negative base, nobody
their own manager, and no employee number, ID number or chat id twice in the file. Across the
file and the database: each branch code known or named (``branch_name``) in the file, and named
the same way throughout; managers resolvable and not in a loop; no ID number or chat id that
belongs to someone else in the database. An employee file is small (a company's people), so its
rows are kept until the end, where those checks need them all.
"""

from __future__ import annotations

from datetime import date
from functools import partial

from core.domain.idnumbers import birth_date, check_digit
from core.imports.base import Importer, Values
from core.imports.columns import EMPLOYEES
from core.imports.directory import UNIQUE, Directory
from core.imports.report import Counts

MIN_WORKING_AGE = 16
"""Labour Law art. 15: no employment under 16; an ID number saying so is a typing error."""


class EmployeeImport(Importer):
    schema = EMPLOYEES
    measures = ("contribution_base",)

    def prepare(self) -> None:
        self.directory = Directory(self.store)
        self.rows: list[tuple[int, Values]] = []
        self.branch_names: dict[str, str] = {}
        self._first: dict[tuple[str, object], int] = {}

    def check(self, line: int, values: Values) -> None:
        self.rows.append((line, values))
        self._check_id_number(line, values)
        for column in ("employee_no", *UNIQUE):
            value = values.get(column)
            if value is not None:
                first = self._first.setdefault((column, value), line)
                if first != line:
                    self.issue(line, column, value, "duplicate_in_file", first=first)
        hire, leave = values.get("hire_date"), values.get("leave_date")
        if hire is not None and leave is not None and leave < hire:
            self.issue(line, "leave_date", leave, "leave_before_hire", hire_date=hire.isoformat())
        base = values.get("contribution_base")
        if base is not None and base < 0:
            self.issue(line, "contribution_base", base, "negative_amount")
        manager = values.get("manager_employee_no")
        if manager is not None and manager == values.get("employee_no"):
            self.issue(line, "manager_employee_no", manager, "manager_self")

    def _check_id_number(self, line: int, values: Values) -> None:
        number = values.get("id_number")
        if number is None:
            return
        try:
            born = birth_date(number)
        except ValueError:
            self.issue(line, "id_number", number, "id_number_birth_date")
            return
        if check_digit(number[:17]) != number[17]:
            self.issue(line, "id_number", number, "id_number_check_digit")
        elif born > self.today:
            self.issue(line, "id_number", number, "id_number_birth_date")
        hire = values.get("hire_date")
        if hire is not None and born <= self.today and _age(born, hire) < MIN_WORKING_AGE:
            self.issue(line, "hire_date", hire, "too_young_at_hire", age=_age(born, hire))

    def finish(self) -> None:
        self._check_branches()
        self._check_managers()
        self._check_taken()
        if not self.result.ok:
            return
        planned = self.directory.plan(self.rows, self.present)
        self.result.related["branches"] = self.directory.branch_counts(self.branch_names)
        new_departments = len(self.directory.new_departments(planned))
        self.result.related["departments"] = Counts(created=new_departments)
        for line, action, final in planned:
            self.result.counts.add(action)
            self.totals.add(final["branch_code"], "", [final["contribution_base"]])
            self.sample(line, action, partial(self._shown, final))
        if self.may_write:
            self.directory.write(planned, self.present, self.branch_names, self.today)

    def _shown(self, final: Values) -> Values:
        stored = self.directory.branches.get(final["branch_code"])
        name = self.branch_names.get(final["branch_code"]) or (stored or {}).get("name")
        shown = {column.name: final.get(column.name) for column in EMPLOYEES.columns}
        return shown | {"branch_name": name}

    def _check_branches(self) -> None:
        named: dict[str, tuple[str, int]] = {}
        for line, values in self.rows:
            code, name = values.get("branch_code"), values.get("branch_name")
            if code is None or name is None:
                continue
            first_name, first_line = named.setdefault(code, (name, line))
            if first_name != name:
                self.issue(
                    line,
                    "branch_name",
                    name,
                    "branch_name_conflict",
                    first=first_line,
                    name=first_name,
                )
        for line, values in self.rows:
            code = values.get("branch_code")
            if code is not None and code not in self.directory.branches and code not in named:
                self.issue(line, "branch_code", code, "unknown_branch")
        self.branch_names = {code: name for code, (name, _) in named.items()}

    def _check_managers(self) -> None:
        if "manager_employee_no" not in self.present:
            return
        stored = self.directory.employees
        boss = {number: view["manager_employee_no"] for number, view in stored.items()}
        in_file = {v["employee_no"]: v for _, v in self.rows if "employee_no" in v}
        boss |= {number: v.get("manager_employee_no") for number, v in in_file.items()}
        for line, values in self.rows:
            number, manager = values.get("employee_no"), values.get("manager_employee_no")
            if manager is None or manager == number:
                continue
            if manager not in stored and manager not in in_file:
                self.issue(line, "manager_employee_no", manager, "unknown_manager")
            elif number is not None and _in_loop(number, boss):
                self.issue(line, "manager_employee_no", manager, "manager_loop")

    def _check_taken(self) -> None:
        """An ID number or chat id stored for someone else, who keeps it (not in the file)."""
        in_file = {values.get("employee_no") for _, values in self.rows}
        for column in UNIQUE:
            if column not in self.present:
                continue
            owners = {
                view[column]: number
                for number, view in self.directory.employees.items()
                if view[column] is not None
            }
            for line, values in self.rows:
                owner = owners.get(values.get(column))
                if (
                    owner is not None
                    and owner != values.get("employee_no")
                    and owner not in in_file
                ):
                    self.issue(line, column, values[column], "taken_in_database", employee_no=owner)


def _age(born: date, on: date) -> int:
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _in_loop(start: str, boss: dict[str, str | None]) -> bool:
    seen: set[str] = set()
    current = boss.get(start)
    while current is not None and current not in seen:
        if current == start:
            return True
        seen.add(current)
        current = boss.get(current)
    return False
