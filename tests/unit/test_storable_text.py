"""Text PostgreSQL cannot store is refused with the field that carries it."""

from backbone.storable_text import faults_in


def test_nul_characters_and_unpaired_surrogates_are_found_by_field():
    body = {"payments": [{"payee_name": "张三"}, {"payee_name": "李\x00四", "purpose": "ok"}],
            "note": "\ud975x", "fine": ["a", "b"]}
    assert [f["field"] for f in faults_in(body, "body")] == ["body.payments.1.payee_name", "body.note"]


def test_ordinary_chinese_and_emoji_text_passes():
    assert faults_in({"name": "长春市南关区 🙂", "n": 3, "x": None}, "body") == []
