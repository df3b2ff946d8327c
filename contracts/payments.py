"""Events of the payments context (资金支付), topic `fundwatch.payments.v1`."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent
from contracts.values import Money, PayeeType, PaymentMethod, PovertyStatus, SettlementMethod


class PayeeRegistryFacts(BaseModel):
    """What the registries said about a person payee when the payment was recorded (到人到户 checks)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    poor_status: PovertyStatus | None = Field(description="建档立卡 status; null: not on the 建档立卡 list.")
    poor_org_unit: str | None = Field(None, description="The district the person is registered in.")
    public_employee: bool = Field(description="On the 财政供养人员 list.")
    employer: str | None = Field(None, description="工作单位, for a person on the 财政供养人员 list.")
    name_matches: bool | None = Field(
        description="Whether the payee name is the registered name of that ID number; null: on no registry.")
    registered_name: str | None = Field(None, description="The registered name, when it differs.")


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
    payee_registry: PayeeRegistryFacts | None = Field(
        None, description="The registries' facts about a person payee, as of recording; null for organisations.")
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
