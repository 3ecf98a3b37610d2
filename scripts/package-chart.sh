#!/usr/bin/env bash
# package-chart.sh - package the Helm chart as a static Helm repository,
# the way `helm package` + `helm repo index` do (Helm itself is not needed).
#
#   scripts/package-chart.sh [CHART_DIR] [DIST_DIR]
#       CHART_DIR  default helm/fleet-handshake
#       DIST_DIR   default dist
#   CHART_REPO_URL=https://example.org/charts  makes the index's urls absolute
#   SOURCE_DATE_EPOCH=...                       archive timestamps (default:
#                                               the last commit, else 0)
#
# DIST_DIR/NAME-VERSION.tgz: a gzip'd tar whose one top folder is NAME/,
# with Chart.yaml, values.yaml, values.schema.json, templates/, then every
# other file (crds/, README.md, .helmignore), minus what .helmignore
# ignores; regular files only, mode 0644, as `helm package` writes them.
# Timestamps are fixed, so the same chart gives the same bytes and digest.
#
# DIST_DIR/index.yaml: every NAME-*.tgz in DIST_DIR, each entry the
# Chart.yaml metadata plus created, digest (sha256 of the .tgz) and urls,
# merged like `helm repo index --merge` with the entries of
#   - DIST_DIR/index.yaml, if it exists (the previous run's, or the published
#     index downloaded there), and
#   - CHART_REPO_INDEX=path/to/index.yaml, if set (the published index; the
#     file must exist),
# for every chart version with no archive in DIST_DIR: publishing a new
# version never drops the older ones. An archive in DIST_DIR wins over an
# old entry of the same version (an unchanged digest keeps its "created").
# Versions are sorted newest first by SemVer 2.0 precedence (section 11:
# major.minor.patch numerically, a pre-release before its release,
# pre-release identifiers compared one by one, numeric ones numerically and
# before alphanumeric ones, a longer list after its prefix; build metadata
# ignored). Upload DIST_DIR to any static web host, then:
#   helm repo add fleet-handshake https://HOST/PATH
set -euo pipefail

cd "$(dirname "$0")/.."
chart_dir=${1:-helm/fleet-handshake}
dist_dir=${2:-dist}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH CHART_REPO_URL="${CHART_REPO_URL:-}" CHART_REPO_INDEX="${CHART_REPO_INDEX:-}"
mkdir -p "$dist_dir"

exec "${PYTHON:-/usr/bin/python3}" - "$chart_dir" "$dist_dir" <<'PY'
import fnmatch, gzip, hashlib, io, os, re, sys, tarfile, time
import yaml

chart_dir, dist_dir = sys.argv[1], sys.argv[2]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
repo_url = os.environ.get("CHART_REPO_URL", "").rstrip("/")
merge_from = os.environ.get("CHART_REPO_INDEX", "")


def die(msg):
    sys.exit("package-chart: " + msg)


if merge_from and not os.path.isfile(merge_from):
    die("CHART_REPO_INDEX=%s: no such file (download the published index.yaml first)" % merge_from)


# .helmignore, with the rules of Helm's pkg/ignore: "#" comments, "!"
# negates, a trailing "/" matches directories only, a pattern with "/" is
# matched against the whole relative path, one without against the base
# name; the last matching rule decides. Hidden files under templates/ are
# always ignored (Helm's default rule).
def load_rules(path):
    rules = [("templates/.?*", False, False)]
    try:
        lines = open(path).read().splitlines()
    except FileNotFoundError:
        lines = []
    for line in lines:
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        neg = line.startswith("!")
        if neg:
            line = line[1:]
        must_dir = line.endswith("/")
        line = line.rstrip("/")
        rules.append((line, neg, must_dir))
    return rules


def gomatch(pattern, name):
    # filepath.Match: "*" and "?" never cross "/"
    rx = ""
    i = 0
    while i < len(pattern):
        c = pattern[i]
        if c == "*":
            rx += "[^/]*"
        elif c == "?":
            rx += "[^/]"
        elif c == "[":
            j = pattern.find("]", i)
            if j < 0:
                return False
            body = pattern[i + 1:j]
            if body.startswith("^") or body.startswith("!"):
                body = "^" + body[1:]
            rx += "[" + body + "]"
            i = j
        elif c == "\\" and i + 1 < len(pattern):
            i += 1
            rx += re.escape(pattern[i])
        else:
            rx += re.escape(c)
        i += 1
    return re.fullmatch(rx, name) is not None


def ignored(rules, rel, is_dir):
    hit = False
    for pat, neg, must_dir in rules:
        if must_dir and not is_dir:
            continue
        if pat.startswith("/"):
            ok = gomatch(pat[1:], rel)
        elif "/" in pat:
            ok = gomatch(pat, rel)
        else:
            ok = gomatch(pat, os.path.basename(rel))
        if ok:
            hit = not neg
    return hit


rules = load_rules(os.path.join(chart_dir, ".helmignore"))
files = []
for root, dirs, names in os.walk(chart_dir):
    rel_root = os.path.relpath(root, chart_dir)
    rel_root = "" if rel_root == "." else rel_root + "/"
    dirs[:] = sorted(d for d in dirs if not ignored(rules, rel_root + d, True))
    for n in sorted(names):
        rel = rel_root + n
        if not ignored(rules, rel, False):
            files.append(rel)

if "Chart.yaml" not in files:
    die("%s/Chart.yaml is missing" % chart_dir)
meta = yaml.safe_load(open(os.path.join(chart_dir, "Chart.yaml")))
for k in ("apiVersion", "name", "version"):
    if not meta.get(k):
        die("Chart.yaml: %s is required" % k)
