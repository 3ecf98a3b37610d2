"""The Dockerfile, proven without a Docker engine: its build stage installs
what scripts/install-deps.sh lists for building and runs what `make` runs;
its runtime stage installs exactly the packages that provide every shared
library ldd reports for the binaries (per ldd/dpkg -S on this bookworm
machine) plus ca-certificates,
copies only what `make` builds, runs non-root and starts the binary the Helm
chart names; .dockerignore leaves a context that builds."""
import fnmatch
import os
import re
import shlex
import shutil
import subprocess

import pytest
import yaml

from helmlib import CHART, ROOT

def parse_dockerfile(path):
    """Stages as [{"from": image, "name": alias, "ins": [(INSTR, args)]}]."""
    text = open(path).read()
    text = re.sub(r"\\\n", " ", text)  # line continuations
    stages = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        instr, _, args = line.partition(" ")
        instr = instr.upper()
        if instr == "FROM":
            m = re.match(r"(\S+)(?:\s+AS\s+(\S+))?$", args.strip(), flags=re.I)
            stages.append({"from": m.group(1), "name": m.group(2), "ins": []})
        else:
            assert stages or instr == "ARG", "%s before FROM" % instr
            if stages:
                stages[-1]["ins"].append((instr, args.strip()))
    return stages


DF = parse_dockerfile(os.path.join(ROOT, "Dockerfile"))
BUILD, RUNTIME = DF[0], DF[-1]


def runs(stage):
    return [a for i, a in stage["ins"] if i == "RUN"]


def make_var(name, *args):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", ROOT, *args,
                        "--eval", "print-%: ; @echo $($*)", "print-" + name],
                       capture_output=True, text=True, check=True)
    return p.stdout.split()


def bash_array(script, name):
    text = open(script).read()
    m = re.search(r"^%s=\((.*?)^\)" % name, text, flags=re.M | re.S)
    assert m, "no %s=(...) in %s" % (name, script)
    body = "\n".join(l.split("#", 1)[0] for l in m.group(1).splitlines())
    return body.split()


def _spellings(path):
    real = os.path.realpath(path)
    out = [path, real]
    for p in (path, real):  # usrmerge: dpkg may know either spelling
        if p.startswith("/usr/lib/"):
            out.append(p[4:])
        elif p.startswith("/lib/"):
            out.append("/usr" + p)
    return out


def dpkg_packages_of(paths):
    """path -> the Debian package that ships it, with one `dpkg -S` call."""
    cands = sorted({c for p in paths for c in _spellings(p)})
    out = subprocess.run(["dpkg", "-S"] + cands, capture_output=True, text=True).stdout
    owner = {}
    for line in out.splitlines():
        pkgs, _, f = line.rpartition(": ")
        if pkgs and not pkgs.startswith("diversion"):
            owner[f] = pkgs.split(",")[0].split(":")[0].strip()
    res = {}
    for p in paths:
        found = [owner[c] for c in _spellings(p) if c in owner]
        assert found, "no package ships %s" % p
        res[p] = found[0]
    return res


def dpkg_package_of(path):
    return dpkg_packages_of([path])[path]


@pytest.fixture(scope="module")
def binaries():
    bins = make_var("BINS", "VARIANT=rel")
    if not all(os.access(os.path.join(ROOT, b), os.X_OK) for b in bins):
        subprocess.run(["make", "-s", "-C", ROOT, "VARIANT=rel", "all"], check=True)
    return [os.path.join(ROOT, b) for b in bins]


def ldd(binary):
    """Every library file ldd reports: soname -> resolved path, and the dynamic loader
    (reported by its path alone); linux-vdso is the kernel's, not a file."""
    out = subprocess.run(["ldd", binary], capture_output=True, text=True, check=True).stdout
    libs = {}
    for line in out.splitlines():
        assert "not found" not in line, line
        m = re.match(r"\s*(\S+) => (\S+) \(", line)
        if m:
            libs[m.group(1)] = m.group(2)
            continue
        m = re.match(r"\s*(/\S+) \(0x", line)
        if m:
            libs[m.group(1)] = m.group(1)
            continue
        assert re.match(r"\s*linux-vdso\.so\.\d+ \(0x", line) or not line.strip(), "unexpected ldd line: " + line
    return libs


def needed(binary):
    out = subprocess.run(["readelf", "-d", binary], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]", out)


def apt_installs(stage):
    pkgs = []
    for r in runs(stage):
        for cmd in re.split(r"&&|;", r):
            words = shlex.split(cmd)
            words = [w for w in words if "=" not in w or w.startswith("-")]  # drop VAR=value
            if words[:2] == ["apt-get", "install"]:
                pkgs += [w for w in words[2:] if not w.startswith("-")]
    return pkgs


