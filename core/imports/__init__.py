"""Importing spreadsheets into the directory: employees, contributions and budgets.

A file is read as a stream of rows (``sources``), its header mapped onto the schema and each cell
parsed to its type (level 1: ``columns``, ``fields``), every row checked against the rest of the
file and the database (level 2: ``employees``, ``contributions``, ``budgets``), and a seeded sample
plus totals kept for a person to compare with the source (level 3: ``report``). ``run`` drives it:
all rows are written in one transaction, or none when any row is invalid.

Errors are stable reason codes with parameters; the command line renders them in the user's
language. No web or CLI framework here, and SQLAlchemy only through ``core.persistence.bulk``.
"""
