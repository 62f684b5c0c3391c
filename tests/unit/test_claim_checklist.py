"""What a claim needs before it can be submitted, and what a decision needs."""

from __future__ import annotations

import pytest

from core.domain.claims import (
    ClaimType,
    DocumentKind,
    accepted_kinds,
    checklist,
    missing_documents,
    require_reason,
)
from core.domain.errors import InvalidValue

K = DocumentKind


def test_hospitalization_needs_admission_certificate_bill_and_id_copy() -> None:
    assert missing_documents(ClaimType.HOSPITALIZATION, set()) == (
        K.ADMISSION_CERTIFICATE,
        K.ITEMIZED_BILL,
        K.ID_COPY,
    )
    assert missing_documents(ClaimType.HOSPITALIZATION, {K.ID_COPY, K.INVOICE}) == (
        K.ADMISSION_CERTIFICATE,
        K.ITEMIZED_BILL,
    )
    received = {K.ADMISSION_CERTIFICATE, K.ITEMIZED_BILL, K.ID_COPY}
    assert missing_documents(ClaimType.HOSPITALIZATION, received) == ()


def test_the_invoice_is_optional() -> None:
    items = checklist(ClaimType.HOSPITALIZATION, {K.INVOICE})
    assert [(i.kind, i.required, i.received) for i in items] == [
        (K.ADMISSION_CERTIFICATE, True, False),
        (K.ITEMIZED_BILL, True, False),
        (K.ID_COPY, True, False),
        (K.INVOICE, False, True),
        (K.DISCHARGE_SUMMARY, False, False),
    ]


def test_outpatient_needs_its_own_record() -> None:
    assert missing_documents(ClaimType.OUTPATIENT, {K.ITEMIZED_BILL, K.ID_COPY}) == (
        K.OUTPATIENT_RECORD,
    )
    assert K.ADMISSION_CERTIFICATE not in accepted_kinds(ClaimType.OUTPATIENT)


@pytest.mark.parametrize("claim_type", list(ClaimType))
def test_the_voucher_is_never_an_upload(claim_type: ClaimType) -> None:
    assert K.VOUCHER not in accepted_kinds(claim_type)


@pytest.mark.parametrize("reason", [None, "", "   ", "\n\t"])
def test_a_rejection_needs_a_reason(reason: str | None) -> None:
    with pytest.raises(InvalidValue) as raised:
        require_reason(reason, "reject")
    assert raised.value.params == {"field": "reason"}


def test_a_reason_is_trimmed() -> None:
    assert require_reason("  发票缺失  ", "reject") == "发票缺失"
