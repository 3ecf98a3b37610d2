"""Helpers of the chart, packaging and image tests (tests/helm).

The chart is rendered by build/helm-render (tests/helm/render/main.go), a
Helm-compatible renderer: `make test-chart` builds it and passes its path in
HELM_RENDER; run alone, pytest builds it with `make build/helm-render`.
"""
import os
import re
import subprocess
import tempfile

import yaml

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
CHART = os.path.join(ROOT, "helm", "fleet-handshake")
_RENDER = []


def renderer():
    """Path of the renderer, built once per session."""
    if not _RENDER:
        path = os.environ.get("HELM_RENDER")
        if not path:
            subprocess.run(["make", "-s", "-C", ROOT, "build/helm-render"], check=True)
            path = os.path.join(ROOT, "build", "helm-render")
        assert os.access(path, os.X_OK), "renderer %s is not built" % path
        _RENDER.append(path)
    return _RENDER[0]


class StrictLoader(yaml.SafeLoader):
    """YAML loader that refuses duplicate mapping keys (kubectl and the
    apiserver refuse them; PyYAML would keep the last silently)."""


def _mapping(loader, node, deep=False):
    keys = set()
    for k, _ in node.value:
        key = loader.construct_object(k, deep=deep)
        assert key not in keys, "duplicate key %r at %s" % (key, k.start_mark)
        keys.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep)


StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


class Rendered:
    """One `helm template` output: the text and its parsed documents."""

    def __init__(self, text):
        self.text = text
        self.sources = []
        self.docs = []
        # "---\n# Source: X\n<doc>" blocks, as helm template prints them
        for block in re.split(r"^---\n", text, flags=re.M):
            if not block.strip():
                continue
            m = re.match(r"# Source: (\S+)\n", block)
            assert m, "document without a '# Source:' header:\n" + block[:200]
            doc = yaml.load(block, Loader=StrictLoader)
            self.sources.append(m.group(1))
            self.docs.append(doc)

    def all(self, kind, name=None, namespace=None):
        return [d for d in self.docs if d and d.get("kind") == kind
                and (name is None or d["metadata"]["name"] == name)
                and (namespace is None or d["metadata"].get("namespace") == namespace)]

    def one(self, kind, name=None, namespace=None):
        found = self.all(kind, name, namespace)
        assert len(found) == 1, "expected one %s %s, found %d" % (kind, name or "", len(found))
        return found[0]

    @property
    def deployment(self):
        return self.one("Deployment")

    @property
    def pod(self):
        return self.deployment["spec"]["template"]["spec"]

    @property
    def container(self):
        cs = self.pod["containers"]
        assert [c["name"] for c in cs] == ["manager"]
        return cs[0]

    @property
    def args(self):
        return self.container["args"]

    def arg(self, flag):
        """Value of --flag=V (None when absent); a bare --flag gives True."""
        found = [a for a in self.args if a == flag or a.startswith(flag + "=")]
        assert len(found) <= 1, "%s given %d times" % (flag, len(found))
        if not found:
            return None
        return True if found[0] == flag else found[0].split("=", 1)[1]


def run_render(*args, values=None, chart=CHART, check=True):
    """Render with extra CLI args and an optional values dict (-f file)."""
    cmd = [renderer()]
    tmp = None
    try:
        if values is not None:
            tmp = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
            yaml.safe_dump(values, tmp)
            tmp.close()
            cmd += ["-f", tmp.name]
        cmd += list(args) + [chart]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    finally:
        if tmp:
            os.unlink(tmp.name)
    if check:
        assert p.returncode == 0, "render failed: %s\n%s" % (" ".join(cmd), p.stderr)
    return p


def render(*args, values=None, chart=CHART):
    return Rendered(run_render(*args, values=values, chart=chart).stdout)


def render_error(*args, values=None):
    p = run_render(*args, values=values, check=False)
    assert p.returncode != 0, "rendering should have failed: %s" % (args,)
    return p.stderr