name, version = meta["name"], str(meta["version"])
# SemVer 2.0.0's own grammar (numbers and numeric identifiers without a
# leading zero), with Helm's optional "v"
NUM = r"(?:0|[1-9]\d*)"
PRE_ID = r"(?:0|[1-9]\d*|\d*[A-Za-z-][0-9A-Za-z-]*)"
SEMVER = re.compile(r"v?(%s)\.(%s)\.(%s)(?:-(%s(?:\.%s)*))?(?:\+([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?"
                    % (NUM, NUM, NUM, PRE_ID, PRE_ID))
if not SEMVER.fullmatch(version):
    die("Chart.yaml: version %r is not SemVer 2" % version)
if "values.schema.json" in files:
    import json
    try:
        json.load(open(os.path.join(chart_dir, "values.schema.json")))
    except ValueError as e:
        die("Invalid JSON in values.schema.json: %s" % e)


# helm package's order: Chart.yaml, values.yaml, values.schema.json,
# templates/, then every other file
def order(rel):
    fixed = {"Chart.yaml": 0, "values.yaml": 1, "values.schema.json": 2}
    if rel in fixed:
        return (fixed[rel], rel)
    if rel.startswith("templates/"):
        return (3, rel)
    if rel.startswith("charts/"):
        return (5, rel)
    return (4, rel)


tgz_name = "%s-%s.tgz" % (name, version)
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
    for rel in sorted(files, key=order):
        data = open(os.path.join(chart_dir, rel), "rb").read()
        ti = tarfile.TarInfo("%s/%s" % (name, rel))
        ti.size = len(data)
        ti.mode = 0o644
        ti.mtime = epoch
        ti.uname = ti.gname = ""
        tar.addfile(ti, io.BytesIO(data))
raw = io.BytesIO()
with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=epoch, compresslevel=9) as gz:
    gz.write(buf.getvalue())
tgz_path = os.path.join(dist_dir, tgz_name)
with open(tgz_path + ".tmp", "wb") as f:
    f.write(raw.getvalue())
os.replace(tgz_path + ".tmp", tgz_path)


# index.yaml over every packaged version of this chart in dist_dir; an
# entry keeps its "created" time while its digest is unchanged
def rfc3339(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%06dZ" % int((t % 1) * 1e6)


index_path = os.path.join(dist_dir, "index.yaml")


def load_index(path):
    try:
        with open(path) as f:
            idx = yaml.safe_load(f) or {}
    except FileNotFoundError:
        return {}
    except yaml.YAMLError as e:
        die("%s: not YAML: %s" % (path, e))
    if not isinstance(idx, dict) or not isinstance(idx.get("entries") or {}, dict):
        die("%s: not a Helm repository index" % path)
    return idx.get("entries") or {}


# old entries: the published index (CHART_REPO_INDEX) first, then this
# folder's previous index.yaml, which wins for a version both list
old_entries = {}
for src in ([merge_from] if merge_from else []) + [index_path]:
    for chart, versions in load_index(src).items():
        for e in versions or []:
            if isinstance(e, dict) and e.get("version") is not None:
                old_entries.setdefault(chart, {})[str(e["version"])] = e
created_by_digest = {e.get("digest"): e.get("created") for v in old_entries.values() for e in v.values()
                     if e.get("digest") and e.get("created")}


def precedence(v):
    """SemVer 2.0 section 11 as a sort key (build metadata ignored)."""
    m = SEMVER.fullmatch(v)
    if not m:  # not SemVer (an old entry): before every SemVer version
        return ((-1,), ())
    pre = m[4]
    ids = ()
    if pre:
        # numeric identifiers before alphanumeric ones, numerically; the
        # tuple comparison makes a longer list win over its prefix
        ids = tuple((0, int(i), "") if i.isdigit() else (1, 0, i) for i in pre.split("."))
    # a release (no pre-release) after all of its pre-releases
    return ((int(m[1]), int(m[2]), int(m[3]), 0 if pre else 1), ids)


entries = {}
now = time.time()
pat = re.compile(re.escape(name) + r"-(v?\d+\.\d+\.\d+.*)\.tgz$")
for fn in sorted(os.listdir(dist_dir)):
    if not pat.match(fn):
        continue
    data = open(os.path.join(dist_dir, fn), "rb").read()
    digest = hashlib.sha256(data).hexdigest()
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as t:
        m = yaml.safe_load(t.extractfile("%s/Chart.yaml" % name).read())
    entry = dict(m)
    entry["created"] = created_by_digest.get(digest) or rfc3339(now)
    entry["digest"] = digest
    entry["urls"] = ["%s/%s" % (repo_url, fn) if repo_url else fn]
    entries.setdefault(name, {})[str(entry["version"])] = entry
kept = 0
for chart, versions in old_entries.items():
    for v, e in versions.items():
        if v not in entries.setdefault(chart, {}):
            entries[chart][v] = e
            kept += 1
out_entries = {}
for chart, versions in sorted(entries.items()):
    # newest first; equal precedence (build metadata only): by the string
    out_entries[chart] = sorted(versions.values(), key=lambda e: (precedence(str(e["version"])), str(e["version"])),
                                reverse=True)
index = {"apiVersion": "v1", "entries": out_entries, "generated": rfc3339(now)}
with open(index_path + ".tmp", "w") as f:
    yaml.safe_dump(index, f, sort_keys=True, default_flow_style=False)
os.replace(index_path + ".tmp", index_path)
print("chart: %s (sha256 %s)" % (tgz_path, hashlib.sha256(raw.getvalue()).hexdigest()))
n = len(out_entries.get(name, []))
print("chart: %s (%d version%s of %s, %d kept from the old index)"
      % (index_path, n, "" if n == 1 else "s", name, kept))
PY
