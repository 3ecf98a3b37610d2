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


# ------------------------------------------------------------ SemVer order and merging old indexes

def chart_at(tmp_path, version, name="fleet-handshake"):
    chart = tmp_path / ("src-" + version) / name
    shutil.copytree(CHART, chart)
    meta = (chart / "Chart.yaml").read_text()
    assert "\nversion: 0.1.0\n" in meta
    (chart / "Chart.yaml").write_text(meta.replace("\nversion: 0.1.0\n", "\nversion: %s\n" % version, 1))
    return chart


def versions(index_file, name="fleet-handshake"):
    return [e["version"] for e in yaml.safe_load(open(index_file))["entries"][name]]


def package_version(tmp_path, dist, version, **env):
    e = dict(os.environ, SOURCE_DATE_EPOCH="1700000000")
    e.pop("CHART_REPO_URL", None)
    e.pop("CHART_REPO_INDEX", None)
    e.update(env)
    return subprocess.run(["bash", SCRIPT, str(chart_at(tmp_path, version)), str(dist)], env=e,
                          capture_output=True, text=True, cwd=ROOT)


def test_index_sorts_by_semver_precedence(tmp_path):
    # SemVer 2.0.0 section 11's own example, plus numeric identifiers compared numerically
    # (rc.10 after rc.9), numeric before alphanumeric, a longer list after its prefix
    newest_first = ["10.0.0", "2.0.0", "1.0.0", "1.0.0-rc.10", "1.0.0-rc.9", "1.0.0-rc.1.1", "1.0.0-rc.1",
                    "1.0.0-beta.11", "1.0.0-beta.2", "1.0.0-beta", "1.0.0-alpha.beta", "1.0.0-alpha.1",
                    "1.0.0-alpha", "1.0.0-2", "1.0.0-1", "0.10.0", "0.9.0"]
    dist = tmp_path / "dist"
    for v in sorted(newest_first):  # packaged in string order, which is not the SemVer order
        p = package_version(tmp_path, dist, v)
        assert p.returncode == 0, p.stderr
    assert versions(dist / "index.yaml") == newest_first


@pytest.mark.parametrize("bad", ["1.0", "01.0.0", "1.0.0-01", "1.0.0-rc..1", "1.0.0+", "1.0.0-"])
def test_version_must_be_semver2(tmp_path, bad):
    p = package_version(tmp_path, tmp_path / "dist", bad)
    assert p.returncode != 0 and "is not SemVer 2" in p.stderr


def published(tmp_path):
    """A published repository with 0.1.0 and 0.1.1 (absolute urls) and another chart's entry."""
    site = tmp_path / "site"
    for v in ("0.1.0", "0.1.1"):
        p = package_version(tmp_path, site, v, CHART_REPO_URL="https://charts.example.org/fh")
        assert p.returncode == 0, p.stderr
    idx = yaml.safe_load(open(site / "index.yaml"))
    idx["entries"]["other-chart"] = [{"name": "other-chart", "version": "3.0.0", "apiVersion": "v2",
                                      "urls": ["https://charts.example.org/fh/other-chart-3.0.0.tgz"],
                                      "digest": "0" * 64, "created": "2020-01-01T00:00:00.000000Z"}]
    with open(site / "index.yaml", "w") as f:
        yaml.safe_dump(idx, f)
    return site, idx


def test_chart_repo_index_is_merged(tmp_path):
    """CHART_REPO_INDEX: the published index's versions stay (as they were), new ones join."""
    site, old = published(tmp_path)
    dist = tmp_path / "dist"  # a fresh checkout: only the new version is built
    p = package_version(tmp_path, dist, "0.2.0", CHART_REPO_INDEX=str(site / "index.yaml"),
                        CHART_REPO_URL="https://charts.example.org/fh")
    assert p.returncode == 0, p.stderr
    idx = yaml.safe_load(open(dist / "index.yaml"))
    assert versions(dist / "index.yaml") == ["0.2.0", "0.1.1", "0.1.0"]
    by_version = {e["version"]: e for e in idx["entries"]["fleet-handshake"]}
    for e in old["entries"]["fleet-handshake"]:
        assert by_version[e["version"]] == e  # kept verbatim: digest, created, urls
    assert idx["entries"]["other-chart"] == old["entries"]["other-chart"]
    new = by_version["0.2.0"]
    assert new["urls"] == ["https://charts.example.org/fh/fleet-handshake-0.2.0.tgz"]
    assert new["digest"] == hashlib.sha256(open(dist / "fleet-handshake-0.2.0.tgz", "rb").read()).hexdigest()


def test_a_rebuilt_version_replaces_its_old_entry(tmp_path):
    site, old = published(tmp_path)
    dist = tmp_path / "dist"
    chart = chart_at(tmp_path / "changed", "0.1.1")
    (chart / "README.md").write_text((chart / "README.md").read_text() + "\nchanged\n")
    p = subprocess.run(["bash", SCRIPT, str(chart), str(dist)], capture_output=True, text=True, cwd=ROOT,
                       env=dict(os.environ, SOURCE_DATE_EPOCH="1700000000", CHART_REPO_INDEX=str(site / "index.yaml")))
    assert p.returncode == 0, p.stderr
    idx = yaml.safe_load(open(dist / "index.yaml"))
    [e] = [e for e in idx["entries"]["fleet-handshake"] if e["version"] == "0.1.1"]
    assert e["digest"] == hashlib.sha256(open(dist / "fleet-handshake-0.1.1.tgz", "rb").read()).hexdigest()
    assert e["urls"] == ["fleet-handshake-0.1.1.tgz"]
    assert versions(dist / "index.yaml") == ["0.1.1", "0.1.0"]


def test_existing_dist_index_keeps_versions_not_rebuilt(tmp_path):
    """dist/index.yaml already there (a previous run, or the published index downloaded into
    dist/): its versions stay even when their archives are not in dist/."""
    dist = tmp_path / "dist"
    assert package_version(tmp_path, dist, "0.1.0").returncode == 0
    first = yaml.safe_load(open(dist / "index.yaml"))["entries"]["fleet-handshake"][0]
    os.unlink(dist / "fleet-handshake-0.1.0.tgz")
    p = package_version(tmp_path, dist, "0.2.0")
    assert p.returncode == 0, p.stderr
    assert "1 kept from the old index" in p.stdout
    assert versions(dist / "index.yaml") == ["0.2.0", "0.1.0"]
    assert yaml.safe_load(open(dist / "index.yaml"))["entries"]["fleet-handshake"][1] == first


def test_chart_repo_index_must_exist(tmp_path):
    p = package_version(tmp_path, tmp_path / "dist", "0.1.0", CHART_REPO_INDEX=str(tmp_path / "nope.yaml"))
    assert p.returncode != 0 and "CHART_REPO_INDEX" in p.stderr and "no such file" in p.stderr
    assert not (tmp_path / "dist" / "index.yaml").exists()
