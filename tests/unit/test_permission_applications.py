"""Permission applications (第二十五条, 附件3): the transition table, who may apply, the form's checks and rows,
and who may take which step."""

import itertools

import pytest
from pydantic import ValidationError

from backbone.errors import InvalidInput
from backbone.identity import Principal
from backbone.lifecycle import StepOutOfTurn
from backbone.spreadsheets import read_sheets, text
from backbone.workbooks import seed_form
from contracts.gateway import PermissionForm, UserChanged, UserRegistered, UserRevoked
from gateway.applications.domain import (TRANSITIONS, Kind, Status, Step, account_event,
                                         may_apply, next_status)
from gateway.applications.form import (FORM_HEADERS, FORM_TITLE, ApplicationIn, form_row,
                                       permission_faults, permissions_text, placement, roles_beyond_applicant)
from tests.people import id_number

PERSON = id_number(7, "220102")


def application(**overrides) -> dict:
    return {"kind": "grant", "username": "wangfang.ngq", "org_unit": "220102", "name": "王芳", "id_number": PERSON,
            "title": "科员", "phone": "13904310000", "roles": ["district"]} | overrides


# -- the lifecycle ---------------------------------------------------------------------------------------------

def test_a_grant_goes_from_submission_to_an_issued_password():
    # Submitted; the treasury division sends it back; the applicant corrects it.
    status = next_status(Status.SUBMITTED, Step.RETURN, Kind.GRANT)
    status = next_status(status, Step.RESUBMIT, Kind.GRANT)
    # Accepted: reported to the province, which approves.
    status = next_status(status, Step.ACCEPT, Kind.GRANT)
    assert status is Status.FORWARDED
    status = next_status(status, Step.APPROVE, Kind.GRANT)
    # The administrator issues the password: the applicant is told.
    assert next_status(status, Step.ISSUE, Kind.GRANT) is Status.ISSUED


@pytest.mark.parametrize("status,step,kind", [
    pytest.param(status, step, kind, id=f"{kind.value}-{status.value}-{step.value}")
    for status, step, kind in itertools.product(Status, Step, Kind)
    if (status, step) not in TRANSITIONS or (step is Step.ISSUE and kind is not Kind.GRANT)])
def test_every_step_out_of_turn_is_refused(status, step, kind):
    with pytest.raises(StepOutOfTurn) as refused:
        next_status(status, step, kind)
    assert refused.value.status == 409
    assert step.value not in refused.value.extra["allowed"]


def test_a_returned_application_takes_no_answer_before_it_is_resubmitted():
    with pytest.raises(StepOutOfTurn) as refused:
        next_status(Status.RETURNED, Step.APPROVE, Kind.GRANT)
    assert refused.value.extra["allowed"] == ["resubmit"]


def test_only_a_grant_gets_a_password():
    for kind in (Kind.CHANGE, Kind.REVOKE):
        with pytest.raises(StepOutOfTurn):
            next_status(Status.APPROVED, Step.ISSUE, kind)


# -- who may apply ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("principal,org_unit,division,allowed", [
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220102"), "220102", None, True,
                 id="district-own"),
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220102"), "220103", None, False,
                 id="district-other"),
    pytest.param(Principal(subject="d", roles=["district"], org_unit="220100"), "220100", "agriculture", False,
                 id="district-for-a-division"),
    pytest.param(Principal(subject="v", roles=["division"], org_unit="220100", division="agriculture"), "220100",
                 "agriculture", True, id="division-own"),
    pytest.param(Principal(subject="v", roles=["division"], org_unit="220100", division="agriculture"), "220100",
                 "education", False, id="division-other"),
    pytest.param(Principal(subject="v", roles=["division"], division="agriculture"), "220102", None, False,
                 id="division-for-a-district"),
    pytest.param(Principal(subject="t", roles=["treasury"]), "220103", None, True, id="treasury-anyone"),
    pytest.param(Principal(subject="s", roles=["supervision"]), "220103", None, False, id="supervision-reads-only"),
])
def test_who_may_apply(principal, org_unit, division, allowed):
    assert may_apply(principal, org_unit, division) is allowed


