"""The audit trail's hash chain: any altered, removed or moved entry is found and named, and what
the gateway records of a request (who, from where, which action)."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from ipaddress import ip_network
from uuid import UUID

import pytest

from backbone.identity import Principal
from gateway.audit.chain import (GENESIS, PRUNED, AuditEntry, ChainCheck, canonical, entry_hash, link, prune_target,
                                 verify_chain)
from gateway.audit.consumers import trace_id_of
from gateway.audit.recording import action_of, actor_of, audited, client_ip, target_of

START = datetime(2026, 3, 2, 1, 30, tzinfo=UTC)


def entry(n: int, **overrides) -> AuditEntry:
    return AuditEntry(**{
        "at": START + timedelta(seconds=n), "actor": f"user-{n}", "org_unit": "220102", "client_ip": "10.1.2.3",
        "action": "POST /api/v1/indicators", "target": "/api/v1/indicators", "outcome": "201",
        "trace_id": f"{n:032x}", "event_id": None} | overrides)


def chain(n: int) -> list[dict]:
    return link([entry(i) for i in range(1, n + 1)], last_seq=0, last_hash=GENESIS)


def test_an_untouched_chain_holds_and_its_first_entry_chains_from_zeros():
    rows = chain(5)
    assert rows[0]["prev_hash"] == GENESIS and [r["seq"] for r in rows] == [1, 2, 3, 4, 5]
    verdict = verify_chain(rows)
    assert verdict.intact and verdict.entries == 5 and verdict.head == rows[-1]["hash"]
    assert verdict.message() == "audit chain intact: 5 entries"
    assert verify_chain([]).message() == "audit chain intact: 0 entries"


def test_appending_later_continues_the_same_chain():
    first = chain(3)
    later = link([entry(4), entry(5)], last_seq=3, last_hash=first[-1]["hash"])
    assert verify_chain(first + later).intact
    assert later == chain(5)[3:]


@pytest.mark.parametrize("field, value", [
    pytest.param("outcome", "403", id="an-acceptance-made-a-refusal"),
    pytest.param("actor", "someone-else", id="another-actor"),
    pytest.param("at", START + timedelta(days=1), id="another-time"),
    pytest.param("client_ip", None, id="address-erased"),
    pytest.param("seq", 9, id="renumbered"),
])
def test_an_altered_field_breaks_exactly_that_entry(field, value):
    rows = chain(5)
    rows[2] = {**rows[2], field: value}
    verdict = verify_chain(rows)
    assert not verdict.intact and verdict.entries == 2
    assert (verdict.broken.seq, verdict.broken.problem) == (rows[2]["seq"], "content")
    assert verdict.message().startswith(f"audit chain broken at entry {rows[2]['seq']} (")


def test_an_entry_rehashed_after_its_change_breaks_the_link_of_the_next():
    rows = chain(5)
    forged = {**rows[2], "outcome": "403"}
    forged["hash"] = entry_hash(forged["prev_hash"], forged)
    rows[2] = forged
    verdict = verify_chain(rows)
    assert (verdict.broken.seq, verdict.broken.problem) == (4, "link")


def test_a_removed_entry_is_named_by_the_entry_after_it():
    rows = chain(5)
    del rows[2]
    verdict = verify_chain(rows)
    assert (verdict.broken.seq, verdict.broken.problem, verdict.entries) == (4, "link", 2)
    assert "entry 4 (2026-03-02T09:30:04+08:00 POST /api/v1/indicators: it does not follow" in verdict.message()


def test_a_moved_entry_is_named_where_the_order_first_goes_wrong():
    rows = chain(5)
    rows[1], rows[2] = rows[2], rows[1]
    verdict = verify_chain(rows)
    assert (verdict.broken.seq, verdict.broken.problem) == (3, "link")


def test_an_inserted_entry_breaks_the_chain():
    rows = chain(5)
    rows.insert(3, link([entry(9)], last_seq=3, last_hash=rows[2]["hash"])[0] | {"seq": 4})
    verdict = verify_chain(rows)
    assert (verdict.broken.seq, verdict.broken.problem) == (4, "link")


def pruned_chain(prune_at_days: int) -> list[dict]:
    """Six entries, the first three old; a prune `prune_at_days` after the third removed them and says so."""
    old = [entry(n) for n in (1, 2, 3)]
    rows = link(old + [entry(n, at=START + timedelta(days=200, seconds=n)) for n in (4, 5, 6)],
                last_seq=0, last_hash=GENESIS)
    prune = entry(7, action=PRUNED, at=old[-1].at + timedelta(days=prune_at_days),
                  target=prune_target(3, old[-1].at, rows[2]["hash"]))
    return rows + link([prune], last_seq=6, last_hash=rows[-1]["hash"])


def test_a_recorded_prune_past_retention_is_told_and_the_rest_still_checked():
    rows = pruned_chain(prune_at_days=200)[3:]
    assert verify_chain(rows).message() == "audit chain intact: 4 entries (from entry 4; the entries before it were pruned)"
    rows[1] = {**rows[1], "actor": "x"}
    assert verify_chain(rows).broken.seq == 5


def test_entries_removed_without_a_prune_record_or_within_retention_break_the_chain():
    for rows in (chain(6)[3:], pruned_chain(prune_at_days=200)[4:], pruned_chain(prune_at_days=179)[3:]):
        verdict = verify_chain(rows)
        assert (verdict.broken.seq, verdict.broken.problem) == (rows[0]["seq"], "pruned")
        assert "no prune of entries past the retention period" in verdict.message()


def test_verifying_in_chunks_is_verifying_at_once():
    rows = chain(10)
    rows[7] = {**rows[7], "target": "/api/v1/ledger"}
    check = ChainCheck()
    assert check.feed(rows[:4]) and check.feed(rows[4:8]) is False and check.feed(rows[8:]) is False
    assert check.verdict() == verify_chain(rows) and check.verdict().broken.seq == 8


def test_the_canonical_form_is_stable_across_zones_types_and_absent_values():
    fields = {"seq": 1, "at": datetime(2026, 3, 2, 9, 30, tzinfo=timezone(timedelta(hours=8))), "actor": "农业处-王科长",
              "org_unit": None, "client_ip": None, "action": "POST /x", "target": Decimal("1234.50"),
              "outcome": "201", "trace_id": None, "event_id": UUID(int=1)}
    text = canonical(fields)
    assert text == canonical(dict(reversed(fields.items())) | {"at": datetime(2026, 3, 2, 1, 30, tzinfo=UTC)})
    assert text == (b'{"action":"POST /x","actor":"\xe5\x86\x9c\xe4\xb8\x9a\xe5\xa4\x84-\xe7\x8e\x8b\xe7\xa7\x91\xe9\x95\xbf",'
                    b'"at":"2026-03-02T01:30:00.000000Z","client_ip":null,"event_id":"00000000-0000-0000-0000-000000000001",'
                    b'"org_unit":null,"outcome":"201","seq":1,"target":"1234.50","trace_id":null}')
    with pytest.raises(ValueError):
        canonical(fields | {"at": datetime(2026, 3, 2, 9, 30)})


@pytest.mark.parametrize("method, path, expected", [
    pytest.param("POST", "/api/v1/indicators", True, id="write"),
    pytest.param("DELETE", "/api/v1/api-keys/abc", True, id="delete"),
    pytest.param("GET", "/api/v1/ledger/export", True, id="export"),
    pytest.param("GET", "/api/v1/exports/42/file", True, id="export-download"),
    pytest.param("GET", "/api/v1/ledger", False, id="plain-read"),
    pytest.param("POST", "/healthz", False, id="outside-the-api"),
])
def test_what_is_recorded(method, path, expected):
    assert audited(method, path) is expected


def test_actions_name_sign_ins_and_endpoints_and_mask_id_numbers():
    assert action_of("POST", "/api/v1/auth/token", 200) == "auth.login"
    assert action_of("POST", "/api/v1/auth/token", 401) == "auth.login_failed"
    assert action_of("POST", "/api/v1/indicators", 201) == "POST /api/v1/indicators"
    assert action_of("POST", "/api/v1/indicators/ind-1/allocations", 201) == \
        "POST /api/v1/indicators/{indicator_id}/allocations", "the endpoint, as the access table names it"
    assert action_of("DELETE", "/api/v1/registry/persons/11010519491231002X", 404) == \
        "DELETE /api/v1/registry/persons/110105********002X", "no such endpoint: the path, masked"
    assert target_of("/api/v1/ledger/export", "fiscal_year=2026") == "/api/v1/ledger/export?fiscal_year=2026"
    assert target_of("/api/v1/\x00" + "x" * 5000, "") == "/api/v1/\ufffd" + "x" * 991


def test_x_forwarded_for_is_believed_only_from_a_trusted_proxy():
    proxies = [ip_network("10.0.0.0/8")]
    assert client_ip("10.0.0.7", "203.0.113.9, 10.0.0.7", proxies) == "203.0.113.9"
    # A proxy appends what it saw: whatever the client wrote itself stands to the left and is not believed.
    assert client_ip("10.0.0.5", "6.6.6.6, 203.0.113.9", proxies) == "203.0.113.9"
    assert client_ip("198.51.100.4", "203.0.113.9", proxies) == "198.51.100.4"
    assert client_ip("10.0.0.7", "not an address", proxies) == "10.0.0.7"
    assert client_ip("10.0.0.7", None, proxies) == "10.0.0.7"
    assert client_ip("10.0.0.7", "203.0.113.9", []) == "10.0.0.7"
    assert client_ip(None, "203.0.113.9", proxies) is None


def test_the_actor_is_the_caller_else_the_name_tried_else_anonymous():
    assert actor_of({"principal": Principal(subject="admin", roles=["admin"], org_unit="220100"),
                     "audit_actor": "x"}) == ("admin", "220100")
    assert actor_of({"audit_actor": "zhang"}) == ("zhang", None)
    assert actor_of({"audit_actor": "11010519491231002X"}) == ("110105********002X", None)
    assert actor_of({}) == ("anonymous", None)


def test_the_trace_id_of_a_traceparent():
    assert trace_id_of("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01") == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert trace_id_of(None) is None and trace_id_of("garbage") is None
