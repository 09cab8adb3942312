"""Request and response bodies of the bank rails API (participants, bank accounts), strict
as in ``api.schemas``: unknown fields refused, booleans must be JSON booleans."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from tindahan import limits
from tindahan.api.schemas import AmountMinor, ObjectId, Request

Code = Annotated[
    str, Field(min_length=2, max_length=limits.PARTICIPANT_CODE_MAX_LENGTH, examples=["BDO"])
]
Bic = Annotated[str, Field(min_length=8, max_length=11, examples=["BNORPHMMXXX"])]
Name = Annotated[str, Field(min_length=1, max_length=limits.NAME_MAX_LENGTH)]


class ParticipantCreate(Request):
    code: Code
    bic: Bic
    name: Name
    instapay: bool
    pesonet: bool
    active: bool = True


class ParticipantUpdate(Request):
    bic: Bic | None = None
    name: Name | None = None
    instapay: bool | None = None
    pesonet: bool | None = None
    active: bool | None = None


class Participant(BaseModel):
    object: Literal["participant"]
    code: str
    bic: str
    name: str
    instapay: bool
    pesonet: bool
    active: bool
    updated: str | None


class BankAccountCreate(Request):
    bank: Annotated[
        str,
        Field(
            min_length=2,
            max_length=limits.PARTICIPANT_CODE_MAX_LENGTH,
            description="The participant's code in the directory (GET /v1/rails/participants).",
            examples=["BDO"],
        ),
    ]
    account_number: Annotated[str, Field(min_length=1, max_length=40, examples=["0012-3456-7890"])]
    account_name: Name
    party_id: ObjectId | None = Field(None, description="Operator keys only: whose account.")

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={
            "examples": [
                {"bank": "BDO", "account_number": "0012-3456-7890", "account_name": "Nena Reyes"}
            ]
        },
    )


class BankAccount(BaseModel):
    id: str
    object: Literal["bank_account"]
    party_id: str
    bank: str
    bank_name: str
    bic: str
    account_number_masked: str = Field(examples=["•••• 7890"])
    account_name: str
    status: Literal["active", "removed"]
    created: str
    removed: str | None


class BankTransferCreate(Request):
    bank_account_id: ObjectId
    amount_minor: AmountMinor
    currency: Literal["PHP"] = "PHP"

    model_config = ConfigDict(
        extra="forbid",
        strict=True,
        json_schema_extra={"examples": [{"bank_account_id": "bac_…", "amount_minor": 150000}]},
    )


class Reason(BaseModel):
    code: str = Field(examples=["AC04"])
    en: str = Field(examples=["the account is closed"])
    fil: str = Field(examples=["sarado na ang account"])


class BankTransfer(BaseModel):
    id: str
    object: Literal["bank_transfer"]
    party_id: str
    wallet_id: str
    bank_account_id: str | None = Field(
        description="The registered account paid; null for a QR Ph merchant's code."
    )
    participant_code: str | None = Field(
        description="Paying another institution's QR Ph code: its acquirer; else null."
    )
    rail: Literal["instapay", "pesonet"]
    amount_minor: int
    currency: str
    uetr: str
    end_to_end_id: str
    status: Literal["pending", "settled", "rejected", "returned"]
    reason: Reason | None
    returned_minor: int
    kind: Literal["payout", "send"]
    fee_minor: int = Field(description="The fee charged with the transfer, in centavos.")
    fee_refunded_minor: int = Field(description="What of the fee came back (rails.fees).")
    total_minor: int = Field(description="What left the wallet: the amount and the fee.")
    created: str
    sent: str | None
    finished: str | None


class BankTransferQuote(BaseModel):
    object: Literal["bank_transfer_quote"]
    bank_account: BankAccount
    kind: Literal["payout", "send"]
    amount_minor: int
    currency: str
    rail: Literal["instapay", "pesonet"]
    fee_minor: int
    total_minor: int
    leaves_at: str | None = Field(description="A PESONet transfer's cut-off; null for InstaPay.")


class QrInterbankQuote(BaseModel):
    object: Literal["qr_interbank_quote"]
    merchant_name: str = Field(description="The name printed on the code (tag 59).")
    bank: str = Field(description="The acquirer's participant code.")
    bank_name: str
    account_number_masked: str
    amount_minor: int
    amount_fixed: bool = Field(description="A dynamic code fixes the amount.")
    currency: str
    rail: Literal["instapay"]
    fee_minor: int
    total_minor: int
    reference: str | None = Field(description="The code's reference label (62.05), if any.")
    payload: str


class InboundFx(BaseModel):
    mid_rate: str
    customer_rate: str
    spread_bps: int
    margin_minor: int = Field(description="What the spread kept, in centavos.")


class InboundTransfer(BaseModel):
    id: str
    object: Literal["inbound_transfer"]
    party_id: str | None
    wallet_id: str | None
    rail: Literal["instapay", "pesonet"]
    uetr: str
    end_to_end_id: str
    debtor_agent: str | None = Field(description="The sending bank's BIC.")
    amount_minor: int = Field(description="As sent, in the sent currency's minor units.")
    currency: str
    credited_minor: int | None
    credited_currency: str
    fx: InboundFx | None
    status: Literal["credited", "rejected", "returned"]
    reason: Reason | None
    received: str
    returned: str | None


class RecallRejection(BaseModel):
    code: str
    en: str


class InboundRecall(BaseModel):
    id: str
    object: Literal["inbound_recall"]
    inbound_transfer_id: str
    party_id: str | None
    uetr: str
    amount_minor: int
    currency: str
    case_id: str
    bank: str | None = Field(description="The recalling bank's BIC.")
    reason: Reason | None
    status: Literal["pending", "accepted", "rejected"]
    rejection: RecallRejection | None
    received: str
    decided: str | None
    sent: str | None


class RecallDecision(Request):
    decision: Literal["accept", "reject"]
    reason: (
        Annotated[
            Literal["CUST", "LEGL", "AM04", "ARDT", "NOOR"],
            Field(description="Why a rejection: the camt.029 reason code (default CUST)."),
        ]
        | None
    ) = None
