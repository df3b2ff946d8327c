"""Events of the gateway context (people and machine accounts), topic `fundwatch.gateway.v1`."""

from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import DomainEvent


class UserRegistered(DomainEvent):
    """A person was given an account on the platform (第二十五条). Credentials never travel."""

    event_type: ClassVar[str] = "gateway.UserRegistered"
    context: ClassVar[str] = "gateway"

    username: str
    display_name: str
    org_unit: str
    division: str | None = Field(None, description="主管处室 of a division user.")
    roles: list[str]
    pii: bool = Field(False, description="May see unmasked ID numbers.")
    application_id: str | None = Field(None, description="The permission application (附件3) it was granted on.")


class ApiKeyIssued(DomainEvent):
    """A machine (the treasury system, the provincial platform) was given an API key. The key itself never travels."""

    event_type: ClassVar[str] = "gateway.ApiKeyIssued"
    context: ClassVar[str] = "gateway"

    key_id: str = Field(description="Public handle of the key: the start of its digest.")
    subject: str
    roles: list[str]
    org_unit: str | None
    expires_at: datetime | None
    rate_limit: str | None = Field(None, description="Its own rate limit, e.g. 20000/minute.")


class ApiKeyRevoked(DomainEvent):
    """An API key stopped working."""

    event_type: ClassVar[str] = "gateway.ApiKeyRevoked"
    context: ClassVar[str] = "gateway"

    key_id: str
    reason: str


class PasswordChanged(DomainEvent):
    """A person's password changed: by the person, or reset by an administrator (then it is a one-time
    password to be changed at the next sign-in). Every open session of the person ended with it."""

    event_type: ClassVar[str] = "gateway.PasswordChanged"
    context: ClassVar[str] = "gateway"

    username: str
    reset: bool = Field(description="Set by an administrator, to be changed at the next sign-in.")


class SecondFactorChanged(DomainEvent):
    """A person's second sign-in factor (an authenticator app) was enrolled, or removed by an administrator
    (then every open session of the person ended). The secret never travels."""

    event_type: ClassVar[str] = "gateway.SecondFactorChanged"
    context: ClassVar[str] = "gateway"

    username: str
    enabled: bool


class AccountLocked(DomainEvent):
    """Too many wrong passwords in a row: the account refuses sign-in until `until`."""

    event_type: ClassVar[str] = "gateway.AccountLocked"
    context: ClassVar[str] = "gateway"

    username: str
    failures: int
    until: datetime


class ApiKeyRotated(DomainEvent):
    """A machine's key was replaced: the old one keeps working until `old_expires_at`, so that both are valid
    while the machine switches over."""

    event_type: ClassVar[str] = "gateway.ApiKeyRotated"
    context: ClassVar[str] = "gateway"

    key_id: str
    new_key_id: str
    old_expires_at: datetime


class PermissionForm(BaseModel):
    """One row of 《财政扶贫资金动态监控平台用户权限申请表》 (附件3) as events carry it: the ID number masked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    username: str = Field(description="The login name wanted (开通) or held (变更, 撤销).")
    org_unit: str
    division: str | None = Field(None, description="处室 of a division user.")
    name: str = Field(description="姓名")
    id_masked: str = Field(description="身份证号, masked: 220102********1234.")
    title: str = Field(description="职务")
    phone: str = Field(description="联系电话")
    roles: list[str] = Field(description="权限: the roles asked for (撤销: the roles held).")
    pii: bool = Field(description="权限: may see unmasked ID numbers (敏感信息查看).")
    remarks: str | None = Field(None, description="备注")


class PermissionApplicationSubmitted(DomainEvent):
    """A division or district applied to open, change or revoke a person's account (第二十五条(一))."""

    event_type: ClassVar[str] = "gateway.PermissionApplicationSubmitted"
    context: ClassVar[str] = "gateway"

    application_id: str
    kind: Literal["grant", "change", "revoke"] = Field(description="开通, 变更 or 撤销.")
    form: PermissionForm
    content_digest: str = Field(description="Keyed digest of the form as submitted: the same form twice is one.")