# ------------------------------------------------------------ build stage

def test_build_stage_base_and_deps():
    assert BUILD["from"] == "debian:bookworm" and BUILD["name"]
    assert any(re.fullmatch(r"bash scripts/install-deps\.sh --build\b.*", r) for r in runs(BUILD)), runs(BUILD)
    copies = [a for i, a in BUILD["ins"] if i == "COPY"]
    assert "scripts/install-deps.sh scripts/install-deps.sh" in copies


def test_install_deps_build_list_provides_every_pkg_config_module():
    """--build installs build_pkgs only; they hold every module in PKGS."""
    script = os.path.join(ROOT, "scripts", "install-deps.sh")
    build = bash_array(script, "build_pkgs")
    assert {"build-essential", "pkg-config"} <= set(build)
    tests_only = bash_array(script, "test_pkgs")
    assert not set(build) & set(tests_only)
    text = open(script).read()
    assert re.search(r'pkgs=\("\$\{build_pkgs\[@\]\}"\)', text)
    assert re.search(r'if \[ "\$\{1:-\}" != "--build" \]; then\s+pkgs\+=\("\$\{test_pkgs\[@\]\}"\)', text)
    mods = re.search(r"^PKGS\s*:=\s*(.*)$", open(os.path.join(ROOT, "Makefile")).read(), flags=re.M).group(1).split()
    for mod in mods:
        pc = subprocess.run(["pkg-config", "--path", mod], capture_output=True, text=True)
        if pc.returncode != 0 or not pc.stdout.strip():
            d = subprocess.run(["pkg-config", "--variable=pcfiledir", mod], capture_output=True,
                               text=True, check=True).stdout.strip()
            path = os.path.join(d, mod + ".pc")
        else:
            path = pc.stdout.strip()
        assert dpkg_package_of(path) in build, "%s (%s) is not in build_pkgs" % (mod, dpkg_package_of(path))


def test_build_stage_runs_make_all_like_the_makefile():
    makes = [r for r in runs(BUILD) if r.startswith("make")]
    assert makes == ["make VARIANT=rel all"]
    # `make` with no target builds `all`, and VARIANT defaults to rel
    mk = open(os.path.join(ROOT, "Makefile")).read()
    first_target = re.search(r"^([a-zA-Z][\w-]*):", mk, flags=re.M).group(1)
    assert first_target == "all"
    assert re.search(r"^VARIANT \?= rel$", mk, flags=re.M)
    assert make_var("BINS", "VARIANT=rel") == make_var("BINS")


# ------------------------------------------------------------ runtime stage

def ldd_packages(binaries):
    """The packages that provide every library ldd reports for the binaries."""
    paths = set()
    for b in binaries:
        libs = ldd(b)
        for soname in needed(b):
            assert soname in libs, "%s: %s not resolved" % (b, soname)
        paths |= set(libs.values())
    return set(dpkg_packages_of(sorted(paths)).values())


def test_runtime_packages_are_exactly_the_ldd_libraries_packages(binaries):
    """The runtime stage's apt-get install list is exactly the packages (dpkg -S) of every
    library ldd reports for the binaries, plus ca-certificates: TLS to an apiserver with a
    publicly-signed certificate and no CA in the kubeconfig (the one documented exception)."""
    pkgs = ldd_packages(binaries)
    assert {"libc6", "libcurl4", "libzmq5", "libssl3"} <= pkgs  # the loader, libc and the direct ones
    assert "ca-certificates" not in pkgs
    expected = pkgs | {"ca-certificates"}
    installed = apt_installs(RUNTIME)
    assert len(installed) == len(set(installed)), "listed twice: %s" % sorted(
        p for p in installed if installed.count(p) > 1)
    assert set(installed) == expected, "missing %s, not needed %s" % (
        sorted(expected - set(installed)), sorted(set(installed) - expected))
    assert installed == sorted(installed), "keep the install list sorted"


def test_runtime_install_list_is_one_package_a_line_and_explained():
    text = open(os.path.join(ROOT, "Dockerfile")).read()
    m = re.search(r"((?:^#.*\n)+)RUN apt-get update \\\n.*?apt-get install[^\n]*\\\n((?:[ \t]+\S+ \\\n)+)"
                  r"[ \t]*&& rm -rf /var/lib/apt/lists/\*", text, flags=re.M | re.S)
    assert m, "the runtime stage's apt-get install is not one package per continued line"
    lines = [l.strip().rstrip("\\").strip() for l in m.group(2).splitlines()]
    assert lines == apt_installs(RUNTIME)
    comment = m.group(1).lower()
    for word in ("ldd", "dpkg -s", "ca-certificates", "test_dockerfile.py"):
        assert word in comment, "the comment above the install list should mention %r" % word