# -- the form's checks -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("field,value", [
    pytest.param("id_number", PERSON[:-1] + ("1" if PERSON[-1] != "1" else "2"), id="id-checksum"),
    pytest.param("id_number", "22010219900101", id="id-too-short"),
    pytest.param("phone", "12345", id="phone-too-short"),
    pytest.param("phone", "23904310000", id="phone-not-mobile"),
    pytest.param("username", "王芳", id="username-not-latin"),
    pytest.param("org_unit", "999999", id="org-unit-unknown"),
    pytest.param("division", "kitchen", id="division-unknown"),
    pytest.param("roles", ["province_system"], id="machine-role"),
    pytest.param("kind", "promote", id="kind-unknown"),
    pytest.param("name", "", id="name-empty"),
])
def test_a_bad_field_is_named(field, value):
    with pytest.raises(ValidationError) as bad:
        ApplicationIn(**application(**{field: value}))
    assert {e["loc"][0] for e in bad.value.errors()} == {field}
    assert PERSON not in str(bad.value)


@pytest.mark.parametrize("phone,kept", [
    pytest.param("139 0431 0000", "13904310000", id="mobile-spaced"),
    pytest.param("+8613904310000", "+8613904310000", id="mobile-country-code"),
    pytest.param("0431-88776655", "0431-88776655", id="landline"),
    pytest.param("0431-88776655-123", "0431-88776655-123", id="landline-extension"),
    pytest.param("01088776655", "01088776655", id="landline-compact"),
])
def test_phone_numbers_of_the_mainland(phone, kept):
    assert ApplicationIn(**application(phone=phone)).phone == kept


def test_a_division_user_belongs_to_the_city():
    assert placement(ApplicationIn(**application(org_unit=None, division="agriculture"))) == ("220100", "agriculture")
    with pytest.raises(InvalidInput) as bad:
        placement(ApplicationIn(**application(org_unit="220102", division="agriculture")))
    assert bad.value.extra["errors"][0]["field"] == "org_unit"
    with pytest.raises(InvalidInput):
        placement(ApplicationIn(**application(org_unit=None)))


@pytest.mark.parametrize("org_unit,division,roles,fields", [
    pytest.param("220102", None, ["district"], set(), id="district-person"),
    pytest.param("220100", "agriculture", ["division"], set(), id="division-person"),
    pytest.param("220100", "treasury", ["treasury", "admin"], set(), id="treasury-person"),
    pytest.param("220102", None, [], {"roles"}, id="no-role"),
    pytest.param("220102", None, ["district", "treasury"], {"roles"}, id="district-with-citywide-role"),
    pytest.param("220100", None, ["district"], {"org_unit"}, id="district-role-in-the-city"),
    pytest.param("220100", None, ["division"], {"division"}, id="division-role-without-division"),
])
def test_permissions_fit_where_the_person_works(org_unit, division, roles, fields):
    assert {f["field"] for f in permission_faults(org_unit, division, roles)} == fields


# -- the form's rows -------------------------------------------------------------------------------------------

FORM = PermissionForm(username="wangfang.ngq", org_unit="220102", division=None, name="王芳",
                      id_masked="220102********0012", title="科员", phone="13904310000", roles=["district"],
                      pii=True, remarks="负责南关区资金监控")


def test_a_form_row_under_the_seeds_columns():
    assert form_row(1, Kind.GRANT, FORM, FORM.id_masked) == [
        1, "南关区", "王芳", "220102********0012", "科员", "13904310000", "开通：区（开发区）财政局、敏感信息查看",
        "用户名：wangfang.ngq；负责南关区资金监控"]
    division_person = FORM.model_copy(update={"org_unit": "220100", "division": "agriculture", "roles": ["division"],
                                              "pii": False, "remarks": None})
    assert form_row(2, Kind.REVOKE, division_person, PERSON)[1:] == [
        "农业处", "王芳", PERSON, "科员", "13904310000", "撤销：主管处室", "用户名：wangfang.ngq"]


def test_permissions_in_chinese():
    assert permissions_text(Kind.CHANGE, ["treasury", "admin"], False) == "变更：国库处、系统管理员"


