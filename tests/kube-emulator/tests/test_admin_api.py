"""The /emulator/v1 admin API: stats, fault injection, latency, watch control, compaction.

Each test gets its own emulator, because these controls are global to the process.
"""

import json
import threading

import pytest

from emu_helpers import assert_status, core, ok, q

MERGE = {"Content-Type": "application/merge-patch+json"}


@pytest.fixture
def emu(emulator):
    return emulator()


def cm(name):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": {"k": "v"}}


def stats_rows(emu):
    body = ok(emu.admin("GET", "/emulator/v1/stats"), 200)
    return body


def count(body, **match):
    return sum(r["count"] for r in body["requests"]
               if all(r.get(k) == v for k, v in match.items()))


def test_admin_api_requires_token(emu):
    for path in ("/emulator/v1/stats", "/emulator/v1/faults", "/emulator/v1/watches"):
        assert_status(emu.api("GET", path, token=False), 401, "Unauthorized")
        assert_status(emu.api("GET", path, token="nope"), 401, "Unauthorized")


# --------------------------------------------------------------------------------------------
# stats


def test_stats_count_by_verb_resource_code_and_reset(emu):
    ok(emu.admin("DELETE", "/emulator/v1/stats"), 200)
    for i in range(3):
        ok(emu.api("POST", core("default", "configmaps"), cm(f"s{i}")), 201)
    ok(emu.api("GET", core("default", "configmaps", "s0")), 200)
    assert emu.api("GET", core("default", "configmaps", "missing")).status == 404
    ok(emu.api("GET", core("default", "configmaps")), 200)
    ok(emu.api("PATCH", core("default", "configmaps", "s1"), {"data": {"x": "y"}}, MERGE), 200)
    ok(emu.api("GET", "/api/v1/namespaces"), 200)
    assert emu.api("POST", core("default", "configmaps"), cm("s0")).status == 409
    body = stats_rows(emu)
    assert count(body, verb="create", resource="configmaps", code=201) == 3
    assert count(body, verb="create", resource="configmaps", code=409) == 1
    assert count(body, verb="get", resource="configmaps", code=200) == 1
    assert count(body, verb="get", resource="configmaps", code=404) == 1
    assert count(body, verb="list", resource="configmaps", code=200) == 1
    assert count(body, verb="patch", resource="configmaps", code=200) == 1
    assert count(body, verb="list", resource="namespaces", code=200) == 1
    row = next(r for r in body["requests"] if r["verb"] == "create" and r["code"] == 201)
    assert row["group"] == "" and row["subresource"] == "" and row["resource"] == "configmaps"
    assert body["total"] == sum(r["count"] for r in body["requests"])
    assert body["total"] >= 9
    # admin requests themselves are not counted as API requests
    assert not [r for r in body["requests"] if "emulator" in json.dumps(r)]
    ok(emu.admin("DELETE", "/emulator/v1/stats"), 200)
    body = stats_rows(emu)
    assert body["total"] == 0 and body["requests"] == []


def test_stats_counts_watch_and_subresource(emu):
    ok(emu.admin("DELETE", "/emulator/v1/stats"), 200)
    r = emu.api("GET", q(core("default", "secrets"), watch="true", timeoutSeconds=1), timeout=15)
    assert r.status == 200
    body = stats_rows(emu)
    assert count(body, verb="watch", resource="secrets", code=200) == 1


def test_stats_count_requests_refused_with_401(emu):
    ok(emu.admin("DELETE", "/emulator/v1/stats"), 200)
    for method, path in (("GET", core("default", "secrets")), ("GET", core("default", "secrets", "x")),
                         ("POST", core("default", "configmaps")), ("DELETE", core("default", "configmaps", "c")),
                         ("GET", q("/apis/coordination.k8s.io/v1/namespaces/default/leases", watch="1")),
                         ("PUT", "/apis/example.com/v1/namespaces/default/widgets/w/status"),
                         ("GET", "/apis"), ("GET", "/emulator/v1/stats")):
        assert_status(emu.api(method, path, token="wrong", headers={"User-Agent": "intruder/1.0"}),
                      401, "Unauthorized")
    body = stats_rows(emu)
    rows = {(r["verb"], r["group"], r["resource"], r["subresource"]): r for r in body["requests"]}
    assert set(rows) == {("list", "", "secrets", ""), ("get", "", "secrets", ""), ("create", "", "configmaps", ""),
                         ("delete", "", "configmaps", ""), ("watch", "coordination.k8s.io", "leases", ""),
                         ("update", "example.com", "widgets", "status"), ("get", "", "", "")}, rows
    assert all(r["code"] == 401 and r["userAgent"] == "intruder" and r["count"] == 1 for r in rows.values())


