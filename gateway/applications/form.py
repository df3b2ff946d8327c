"""《财政扶贫资金动态监控平台用户权限申请表》 (附件3): the form as applicants fill it in online, its checks,
and its rows as the seed prints them. No I/O."""

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from backbone.access import PEOPLE
from backbone.clock import clock
from backbone.errors import InvalidInput, fault
from backbone.pii import check_id_number
from contracts.gateway import PermissionForm
from contracts.values import CITY_ORG_UNIT, DIVISIONS, ORG_UNITS, DivisionCode, OrgUnitCode
from gateway.applications.domain import Kind

FORM_TITLE = "财政扶贫资金动态监控平台用户权限申请表"
FORM_HEADERS = ["序号", "处室", "姓名", "身份证号", "职务", "联系电话", "权限", "备注"]
KIND_NAMES = {Kind.GRANT: "开通", Kind.CHANGE: "变更", Kind.REVOKE: "撤销"}
# The roles of people (DESIGN §5); machine roles come with API keys, never through this form.
PersonRole = Literal[tuple(sorted(PEOPLE))]  # type: ignore[valid-type]
ROLE_NAMES = {"admin": "系统管理员", "treasury": "国库处", "budget": "预算处", "division": "主管处室",
              "supervision": "监督局", "info_center": "信息中心", "poverty_office": "局脱贫办",
              "district": "区（开发区）财政局"}
PII_NAME = "敏感信息查看"
USERNAME = r"^[A-Za-z][A-Za-z0-9_.-]{2,63}$"
# Mainland mobile numbers (optionally +86) and landlines with area code and optional extension.
_PHONE = re.compile(r"(?:\+?86)?1[3-9][0-9]{9}|0[0-9]{2,3}-?[0-9]{7,8}(?:-[0-9]{1,6})?")


class ApplicationForm(BaseModel):
    """One person's row of 附件3 as an applicant fills it in (also the body of a resubmission)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    username: str = Field(pattern=USERNAME, description="Login name wanted (开通) or held (变更, 撤销).",
                          examples=["zhangwei.ngq"])
    division: DivisionCode | None = Field(None, description="处室 of a division user: " + ", ".join(DIVISIONS))
    org_unit: OrgUnitCode | None = Field(None, description="The person's org unit; a division's people are the city's "
                                                   f"({CITY_ORG_UNIT}). 撤销: may be left out.")
    name: str = Field(min_length=1, max_length=50, description="姓名")
    id_number: str = Field(description="身份证号 (GB 11643); kept encrypted, shown masked.")
    title: str = Field(min_length=1, max_length=50, description="职务")
    phone: str = Field(description="联系电话: a mobile or landline number.", examples=["13904310000", "0431-88776655"])
    roles: list[PersonRole] = Field(default_factory=list, description="权限 asked for; 撤销: the roles held are "
                                                                      "taken from the account.")
    pii: bool = Field(False, description="权限: may see unmasked ID numbers (敏感信息查看).")
    remarks: str | None = Field(None, max_length=500, description="备注")

    @field_validator("id_number")
    @classmethod
    def _id_number(cls, v: str) -> str:
        return check_id_number(v, clock().today())

    @field_validator("phone")
    @classmethod
    def _phone(cls, v: str) -> str:
        compact = re.sub(r"\s", "", v)
        if not _PHONE.fullmatch(compact):
            raise ValueError("a mainland mobile number (13904310000) or a landline with its area code "
                             "(0431-88776655)")
        return compact


class ApplicationIn(ApplicationForm):
    """A new application."""

    kind: Kind = Field(description="grant 开通, change 变更, revoke 撤销.")


def placement(form: ApplicationForm) -> tuple[str, str | None]:
    """The org unit and division the person is placed in; a division's people belong to the city."""
    faults = []
    if form.division is not None and form.org_unit not in (None, CITY_ORG_UNIT):
        faults.append(fault("org_unit", f"a division's people belong to {CITY_ORG_UNIT}"))
    if form.division is None and form.org_unit is None:
        faults.append(fault("org_unit", "give the org unit (or the division of a division user)"))
    if faults:
        raise InvalidInput("the person's place is not clear", errors=faults)
    return (CITY_ORG_UNIT if form.division else form.org_unit), form.division  # type: ignore[return-value]


def permission_faults(org_unit: str, division: str | None, roles: list[str]) -> list[dict[str, str]]:
    """Roles that do not fit where the person is: a district's people hold the district role only (any other
    role would show them the whole city), and the division role needs its division."""
    faults = []
    if not roles:
        faults.append(fault("roles", "at least one role"))
    if org_unit != CITY_ORG_UNIT and set(roles) - {"district"}:
        faults.append(fault("roles", "a district's people hold the district role only"))
    if "district" in roles and org_unit == CITY_ORG_UNIT:
        faults.append(fault("org_unit", "the district role needs a district's org unit"))
    if "division" in roles and division is None:
        faults.append(fault("division", "the division role needs the division"))
    return faults


# What an applicant may ask for: a competent division and a district apply for their own staff's work, never
# for the roles that administer the platform, supervise it or see the whole city.
REQUESTABLE_BY = {"division": {"division"}, "district": {"district"}}


def roles_beyond_applicant(applicant_roles: list[str], roles: list[str]) -> list[dict[str, str]]:
    """The roles of an application its applicant may not ask for (a treasury or an administrator may ask for
    any; the review and the province decide)."""
    if set(applicant_roles) - set(REQUESTABLE_BY):
        return []
    allowed = set().union(*(REQUESTABLE_BY[r] for r in applicant_roles if r in REQUESTABLE_BY))
    beyond = sorted(set(roles) - allowed)
    return [fault("roles", f"{', '.join(beyond)}: a {' or '.join(sorted(applicant_roles))} "
                                          f"applies for {', '.join(sorted(allowed))} only")] if beyond else []


def event_form(form: ApplicationForm, id_masked: str, org_unit: str, division: str | None, roles: list[str],
               pii: bool) -> PermissionForm:
    """The row as events carry it."""
    return PermissionForm(username=form.username, org_unit=org_unit, division=division, name=form.name,
                          id_masked=id_masked, title=form.title, phone=form.phone, roles=sorted(set(roles)), pii=pii,
                          remarks=form.remarks)


def permissions_text(kind: Kind, roles: list[str], pii: bool) -> str:
    """权限 as the form states it: 开通：主管处室、敏感信息查看."""
    names = [ROLE_NAMES.get(r, r) for r in roles] + ([PII_NAME] if pii else [])
    return f"{KIND_NAMES[kind]}：{'、'.join(names)}"


def form_row(number: int, kind: Kind, form: PermissionForm, id_number: str) -> list[Any]:
    """One row under FORM_HEADERS; `id_number` is the full number or the mask, as the reader may see it.
    The login name has no column of its own in 附件3: it goes first into 备注."""
    unit = DIVISIONS[form.division] if form.division else ORG_UNITS.get(form.org_unit, form.org_unit)
    remarks = "；".join(filter(None, [f"用户名：{form.username}", form.remarks]))
    return [number, unit, form.name, id_number, form.title, form.phone, permissions_text(kind, form.roles, form.pii),
            remarks]