def test_the_form_as_an_xlsx_has_exactly_the_seeds_columns():
    content = seed_form(FORM_TITLE, FORM_HEADERS, [form_row(1, Kind.GRANT, FORM, FORM.id_masked)], [])
    rows = [[text(c) for c in cells if c not in (None, "")] for _, cells in read_sheets(content, "form.xlsx")[0].rows]
    assert rows[0] == ["财政扶贫资金动态监控平台用户权限申请表"]
    assert rows[1][0] == "单位：（盖章）"
    assert rows[2] == ["序号", "处室", "姓名", "身份证号", "职务", "联系电话", "权限", "备注"]
    assert rows[3][:4] == ["1", "南关区", "王芳", "220102********0012"]
    assert [r for r in rows[4:] if r] == [["填报人："], ["联系电话："]]


# -- the account ------------------------------------------------------------------------------------------------

def test_an_approval_opens_changes_or_revokes_the_account():
    assert isinstance(account_event(Kind.GRANT, "a-1", FORM), UserRegistered)
    changed = account_event(Kind.CHANGE, "a-2", FORM)
    assert isinstance(changed, UserChanged) and changed.roles == ["district"] and changed.pii
    assert account_event(Kind.REVOKE, "a-3", FORM) == UserRevoked(username="wangfang.ngq", application_id="a-3")


def test_nobody_reviews_or_answers_an_application_they_made_reviewed_or_are_the_subject_of():
    from gateway.applications.domain import StepByInvolvedPerson, check_independent
    check_independent("treasury-zhou", applicant="agri-wang", username="new.person")
    for actor in ("agri-wang", "new.person"):
        with pytest.raises(StepByInvolvedPerson):
            check_independent(actor, applicant="agri-wang", username="new.person")
    # The province's paper answer: nobody who made, reviewed or is the subject of the application records it.
    for actor in ("agri-wang", "treasury-zhou", "new.person"):
        with pytest.raises(StepByInvolvedPerson):
            check_independent(actor, applicant="agri-wang", username="new.person", reviewer="treasury-zhou")
    check_independent("treasury-li", applicant="agri-wang", username="new.person", reviewer="treasury-zhou")
    # The bootstrap administrator reviews what it applied for (a new platform's first staff), never more.
    check_independent("admin", applicant="admin", username="first.staff", bootstrap="admin")
    with pytest.raises(StepByInvolvedPerson):
        check_independent("admin", applicant="admin", username="first.staff", reviewer="admin", bootstrap="admin")
    with pytest.raises(StepByInvolvedPerson):
        check_independent("admin", applicant="x", username="admin", bootstrap="admin")


@pytest.mark.parametrize("roles,pii,treasury_staff,may", [
    pytest.param(["district"], False, False, True, id="first-district-staff"),
    pytest.param(["treasury"], False, False, True, id="the-first-treasury-person"),
    pytest.param(["district"], False, True, False, id="once-a-treasury-person-exists"),
    pytest.param(["treasury", "admin"], False, False, False, id="never-an-administrator"),
    pytest.param(["poverty_office"], False, False, False, id="never-the-poverty-office"),
    pytest.param(["supervision"], False, False, False, id="never-supervision"),
    pytest.param(["treasury"], True, False, False, id="never-personal-data"),
])
def test_the_bootstrap_administrator_reviews_its_own_applications_only_for_a_new_platforms_first_staff(
        roles, pii, treasury_staff, may):
    from gateway.applications.domain import bootstrap_may_review
    assert bootstrap_may_review(roles, pii, treasury_staff=treasury_staff) is may


@pytest.mark.parametrize("applicant,roles,refused", [
    pytest.param(["division"], ["division"], [], id="division-for-its-staff"),
    pytest.param(["division"], ["division", "admin"], ["admin"], id="division-asks-for-admin"),
    pytest.param(["division"], ["supervision"], ["supervision"], id="division-asks-for-supervision"),
    pytest.param(["district"], ["district"], [], id="district-for-its-staff"),
    pytest.param(["district"], ["treasury"], ["treasury"], id="district-asks-for-treasury"),
    pytest.param(["treasury"], ["admin", "supervision"], [], id="treasury-may-ask-for-any"),
    pytest.param(["division", "treasury"], ["budget"], [], id="a-treasury-person-who-also-holds-division"),
])
def test_an_applicant_asks_only_for_the_roles_of_its_own_staff(applicant, roles, refused):
    faults = roles_beyond_applicant(applicant, roles)
    if refused:
        assert [f["field"] for f in faults] == ["roles"] and all(role in faults[0]["message"] for role in refused)
    else:
        assert faults == []
