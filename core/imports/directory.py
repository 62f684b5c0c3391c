"""The directory side of an employee import: what is stored, what the file makes of it, and the
writes that get from one to the other.

Employees are compared in their natural keys (branch code, department name, the manager's
employee number) rather than in row ids, so a dry run can tell created from updated from
unchanged without writing anything. A column the file leaves out keeps its stored value; a blank
cell in a column the file has clears it.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from core.imports.columns import EMPLOYEES
from core.imports.report import Action, Counts
from core.persistence.bulk import ImportStore

Values = dict[str, Any]
Planned = tuple[int, Action, Values]
"""A file row: its line, what happens to it, and the employee as stored afterwards."""

FIELDS = tuple(column.name for column in EMPLOYEES.columns if column.name != "branch_name")
DEFAULTS: Values = {column.name: column.empty for column in EMPLOYEES.columns}
_OWN = (
    "employee_no",
    "name",
    "id_number",
    "role",
    "email",
    "phone",
    "slack_user_id",
    "telegram_user_id",
    "locale",
    "hire_date",
    "leave_date",
    "contribution_base",
)
"""Columns of the employees table that hold what the file gives as is."""
UNIQUE = ("id_number", "slack_user_id", "telegram_user_id")


class Directory:
    """The stored branches, departments and employees, and the writes an import plans on them."""

    def __init__(self, store: ImportStore) -> None:
        self.store = store
        self.branches = {row["code"]: row for row in store.rows("branches")}
        code_of = {row["id"]: code for code, row in self.branches.items()}
        departments = store.rows("departments")
        self.departments = {(code_of[r["branch_id"]], r["name"]): r["id"] for r in departments}
        name_of = {r["id"]: r["name"] for r in departments}
        rows = store.rows("employees")
        number_of = {row["id"]: row["employee_no"] for row in rows}
        self.ids = {row["employee_no"]: row["id"] for row in rows}
        self.employees: dict[str, Values] = {}
        for row in rows:
            view = {name: row.get(name) for name in _OWN}
            view["branch_code"] = code_of[row["branch_id"]]
            view["department"] = name_of.get(row["department_id"])
            view["manager_employee_no"] = number_of.get(row["manager_id"])
            self.employees[row["employee_no"]] = view

    # -- planning ------------------------------------------------------------------------------

    def plan(self, rows: Iterable[tuple[int, Values]], present: frozenset[str]) -> list[Planned]:
        planned = []
        given = [name for name in FIELDS if name in present]
        for line, values in rows:
            stored = self.employees.get(values["employee_no"])
            final = dict(stored if stored is not None else DEFAULTS)
            final.update({name: values[name] for name in given})
            if stored is None:
                action = Action.CREATE
            elif any(stored[name] != final[name] for name in given):
                action = Action.UPDATE
            else:
                action = Action.UNCHANGED
            planned.append((line, action, final))
        return planned

    def branch_counts(self, names: dict[str, str]) -> Counts:
        counts = Counts()
        for code, name in names.items():
            stored = self.branches.get(code)
            if stored is None:
                counts.add(Action.CREATE)
            else:
                counts.add(Action.UNCHANGED if stored["name"] == name else Action.UPDATE)
        return counts

    def new_departments(self, planned: Iterable[Planned]) -> list[tuple[str, str]]:
        wanted = {(final["branch_code"], final["department"]) for _, _, final in planned}
        return sorted(key for key in wanted if key[1] and key not in self.departments)

    # -- writing -------------------------------------------------------------------------------

    def write(
        self,
        planned: list[Planned],
        present: frozenset[str],
        branch_names: dict[str, str],
        today: date,
    ) -> None:
        self._write_branches(branch_names)
        self._write_departments(self.new_departments(planned))
        changed = [
            (action, final) for _, action, final in planned if action is not Action.UNCHANGED
        ]
        updates = [final for action, final in changed if action is Action.UPDATE]
        self._free_unique_values(updates, present)
        own = [name for name in _OWN if name in present]
        self.store.update(
            "employees",
            [{"id": self.ids[f["employee_no"]]} | self._record(f, own, present) for f in updates],
        )
        self._write_transfers(updates, today)
        created = [final for action, final in changed if action is Action.CREATE]
        self.store.insert("employees", [self._record(f, _OWN, present) for f in created])
        if "manager_employee_no" in present:
            self._write_managers([final for _, _, final in planned])

    def _write_transfers(self, updates: list[Values], today: date) -> None:
        """A changed branch code is a transfer from today: the roster keeps the months before
        on the old branch (its history starts at the hire date if none was kept yet)."""
        moved = [
            final
            for final in updates
            if self.employees[final["employee_no"]]["branch_code"] != final["branch_code"]
        ]
        if not moved:
            return
        stored_moves = self.store.rows("assignments", ("id", "employee_id", "start_date"))
        known = {row["employee_id"] for row in stored_moves}
        same_day = {
            row["employee_id"]: row["id"] for row in stored_moves if row["start_date"] == today
        }
        rows, changed = [], []
        for final in moved:
            employee_id = self.ids[final["employee_no"]]
            stored = self.employees[final["employee_no"]]
            new = self.branches[final["branch_code"]]["id"]
            if employee_id in same_day:  # moved twice today: the last file wins
                changed.append({"id": same_day[employee_id], "branch_id": new})
                continue
            if employee_id not in known and stored["hire_date"] < today:
                old = self.branches[stored["branch_code"]]["id"]
                rows.append(
                    {
                        "employee_id": employee_id,
                        "branch_id": old,
                        "start_date": stored["hire_date"],
                    }
                )
            rows.append({"employee_id": employee_id, "branch_id": new, "start_date": today})
        self.store.insert("assignments", rows)
        self.store.update("assignments", changed)

    def _write_branches(self, names: dict[str, str]) -> None:
        new = [
            {"code": code, "name": name}
            for code, name in names.items()
            if code not in self.branches
        ]
        renamed = [
            {"id": self.branches[code]["id"], "name": name}
            for code, name in names.items()
            if code in self.branches and self.branches[code]["name"] != name
        ]
        self.store.insert("branches", new)
        self.store.update("branches", renamed)
        self.branches = {row["code"]: row for row in self.store.rows("branches")}

    def _write_departments(self, new: list[tuple[str, str]]) -> None:
        rows = [{"branch_id": self.branches[code]["id"], "name": name} for code, name in new]
        self.store.insert("departments", rows)
        code_of = {row["id"]: code for code, row in self.branches.items()}
        self.departments = {
            (code_of[r["branch_id"]], r["name"]): r["id"] for r in self.store.rows("departments")
        }

    def _free_unique_values(self, updates: list[Values], present: frozenset[str]) -> None:
        """Clear the unique values that change hands first, so that two employees may swap
        chat ids in one file: the database checks uniqueness row by row, not at commit."""
        cleared = [
            {"id": self.ids[final["employee_no"]], name: None}
            for final in updates
            for name in UNIQUE
            if name in present
            and self.employees[final["employee_no"]][name] is not None
            and self.employees[final["employee_no"]][name] != final[name]
        ]
        self.store.update("employees", cleared)

    def _record(self, final: Values, own: Iterable[str], present: frozenset[str]) -> Values:
        record = {name: final[name] for name in own}
        record["branch_id"] = self.branches[final["branch_code"]]["id"]
        if "department" in present or final["employee_no"] not in self.employees:
            department = final["department"]
            key = (final["branch_code"], department)
            record["department_id"] = self.departments[key] if department else None
        return record

    def _write_managers(self, finals: list[Values]) -> None:
        ids = {
            r["employee_no"]: r["id"] for r in self.store.rows("employees", ("id", "employee_no"))
        }
        changes = []
        for final in finals:
            stored = self.employees.get(final["employee_no"])
            manager = final["manager_employee_no"]
            if stored is not None and stored["manager_employee_no"] == manager:
                continue
            if stored is None and manager is None:
                continue
            changes.append(
                {"id": ids[final["employee_no"]], "manager_id": ids[manager] if manager else None}
            )
        self.store.update("employees", changes)
