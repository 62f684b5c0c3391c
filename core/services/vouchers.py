"""The reimbursement voucher (报销凭证): a one-page PDF filed in the employee's record.

Written by hand in a few lines of PDF so the core needs no PDF library; the text is ASCII (the
built-in Helvetica has no Chinese glyphs) and the ID number appears only masked.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from core.domain.claims import Claim
from core.domain.directory import Employee
from core.domain.idnumbers import mask_id_number


def voucher_lines(claim: Claim, employee: Employee, tz: ZoneInfo) -> list[str]:
    paid = claim.paid_at.astimezone(tz).strftime("%Y-%m-%d %H:%M") if claim.paid_at else "-"
    return [
        "hrbot - Reimbursement voucher",
        "",
        f"Claim: {claim.reference} ({claim.claim_type})",
        f"Employee no.: {employee.employee_no}",
        f"ID number: {mask_id_number(employee.id_number)}",
        f"Amount paid: CNY {claim.amount}",
        f"Paid at: {paid} ({tz.key})",
        f"Payment reference: {claim.payout_reference or '-'}",
    ]


def _pdf_text(text: str) -> str:
    ascii_only = text.encode("ascii", "replace").decode("ascii")
    return ascii_only.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def voucher_pdf(claim: Claim, employee: Employee, tz: ZoneInfo) -> bytes:
    return text_pdf(voucher_lines(claim, employee, tz))


def receipt_lines(
    branch: str, period: str, headcount: int, total: str, paid_on: str, reference: str
) -> list[str]:
    """hrbot's own record of a batch payment, filed when the payer sent no receipt."""
    return [
        "hrbot - Social insurance contribution receipt",
        "",
        f"Branch: {branch}",
        f"Period: {period}",
        f"Employees: {headcount}",
        f"Total paid: CNY {total}",
        f"Paid on: {paid_on}",
        f"Payment reference: {reference or '-'}",
    ]


def text_pdf(lines: list[str]) -> bytes:
    """A one-page PDF of ASCII lines."""
    text = "BT /F1 12 Tf 16 TL 72 770 Td " + " ".join(f"({_pdf_text(x)}) '" for x in lines) + " ET"
    stream = text.encode("ascii")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)