def test_settings_endpoint(emu):
    assert ok(emu.admin("GET", "/emulator/v1/settings")) == {"bookmarkIntervalSeconds": 60.0, "splitChunks": False}
    assert ok(emu.admin("PUT", "/emulator/v1/settings", {"splitChunks": True})) == \
        {"bookmarkIntervalSeconds": 60.0, "splitChunks": True}
    assert_status(emu.admin("POST", "/emulator/v1/settings", {"splitChunks": "yes"}), 400, "BadRequest")
    assert_status(emu.api("GET", "/emulator/v1/settings", token=False), 401, "Unauthorized")


# --------------------------------------------------------------------------------------------
# faults


def test_fault_429_with_retry_after_and_count(emu):
    f = {"verb": "create", "resource": "configmaps", "code": 429, "retryAfterSeconds": 3, "count": 2,
         "fraction": 1.0}
    assert emu.admin("POST", "/emulator/v1/faults", f).status in (200, 201)
    listed = ok(emu.admin("GET", "/emulator/v1/faults"))
    rules = listed.get("faults", listed.get("items", listed)) if isinstance(listed, dict) else listed
    assert any(r["code"] == 429 and r["resource"] == "configmaps" for r in rules), listed
    for i in range(2):
        r = emu.api("POST", core("default", "configmaps"), cm(f"f{i}"))
        st = assert_status(r, 429, "TooManyRequests")
        assert r.headers["retry-after"] == "3"
        assert st["details"]["retryAfterSeconds"] == 3
        assert emu.api("GET", core("default", "configmaps", f"f{i}")).status == 404  # not stored
    # count exhausted: the rule no longer fires
    ok(emu.api("POST", core("default", "configmaps"), cm("f2")), 201)
    # other verbs were never affected
    ok(emu.api("GET", core("default", "configmaps", "f2")), 200)
    body = stats_rows(emu)
    assert count(body, verb="create", resource="configmaps", code=429) == 2


@pytest.mark.parametrize("code,reason", [(500, "InternalError"), (503, "ServiceUnavailable")])
def test_fault_5xx(emu, code, reason):
    f = {"verb": "get", "resource": "secrets", "code": code, "fraction": 1.0}
    assert emu.admin("POST", "/emulator/v1/faults", f).status in (200, 201)
    ok(emu.api("POST", core("default", "secrets"), {"metadata": {"name": "x"}}), 201)
    for _ in range(3):  # no count => fires until cleared
        assert_status(emu.api("GET", core("default", "secrets", "x")), code, reason)
    ok(emu.api("GET", core("default", "configmaps")), 200)  # other resources unaffected
    ok(emu.api("GET", core("default", "secrets")), 200)  # list is a different verb
    ok(emu.admin("DELETE", "/emulator/v1/faults"), 200)
    listed = ok(emu.admin("GET", "/emulator/v1/faults"))
    rules = listed.get("faults", listed.get("items", listed)) if isinstance(listed, dict) else listed
    assert rules == []
    ok(emu.api("GET", core("default", "secrets", "x")), 200)


def test_fault_fraction_is_honoured(emu):
    f = {"verb": "list", "resource": "configmaps", "code": 503, "fraction": 0.5}
    assert emu.admin("POST", "/emulator/v1/faults", f).status in (200, 201)
    codes = [emu.api("GET", core("default", "configmaps")).status for _ in range(200)]
    failed = codes.count(503)
    assert set(codes) <= {200, 503}
    # Binomial(200, 0.5): 60..140 holds with probability 1 - 1e-8
    assert 60 <= failed <= 140, failed


def test_fault_fraction_zero_and_group_filter(emu):
    assert emu.admin("POST", "/emulator/v1/faults",
                     {"verb": "list", "resource": "configmaps", "code": 500, "fraction": 0.0}).status in (200, 201)
    assert emu.admin("POST", "/emulator/v1/faults",
                     {"verb": "list", "resource": "configmaps", "group": "example.com", "code": 500,
                      "fraction": 1.0}).status in (200, 201)
    assert all(emu.api("GET", core("default", "configmaps")).status == 200 for _ in range(20))


def test_fault_delete_by_id_and_subresource_filter(emu):
    a = ok(emu.admin("POST", "/emulator/v1/faults", {"verb": "get", "resource": "configmaps", "code": 500}), 201)
    b = ok(emu.admin("POST", "/emulator/v1/faults", {"verb": "get", "resource": "secrets", "code": 503}), 201)
    assert a["id"] != b["id"]
    ok(emu.admin("DELETE", f"/emulator/v1/faults/{a['id']}"), 200)
    rules = ok(emu.admin("GET", "/emulator/v1/faults"))["faults"]
    assert [r["id"] for r in rules] == [b["id"]]
    assert emu.api("GET", core("default", "configmaps", "x")).status == 404  # rule a gone
    assert emu.api("GET", core("default", "secrets", "x")).status == 503  # rule b still active
    ok(emu.admin("DELETE", "/emulator/v1/faults"), 200)
    # a rule limited to a subresource does not hit the main resource
    ok(emu.admin("POST", "/emulator/v1/faults", {"resource": "namespaces", "subresource": "status",
                                                   "code": 500}), 201)
    ok(emu.api("GET", "/api/v1/namespaces/default"), 200)
    assert_status(emu.api("GET", "/api/v1/namespaces/default/status"), 500, "InternalError")


