"""The employee's record: documents filed for them, such as contribution receipts (缴费凭证)
and reimbursement vouchers (报销凭证), each downloadable by the employee.

One file may be filed in many records (a branch's receipt covers everyone on the batch): the
rows share the storage key, and the file is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from core.domain.periods import Period


class RecordKind(StrEnum):
    CONTRIBUTION_RECEIPT = "contribution_receipt"
    CLAIM_VOUCHER = "claim_voucher"


@dataclass(eq=False)
class RecordDocument:
    employee_id: int
    kind: RecordKind
    filename: str
    content_type: str
    size: int
    sha256: str
    storage_key: str
    filed_at: datetime
    period: Period | None = None
    batch_id: int | None = None
    claim_id: int | None = None
    id: int = field(init=False)
