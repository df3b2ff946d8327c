"""Districts in the yearly cycle (第十五条): a district proposes business requirements (附件1) to a division and
comments on the divisions' requirements until 10-15 of the year before; after it, a 409 naming the date. The
suite's clock reads 2026-11: the 2027 proposals are closed, the 2028 ones open."""

import pytest

from backbone.clock import clock
from tests.e2e.pages import every
from tests.e2e.people import signed_in

pytestmark = pytest.mark.e2e
OPEN_YEAR = clock().today().year + 2
CLOSED_YEAR = clock().today().year + 1


def requirement(year: int, **more) -> dict:
    return {"fiscal_year": year, "kind": "资金支付", "description": "区级扶贫资金支付需按村汇总展示",
            "basis": "本规程第七条（二）", "scope": ["220102"]} | more


def test_a_district_proposes_to_a_division_and_comments_on_its_requirements_until_10_15(stack):
    nanguan = signed_in("南关区-需求-陈", ["district"], org_unit="220102")
    kuancheng = signed_in("宽城区-需求-褚", ["district"], org_unit="220103")
    agriculture = signed_in("农业处-需求-王", ["division"], division="agriculture")
    education = signed_in("教科文处-需求-李", ["division"], division="education")
    with stack.client() as c:
        # The division's own requirement for the year after next; the districts are asked for their views.
        own = c.post("/requirements", headers=agriculture, json=requirement(OPEN_YEAR, scope=["*"]))
        assert own.status_code == 201, own.text
        own_id = own.json()["requirement_id"]
        commented = c.post(f"/requirements/{own_id}/comments", headers=nanguan,
                           json={"text": "建议增加按行政村统计的支付进度"})
        assert commented.status_code == 201, commented.text
        assert [(x["org_unit"], x["commented_by"]) for x in commented.json()["comments"]] == [
            ("220102", "南关区-需求-陈")]

        # A district's own proposal goes to the division it names, which sees it; another district does not.
        proposed = c.post("/requirements", headers=nanguan | {"Idempotency-Key": "nanguan-2028-1"},
                          json=requirement(OPEN_YEAR, to_division="agriculture"))
        assert proposed.status_code == 201, proposed.text
        theirs = proposed.json()["requirement_id"]
        again = c.post("/requirements", headers=nanguan | {"Idempotency-Key": "nanguan-2028-1"},
                       json=requirement(OPEN_YEAR, to_division="agriculture"))
        assert again.json()["requirement_id"] == theirs, "the same request twice proposes once"
        found = c.get(f"/requirements/{theirs}", headers=agriculture).json()
        assert (found["proposer_org_unit"], found["to_division"], found["proposer_division"]) == (
            "220102", "agriculture", None)
        listed = [r["requirement_id"] for r in every(c.get, "/requirements", headers=agriculture,
                                                     params={"fiscal_year": OPEN_YEAR, "division": "agriculture"})]
        assert theirs in listed and own_id in listed
        assert c.get(f"/requirements/{theirs}", headers=kuancheng).status_code == 404
        assert c.get(f"/requirements/{theirs}", headers=education).status_code == 404
        assert theirs not in [r["requirement_id"] for r in every(c.get, "/requirements", headers=kuancheng)]
        # Comments are on the divisions' requirements, not on another district's proposal.
        assert c.post(f"/requirements/{theirs}/comments", headers=nanguan,
                      json={"text": "补充"}).status_code == 422

        # After 10-15 the coming year's proposals are closed: a clear 409 naming the date.
        late = c.post("/requirements", headers=nanguan, json=requirement(CLOSED_YEAR, to_division="agriculture"))
        assert late.status_code == 409 and late.json()["type"].endswith("cycle-closed")
        assert f"{CLOSED_YEAR - 1}-10-15" in late.json()["detail"]
        closed = c.post("/requirements", headers=agriculture, json=requirement(CLOSED_YEAR, scope=["*"]))
        assert closed.status_code == 201, "a division's late proposal is taken (LC-002 turns yellow for it)"
        late_comment = c.post(f"/requirements/{closed.json()['requirement_id']}/comments", headers=nanguan,
                              json={"text": "迟到的意见"})
        assert late_comment.status_code == 409

        # Bad input names its field.
        nowhere = c.post("/requirements", headers=nanguan, json=requirement(OPEN_YEAR))
        assert nowhere.status_code == 422 and nowhere.json()["errors"][0]["field"] == "to_division"
        unknown = c.post("/requirements", headers=nanguan, json=requirement(OPEN_YEAR, to_division="nowhere"))
        assert unknown.status_code == 422 and "to_division" in unknown.text
        not_a_district = c.post("/requirements", headers=agriculture,
                                json=requirement(OPEN_YEAR, to_division="education"))
        assert not_a_district.status_code == 422 and not_a_district.json()["errors"][0]["field"] == "to_division"
        empty = c.post(f"/requirements/{own_id}/comments", headers=nanguan, json={"text": ""})
        assert empty.status_code == 422 and "text" in empty.text
        # Only districts comment.
        assert c.post(f"/requirements/{own_id}/comments", headers=education, json={"text": "x"}).status_code == 403
