"""One way to list: every list of the public API is a page asked for with `cursor` and `limit`."""

import json

import pytest

from backbone.errors import InvalidInput
from backbone.pages import DEFAULT_LIMIT, MAX_LIMIT, Paging, sorted_page
from backbone.paging import cursor_integer
from contracts.generate import OPENAPI

REF = "#/components/schemas/"


def public_api() -> dict:
    return json.loads((OPENAPI / "public.json").read_text(encoding="utf-8"))


def resolved(schema: dict, doc: dict) -> dict:
    while "$ref" in schema:
        schema = doc["components"]["schemas"][schema["$ref"].removeprefix(REF)]
    return schema


def answers(doc: dict) -> list[tuple[str, dict, dict]]:
    """(path, operation, JSON schema of the 200 answer) of every GET that answers JSON."""
    found = []
    for path, operations in doc["paths"].items():
        operation = operations.get("get")
        content = (operation or {}).get("responses", {}).get("200", {}).get("content", {})
        if "application/json" in content:
            found.append((path, operation, resolved(content["application/json"]["schema"], doc)))
    return found


def is_page(schema: dict) -> bool:
    return schema.get("properties", {}).get("items", {}).get("type") == "array"


def test_no_get_of_the_public_api_answers_a_bare_json_array():
    doc = public_api()
    bare = [path for path, _, schema in answers(doc) if schema.get("type") == "array"]
    assert bare == [], f"lists answered as bare arrays, not pages: {bare}"


def test_every_list_of_the_public_api_is_a_page_asked_for_with_cursor_and_limit():
    doc = public_api()
    pages = [(path, operation, schema) for path, operation, schema in answers(doc) if is_page(schema)]
    assert len(pages) >= 20, "the walk found the lists"
    for path, operation, schema in pages:
        assert "next_cursor" in schema["properties"] and "next_cursor" in schema["required"], path
        query = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}
        assert {"cursor", "limit"} <= set(query), f"{path} takes no cursor and limit"
        assert (query["limit"]["default"], query["limit"]["maximum"]) == (DEFAULT_LIMIT, MAX_LIMIT), path


def test_a_list_held_in_memory_is_walked_to_its_end_once_each_in_its_order():
    rows = [("ZC-002", "b"), ("DR-001", "a"), ("ZC-001", "c"), ("ZC-001", "d"), ("JX-001", "e")]
    seen, cursor = [], None
    while True:
        page, cursor = sorted_page(rows, lambda r: r, Paging(cursor, 2))
        seen += page
        if cursor is None:
            break
    assert seen == sorted(rows)


def test_a_cursor_stays_valid_while_rows_are_added_before_and_after_it():
    page, cursor = sorted_page([(1, "a"), (3, "c")], lambda r: r, Paging(None, 1))
    assert page == [(1, "a")]
    rest, _ = sorted_page([(0, "z"), (1, "a"), (2, "b"), (3, "c")], lambda r: r, Paging(cursor, 10),
                          parse=cursor_integer)
    assert rest == [(2, "b"), (3, "c")]


def test_a_cursor_whose_sort_value_does_not_parse_is_a_422_naming_cursor():
    _, cursor = sorted_page([("x", "1"), ("y", "2")], lambda r: r, Paging(None, 1))
    with pytest.raises(InvalidInput) as refused:
        sorted_page([(1, "1")], lambda r: r, Paging(cursor, 1), parse=cursor_integer)
    assert refused.value.extra["errors"][0]["field"] == "cursor"


def test_an_empty_list_is_one_empty_page():
    assert sorted_page([], lambda r: r, Paging()) == ([], None)