def test_runtime_stage_copies_only_the_built_binaries(binaries):
    assert RUNTIME["from"] == "debian:bookworm-slim"
    copies = [a for i, a in RUNTIME["ins"] if i == "COPY"]
    assert copies == ["--from=%s /src/build/rel/bin/ /usr/local/bin/" % BUILD["name"]]
    workdir = [a for i, a in BUILD["ins"] if i == "WORKDIR"]
    assert workdir == ["/src"]
    # build/rel/bin holds exactly what `make` builds: nothing else is copied
    bins = make_var("BINS", "VARIANT=rel")
    assert {os.path.dirname(b) for b in bins} == {"build/rel/bin"}
    assert sorted(os.listdir(os.path.join(ROOT, "build", "rel", "bin"))) == sorted(os.path.basename(b) for b in bins)
    assert "fh-supervisor" in {os.path.basename(b) for b in bins}


def test_non_root_and_entrypoint_is_the_charts_command():
    users = [a for i, a in RUNTIME["ins"] if i == "USER"]
    assert users == ["65532:65532"]
    eps = [a for i, a in RUNTIME["ins"] if i == "ENTRYPOINT"]
    assert len(eps) == 1
    entry = yaml.safe_load(eps[0])  # exec (JSON) form
    assert entry == ["/usr/local/bin/fh-supervisor"]
    dep = open(os.path.join(CHART, "templates", "deployment.yaml")).read()
    cmd = re.search(r"command:\n\s+- (\S+)", dep).group(1)
    assert [cmd] == entry


def test_labels_and_version():
    labels = " ".join(a for i, a in RUNTIME["ins"] if i == "LABEL")
    for k in ("title", "description", "version", "source"):
        assert "org.opencontainers.image.%s=" % k in labels
    args = dict(a.split("=", 1) for i, a in RUNTIME["ins"] if i == "ARG")
    meta = yaml.safe_load(open(os.path.join(CHART, "Chart.yaml")))
    assert args["VERSION"] == meta["appVersion"]
    assert args["SOURCE_URL"] == meta["home"]


# ------------------------------------------------------------ context

def dockerignored(patterns, rel):
    """moby's rule: a pattern excludes a path it matches or a parent of it;
    "**/" matches any number of folders; "!" re-includes; last match wins."""
    out = False
    parts = rel.split("/")
    for pat in patterns:
        neg = pat.startswith("!")
        p = pat[1:] if neg else pat
        p = p.strip("/")
        hit = False
        for k in range(1, len(parts) + 1):
            prefix = "/".join(parts[:k])
            if p.startswith("**/"):
                tail = p[3:]
                if any(fnmatch.fnmatchcase("/".join(parts[j:k]), tail) for j in range(k)):
                    hit = True
            elif fnmatch.fnmatchcase(prefix, p) and p.count("/") == prefix.count("/"):
                hit = True
        if hit:
            out = not neg
    return out


def test_dockerignore_leaves_a_context_that_builds(tmp_path):
    """Copy the tracked + untracked files .dockerignore keeps, then run the
    build stage's make in the copy: the context is enough."""
    pats = [l.strip() for l in open(os.path.join(ROOT, ".dockerignore")) if l.strip() and not l.startswith("#")]
    for must in (".git", "build", "dist"):
        assert must in pats
    files = subprocess.run(["git", "ls-files", "-co", "--exclude-standard"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    kept = [f for f in files if not dockerignored(pats, f) and os.path.isfile(os.path.join(ROOT, f))]
    assert "Makefile" in kept and "scripts/install-deps.sh" in kept
    assert not [f for f in kept if f.startswith(("tests/", "build/", ".git/", "helm/"))]
    ctx = tmp_path / "src"
    for f in kept:
        os.makedirs(os.path.dirname(ctx / f), exist_ok=True)
        shutil.copy2(os.path.join(ROOT, f), ctx / f)
    make = [r for r in runs(BUILD) if r.startswith("make")][0]
    p = subprocess.run(shlex.split(make) + ["-s", "-j4"], cwd=ctx, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr[-3000:]
    built = sorted(os.listdir(ctx / "build" / "rel" / "bin"))
    assert built == sorted(os.path.basename(b) for b in make_var("BINS", "VARIANT=rel"))