def test_fault_rejects_bad_rule(emu):
    r = emu.admin("POST", "/emulator/v1/faults", {"verb": "get", "resource": "secrets", "code": 418})
    assert r.status == 400, r


def test_fault_on_watch(emu):
    assert emu.admin("POST", "/emulator/v1/faults",
                     {"verb": "watch", "resource": "configmaps", "code": 429, "count": 1,
                      "retryAfterSeconds": 1}).status in (200, 201)
    r = emu.api("GET", q(core("default", "configmaps"), watch="true", timeoutSeconds=1), timeout=15)
    assert r.status == 429 and r.headers["retry-after"] == "1"
    r = emu.api("GET", q(core("default", "configmaps"), watch="true", timeoutSeconds=1), timeout=15)
    assert r.status == 200


# --------------------------------------------------------------------------------------------
# latency


def test_latency_rule_is_reported_and_applied(emu):
    r = emu.admin("POST", "/emulator/v1/latency", {"verb": "get", "resource": "configmaps", "ms": 50})
    assert r.status in (200, 201), r
    listed = emu.admin("GET", "/emulator/v1/latency")
    assert listed.status == 200
    assert '"ms":50' in listed.body.decode().replace(" ", "")
    assert '"resource":"configmaps"' in listed.body.decode().replace(" ", "")
    ok(emu.api("POST", core("default", "configmaps"), cm("lat")), 201)
    ok(emu.api("GET", core("default", "configmaps", "lat")), 200)  # still answers correctly
    r = emu.admin("DELETE", "/emulator/v1/latency")
    assert r.status == 200
    assert '"ms":50' not in emu.admin("GET", "/emulator/v1/latency").body.decode().replace(" ", "")


# --------------------------------------------------------------------------------------------
# watches


def test_watches_listed_and_closed(emu):
    s1 = emu.open_stream(q(core("default", "configmaps"), watch="true", timeoutSeconds=60))
    s2 = emu.open_stream(q(core("default", "secrets"), watch="true", timeoutSeconds=60))
    try:
        assert s1.status == 200 and s2.status == 200
        w = ok(emu.admin("GET", "/emulator/v1/watches"))
        text = json.dumps(w["byResource"])
        assert "configmaps" in text and "secrets" in text
        opened = w["openedByResource"]
        r = emu.admin("POST", "/emulator/v1/watches/close", {})
        assert r.status == 200
        # Both streams end (zero-length chunk); reading returns no further events.
        assert s1.read_all() == []
        assert s2.read_all() == []
    finally:
        s1.close()
        s2.close()
    w = ok(emu.admin("GET", "/emulator/v1/watches"))
    assert "configmaps" not in json.dumps(w["byResource"])
    # The opened counters only grow: closing a watch does not take it back.
    assert w["openedByResource"] == opened


def test_watches_close_after_events(emu):
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", timeoutSeconds=60))
    try:
        assert s.status == 200
        ok(emu.admin("POST", "/emulator/v1/watches/close", {"afterEvents": 2}), 200)
        for i in range(4):
            ok(emu.api("POST", core("default", "configmaps"), cm(f"ae{i}")), 201)
        evs = s.read_all()
        assert [e["object"]["metadata"]["name"] for e in evs] == ["ae0", "ae1"]
    finally:
        s.close()


def test_compact_then_watch_from_old_rv(emu):
    first = ok(emu.api("POST", core("default", "configmaps"), cm("c0")), 201)
    ok(emu.api("POST", core("default", "configmaps"), cm("c1")), 201)
    ok(emu.admin("POST", "/emulator/v1/compact"), 200)
    r = emu.api("GET", q(core("default", "configmaps"), watch="true",
                         resourceVersion=first["metadata"]["resourceVersion"], timeoutSeconds=5), timeout=15)
    assert r.status == 200
    evs = [json.loads(x) for x in r.body.splitlines() if x.strip()]
    assert len(evs) == 1 and evs[0]["type"] == "ERROR" and evs[0]["object"]["code"] == 410


def test_sigterm_during_open_watch_exits_zero(emulator):
    emu = emulator()
    s = emu.open_stream(q(core("default", "configmaps"), watch="true", timeoutSeconds=60))
    result = {}

    def reader():
        result["events"] = s.read_all()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        assert emu.stop() == 0
        t.join(10)
        assert not t.is_alive(), "watch stream not ended by shutdown"
    finally:
        s.close()