class PermissionApplicationReturned(DomainEvent):
    """The treasury division sent an application back to the applicant for corrections."""

    event_type: ClassVar[str] = "gateway.PermissionApplicationReturned"
    context: ClassVar[str] = "gateway"

    application_id: str
    reason: str


class PermissionApplicationResubmitted(DomainEvent):
    """The applicant corrected a returned application and handed it in again."""

    event_type: ClassVar[str] = "gateway.PermissionApplicationResubmitted"
    context: ClassVar[str] = "gateway"

    application_id: str
    form: PermissionForm


class PermissionApplicationForwarded(DomainEvent):
    """The treasury division accepted an application and reports it to the provincial finance department
    (第二十五条(二)): sync sends it as a `permission_application` message; the province answers with a
    `permission_answer` message (the gateway applies it), or the treasury records its answer from paper through
    POST /api/v1/permission-applications/{id}/feedback."""

    event_type: ClassVar[str] = "gateway.PermissionApplicationForwarded"
    context: ClassVar[str] = "gateway"

    application_id: str
    kind: Literal["grant", "change", "revoke"]
    form: PermissionForm


class PermissionApplicationDecided(DomainEvent):
    """The provincial finance department's answer (反馈) to a forwarded application was recorded."""

    event_type: ClassVar[str] = "gateway.PermissionApplicationDecided"
    context: ClassVar[str] = "gateway"

    application_id: str
    decision: Literal["approved", "rejected"]
    remarks: str | None = None
    channel: Literal["platform", "paper"] = Field(
        description="Sent by the provincial platform, or a paper reply recorded by the treasury division.")


class UserChanged(DomainEvent):
    """A person's permissions changed on an approved application (变更): the account as it now stands."""

    event_type: ClassVar[str] = "gateway.UserChanged"
    context: ClassVar[str] = "gateway"

    username: str
    display_name: str
    org_unit: str
    division: str | None = None
    roles: list[str]
    pii: bool
    application_id: str


class UserRevoked(DomainEvent):
    """A person's account was disabled on an approved application (撤销): no more sign-in."""

    event_type: ClassVar[str] = "gateway.UserRevoked"
    context: ClassVar[str] = "gateway"

    username: str
    application_id: str


class InitialPasswordIssued(DomainEvent):
    """An administrator gave a newly granted person a one-time password, to be changed at first sign-in
    (第二十五条(二): 告知). The password never travels."""

    event_type: ClassVar[str] = "gateway.InitialPasswordIssued"
    context: ClassVar[str] = "gateway"

    username: str
    application_id: str


class PermissionFormExported(DomainEvent):
    """The treasury division exported applications as 附件3 (with full ID numbers when `unmasked`, 第二十八条)."""

    event_type: ClassVar[str] = "gateway.PermissionFormExported"
    context: ClassVar[str] = "gateway"

    application_ids: list[str]
    unmasked: bool


class ExportRequested(DomainEvent):
    """Someone asked to export platform data, or to give it to an outsider (对外提供); the poverty office co-signs
    first (会签局脱贫办, 第二十七条)."""

    event_type: ClassVar[str] = "gateway.ExportRequested"
    context: ClassVar[str] = "gateway"

    export_id: str
    path: str = Field(description="The export route, under /api/v1, e.g. /ledger/export.")
    params: dict[str, str | int | bool] = Field(description="Its query parameters (filters).")
    purpose: str = Field(description="用途")
    recipient: str | None = Field(None, description="The outsider the data is given to, e.g. 省财政厅; null: "
                                                    "internal use.")
    requester: str
    requester_org_unit: str | None


class ExportCosigned(DomainEvent):
    """The poverty office co-signed (会签) an export request: approved, to be downloaded once until `download_until`,
    or refused."""

    event_type: ClassVar[str] = "gateway.ExportCosigned"
    context: ClassVar[str] = "gateway"

    export_id: str
    decision: Literal["approved", "refused"]
    opinion: str = Field(description="会签意见")
    cosigner: str
    download_until: datetime | None = Field(description="The end of the requester's one download; null if refused.")


class ExportDownloaded(DomainEvent):
    """The requester downloaded a co-signed export: the one time it can be."""

    event_type: ClassVar[str] = "gateway.ExportDownloaded"
    context: ClassVar[str] = "gateway"

    export_id: str
    downloaded_by: str
