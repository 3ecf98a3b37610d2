"""`make chart` / scripts/package-chart.sh: the chart as a static Helm
repository (NAME-VERSION.tgz + index.yaml), checked the way Helm reads it."""
import hashlib
import os
import shutil
import subprocess
import tarfile

import pytest
import yaml

from helmlib import CHART, ROOT, run_render

SCRIPT = os.path.join(ROOT, "scripts", "package-chart.sh")
META = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))
TGZ = "%s-%s.tgz" % (META["name"], META["version"])


def package(chart, dist, **env):
    e = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    e.pop("CHART_REPO_URL", None)
    e.update(env)
    p = subprocess.run(["bash", SCRIPT, str(chart), str(dist)], env=e, capture_output=True, text=True, cwd=ROOT)
    assert p.returncode == 0, p.stderr
    return os.path.join(str(dist), TGZ)


@pytest.fixture(scope="module")
def packaged(tmp_path_factory):
    dist = tmp_path_factory.mktemp("dist")
    return package(CHART, dist), dist


def members(tgz):
    with tarfile.open(tgz, "r:gz") as t:
        return t.getmembers()


def test_archive_layout(packaged):
    tgz, _ = packaged
    with open(tgz, "rb") as f:
        assert f.read(2) == b"\x1f\x8b"  # gzip
    ms = members(tgz)
    names = [m.name for m in ms]
    assert all(m.isfile() and m.mode == 0o644 for m in ms)
    assert all(n.startswith("fleet-handshake/") and ".." not in n for n in names)
    # helm package's order: Chart.yaml, values.yaml, values.schema.json, templates, the rest
    assert names[:3] == ["fleet-handshake/Chart.yaml", "fleet-handshake/values.yaml",
                         "fleet-handshake/values.schema.json"]
    rel = [n.split("/", 1)[1] for n in names]
    tpl = [n for n in rel if n.startswith("templates/")]
    assert rel[3:3 + len(tpl)] == tpl
    expected = set()
    for root, _, files in os.walk(CHART):
        for f in files:
            expected.add(os.path.relpath(os.path.join(root, f), CHART))
    assert set(rel) == expected
    for must in ("templates/NOTES.txt", "templates/_helpers.tpl", "templates/deployment.yaml",
                 "crds/fleethandshakes.riverpointtechnology.com.yaml", "README.md", ".helmignore"):
        assert must in rel
    with tarfile.open(tgz, "r:gz") as t:
        for m in ms:
            src = os.path.join(CHART, m.name.split("/", 1)[1])
            assert t.extractfile(m).read() == open(src, "rb").read(), m.name


def test_helmignore_is_honoured(tmp_path):
    chart = tmp_path / "fleet-handshake"
    shutil.copytree(CHART, chart)
    (chart / "values.yaml.bak").write_text("x")
    (chart / "ci").mkdir()
    (chart / "ci" / "test-values.yaml").write_text("workers: 2\n")
    (chart / "templates" / ".hidden.yaml").write_text("kind: Nope\n")
    (chart / "notes.local.yaml").write_text("x")
    (chart / ".helmignore").write_text((chart / ".helmignore").read_text() + "!keep.bak\n")
    (chart / "keep.bak").write_text("kept by a negated rule\n")
    dist = tmp_path / "dist"
    rel = [m.name.split("/", 1)[1] for m in members(package(chart, dist))]
    for gone in ("values.yaml.bak", "ci/test-values.yaml", "templates/.hidden.yaml", "notes.local.yaml"):
        assert gone not in rel
    assert "keep.bak" in rel and "values.yaml" in rel


def test_index(packaged):
    tgz, dist = packaged
    idx = yaml.safe_load(open(os.path.join(str(dist), "index.yaml")))
    assert idx["apiVersion"] == "v1" and idx["generated"]
    [e] = idx["entries"]["fleet-handshake"]
    for k in ("name", "version", "appVersion", "description", "apiVersion", "kubeVersion", "home", "sources",
              "keywords", "type"):
        assert e[k] == META[k], k
    assert e["digest"] == hashlib.sha256(open(tgz, "rb").read()).hexdigest()
    assert e["urls"] == [TGZ]
    assert e["created"].endswith("Z")


def test_repo_url_and_reproducible_digest(tmp_path, packaged):
    tgz, _ = packaged
    again = package(CHART, tmp_path, CHART_REPO_URL="https://charts.example.org/fh/")
    assert open(again, "rb").read() == open(tgz, "rb").read()  # same chart, same bytes
    idx = yaml.safe_load(open(tmp_path / "index.yaml"))
    created = idx["entries"]["fleet-handshake"][0]["created"]
    assert idx["entries"]["fleet-handshake"][0]["urls"] == ["https://charts.example.org/fh/" + TGZ]
    package(CHART, tmp_path)
    idx = yaml.safe_load(open(tmp_path / "index.yaml"))
    assert idx["entries"]["fleet-handshake"][0]["created"] == created  # unchanged digest keeps its time


def test_index_lists_every_version_newest_first(tmp_path):
    chart = tmp_path / "fleet-handshake"
    shutil.copytree(CHART, chart)
    dist = tmp_path / "dist"
    package(chart, dist)
    meta = (chart / "Chart.yaml").read_text().replace("version: 0.1.0", "version: 0.2.0", 1)
    (chart / "Chart.yaml").write_text(meta)
    package(chart, dist)
    idx = yaml.safe_load(open(dist / "index.yaml"))
    assert [e["version"] for e in idx["entries"]["fleet-handshake"]] == ["0.2.0", "0.1.0"]
    for e in idx["entries"]["fleet-handshake"]:
        assert e["digest"] == hashlib.sha256(open(dist / e["urls"][0], "rb").read()).hexdigest()


@pytest.mark.parametrize("args", [[], ["--set", "watchNamespaces={a,b}", "--set", "replicaCount=2"]])
def test_renders_identically_from_the_archive(packaged, tmp_path, args):
    tgz, _ = packaged
    with tarfile.open(tgz, "r:gz") as t:
        t.extractall(tmp_path)
    src = run_render("--include-crds", *args).stdout
    assert run_render("--include-crds", *args, chart=str(tmp_path / "fleet-handshake")).stdout == src
    assert run_render("--include-crds", *args, chart=tgz).stdout == src


def test_make_chart_target(tmp_path):
    # `make chart` runs the script into dist/; run it on a copy of the tree's
    # Makefile so the real dist/ is left alone
    p = subprocess.run(["make", "-s", "-n", "chart"], cwd=ROOT, capture_output=True, text=True)
    assert p.returncode == 0
    assert "scripts/package-chart.sh helm/fleet-handshake dist" in p.stdout
    assert "/dist/" in open(os.path.join(ROOT, ".gitignore")).read().split()
