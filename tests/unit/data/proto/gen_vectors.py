#!/usr/bin/env python3
"""gen_vectors.py - regenerate the golden vectors in this directory.

An independent, minimal msgpack packer (maps as ordered tuples of pairs,
smallest integer and string encodings), so the vectors are not just a dump of
the C encoder: test_proto.c checks that the C encoder reproduces them byte
for byte. The samples must match sample() in tests/unit/test_proto.c and the
key tables in proto/PROTOCOL.md.

    python3 tests/unit/data/proto/gen_vectors.py tests/unit/data/proto
"""
import struct, sys, os

def pack(v):
    if v is True: return b'\xc3'
    if v is False: return b'\xc2'
    if isinstance(v, int):
        assert v >= 0
        if v < 128: return bytes([v])
        if v < 256: return b'\xcc' + bytes([v])
        if v < 65536: return b'\xcd' + struct.pack('>H', v)
        if v < 2**32: return b'\xce' + struct.pack('>I', v)
        return b'\xcf' + struct.pack('>Q', v)
    if isinstance(v, str):
        b = v.encode()
        n = len(b)
        if n < 32: return bytes([0xa0 | n]) + b
        if n < 256: return b'\xd9' + bytes([n]) + b
        if n < 65536: return b'\xda' + struct.pack('>H', n) + b
        return b'\xdb' + struct.pack('>I', n) + b
    if isinstance(v, tuple):  # map as tuple of pairs
        n = len(v)
        assert n < 16
        return bytes([0x80 | n]) + b''.join(pack(k) + pack(x) for k, x in v)
    if isinstance(v, list):
        assert len(v) < 16
        return bytes([0x90 | len(v)]) + b''.join(pack(x) for x in v)
    raise TypeError(v)

FH_JSON = '{"apiVersion":"riverpointtechnology.com/v1alpha1","kind":"FleetHandshake","metadata":{"name":"db-creds","namespace":"team-a"}}'
fh_obj = (("res", 1), ("ns", "team-a"), ("name", "db-creds"),
          ("uid", "6f1c2a7e-0d4b-4c1e-9a51-3b7d2f0e8c11"), ("rv", "12345"),
          ("gen", 3), ("sns", "vault"), ("sname", "db"), ("json", FH_JSON))
samples = {
    "hello": [1, 1, 7, (("role", 2), ("slot", 3), ("pid", 4242))],
    "heartbeat": [1, 2, 7, ()],
    "quit": [1, 3, 0, ()],
    "event": [1, 4, 2, (("type", 2), ("obj", (("res", 1), ("ns", "team-a"), ("name", "db-creds"),
          ("uid", "6f1c2a7e-0d4b-4c1e-9a51-3b7d2f0e8c11"), ("rv", "12345"),
          ("gen", 3), ("del", True), ("sns", "vault"), ("sname", "db"), ("json", FH_JSON))))],
    "synced": [1, 5, 2, (("res", 2),)],
    "task": [1, 6, 0, (("ns", "team-a"), ("name", "db-creds"), ("att", 2), ("verify", True),
          ("fh", fh_obj),
          ("secret", (("res", 2), ("ns", "vault"), ("name", "db"),
                      ("uid", "0a8e5d3c-1111-4d2e-8f00-5c6b7a8d9e0f"), ("rv", "900"), ("gen", 0))),
          ("bundle", (("res", 3), ("ns", "team-a"), ("name", "db-creds"),
                      ("uid", "9c0b7a6d-2222-4e3f-a111-6d7c8b9a0f1e"), ("rv", "777"), ("gen", 1),
                      ("ouid", "6f1c2a7e-0d4b-4c1e-9a51-3b7d2f0e8c11"), ("oname", "db-creds"),
                      ("bfrom", "fh=3;secret=900"))))],
    "result": [1, 7, 7, (("ns", "team-a"), ("name", "db-creds"), ("out", 2), ("err", 2),
          ("ra", 1500), ("fhrv", "12346"), ("brv", "778"), ("msg", "apiserver throttled (429)"),
          ("reads", 3), ("writes", 1))],
    "leader": [1, 8, 9, (("lead", True), ("holder", "node-a_0123456789abcdef"))],
}
desc = {
    "hello": "HELLO gen 7: worker slot 3, pid 4242",
    "heartbeat": "HEARTBEAT gen 7, empty body",
    "quit": "QUIT gen 0 (from the supervisor), empty body",
    "event": "EVENT gen 2: MODIFIED FleetHandshake team-a/db-creds being deleted (see test_proto.c sample_event)",
    "synced": "SYNCED gen 2: the Secret list is complete",
    "task": "TASK gen 0: team-a/db-creds attempt 2, verify, with fh, secret and bundle (see test_proto.c sample_task)",
    "result": "RESULT gen 7: RETRY/THROTTLED after 1500 ms (see test_proto.c sample_result)",
    "leader": "LEADER gen 9: lead, holder node-a_0123456789abcdef",
}
out = sys.argv[1]
for name, v in samples.items():
    b = pack(v)
    with open(os.path.join(out, name + ".hex"), "w") as f:
        f.write("# %s\n# %d bytes; '#' lines and whitespace are ignored.\n" % (desc[name], len(b)))
        h = b.hex()
        for i in range(0, len(h), 64):
            f.write(h[i:i+64] + "\n")
    print(name, len(b))
