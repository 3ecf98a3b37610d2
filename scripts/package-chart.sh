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
# DIST_DIR/index.yaml: every NAME-*.tgz in DIST_DIR, newest version first,
# each entry the Chart.yaml metadata plus created, digest (sha256 of the
# .tgz) and urls. Upload DIST_DIR to any static web host, then:
#   helm repo add fleet-handshake https://HOST/PATH
set -euo pipefail

cd "$(dirname "$0")/.."
chart_dir=${1:-helm/fleet-handshake}
dist_dir=${2:-dist}
if [ -z "${SOURCE_DATE_EPOCH:-}" ]; then
  SOURCE_DATE_EPOCH=$(git log -1 --format=%ct 2>/dev/null || echo 0)
fi
export SOURCE_DATE_EPOCH CHART_REPO_URL="${CHART_REPO_URL:-}"
mkdir -p "$dist_dir"

exec "${PYTHON:-/usr/bin/python3}" - "$chart_dir" "$dist_dir" <<'PY'
import fnmatch, gzip, hashlib, io, os, re, sys, tarfile, time
import yaml

chart_dir, dist_dir = sys.argv[1], sys.argv[2]
epoch = int(os.environ.get("SOURCE_DATE_EPOCH") or 0)
repo_url = os.environ.get("CHART_REPO_URL", "").rstrip("/")


def die(msg):
    sys.exit("package-chart: " + msg)


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
if not re.fullmatch(r"v?\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?", version):
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
old = {}
try:
    prev = yaml.safe_load(open(index_path)) or {}
    for e in (prev.get("entries") or {}).get(name, []):
        old[e.get("digest")] = e.get("created")
except FileNotFoundError:
    pass


def semkey(v):
    m = re.match(r"v?(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?", v)
    if not m:
        return (0, 0, 0, 0, "")
    return (int(m[1]), int(m[2]), int(m[3]), 0 if m[4] else 1, m[4] or "")


entries = []
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
    entry["created"] = old.get(digest) or rfc3339(now)
    entry["digest"] = digest
    entry["urls"] = ["%s/%s" % (repo_url, fn) if repo_url else fn]
    entries.append(entry)
entries.sort(key=lambda e: semkey(str(e["version"])), reverse=True)
index = {"apiVersion": "v1", "entries": {name: entries}, "generated": rfc3339(now)}
with open(index_path + ".tmp", "w") as f:
    yaml.safe_dump(index, f, sort_keys=True, default_flow_style=False)
os.replace(index_path + ".tmp", index_path)
print("chart: %s (sha256 %s)" % (tgz_path, hashlib.sha256(raw.getvalue()).hexdigest()))
print("chart: %s (%d version%s)" % (index_path, len(entries), "" if len(entries) == 1 else "s"))
PY
