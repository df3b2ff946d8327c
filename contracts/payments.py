"""Events of the payments context (资金支付), topic `fundwatch.payments.v1`."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import DomainEvent
from contracts.values import Money, PayeeType, PaymentMethod, SettlementMethod


class PaymentRecorded(DomainEvent):
    """The treasury payment system reported a payment that has happened (observed, never refused)."""

    event_type: ClassVar[str] = "payments.PaymentRecorded"
    context: ClassVar[str] = "payments"

    payment_id: str = Field(description="The treasury's own payment id.")
    indicator_id: str | None = Field(description="The indicator the payment draws on.")
    payer_name: str = Field(description="付款人名称")
    payer_account: str = Field(description="付款账户")
    amount: Money = Field(description="支付金额")
    paid_at: datetime = Field(description="支付时间")
    purpose: str = Field(description="用途")
    settlement_method: SettlementMethod = Field(description="结算方式")
    payment_method: PaymentMethod = Field(description="支付方式")
    payee_name: str = Field(description="收款人名称")
    payee_account: str = Field(description="收款人账户")
    payee_type: PayeeType
    payee_id_masked: str | None = Field(
        None, description="Masked ID number of a person payee (220102********1234)."
    )
    payee_id_index: str | None = Field(
        None, description="Keyed blind index of the payee's ID number: matches registries, reveals nothing."
    )
    payee_credit_code: str | None = Field(None, description="统一社会信用代码 of an organisation payee.")
    org_unit: str | None = None
    content_hash: str = Field(description="Digest of the submitted record, for duplicate checks.")


class PaymentRefunded(DomainEvent):
    """Money of a recorded payment came back (退回) or the payment was reversed (冲正)."""

    event_type: ClassVar[str] = "payments.PaymentRefunded"
    context: ClassVar[str] = "payments"

    payment_id: str
    refund_id: str = Field(description="The treasury's own id of the refund.")
    indicator_id: str | None
    kind: Literal["refund", "reversal"] = Field(description="refund 退回 (part or all), reversal 冲正 (all)")
    amount: Money
    refunded_total: Money = Field(description="Everything returned on the payment so far, this one included.")
    refunded_at: datetime
    reason: str
    content_hash: str
