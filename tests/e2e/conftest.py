"""pytest fixtures for the operator's end-to-end tests.

FH_BIN_DIR names the folder with fh-supervisor/fh-watcher/fh-worker (the
Makefile sets it to build/<variant>/bin). Each test module gets a fresh
emulator with the Fleet simulation, the CRD applied and three clusters (two
env=prod, one env=staging) in fleet-default.
"""
import os
import sys

import pytest

sys.path.insert(0, os.path.dirname(__file__))
import harness  # noqa: E402


@pytest.fixture(scope="session")
def bin_dir():
    d = os.environ.get("FH_BIN_DIR") or os.path.join(harness.ROOT, "build", "rel", "bin")
    if not os.path.exists(os.path.join(d, "fh-supervisor")):
        pytest.fail(f"no fh-supervisor in {d}; run make first")
    return d


def setup_cluster(emu):
    emu.kubectl("apply", "-f", harness.CRD)
    emu.kubectl("wait", "--for=condition=established", "--timeout=30s",
                "crd/fleethandshakes.riverpointtechnology.com")
    for name, labels in (("prod-1", {"env": "prod"}), ("prod-2", {"env": "prod"}),
                         ("staging-1", {"env": "staging"})):
        emu.apply(harness.cluster_manifest(name, labels))


@pytest.fixture
def emu():
    e = harness.Emulator(fleet_sim=True)
    try:
        setup_cluster(e)
        yield e
    finally:
        e.close()


@pytest.fixture
def operator_factory(emu, bin_dir):
    ops = []

    def start(**kw):
        op = harness.Operator(emu, bin_dir, name=f"op{len(ops)}", **kw)
        ops.append(op)
        return op
    yield start
    for op in ops:
        rc = op.stop()
        # ASan reports leaks/errors with exit code 86; a clean drain exits 0.
        assert rc == 0, f"operator exited {rc}:\n{op.logtext()[-4000:]}"
        # Children share the supervisor's stderr: any sanitizer report of the
        # watcher, a worker or the elector lands in the same log.
        text = op.logtext()
        for marker in ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:"):
            assert marker not in text, f"sanitizer report in operator log:\n{text[-6000:]}"
