"""The Helm-compatible renderer itself (tests/helm/render), on a small chart
made here: the Helm behaviours the chart tests rely on."""
import json
import subprocess

import pytest

from helmlib import Rendered, renderer

CHART_YAML = """apiVersion: v2
name: demo
version: 1.2.3
appVersion: "4.5"
kubeVersion: ">=1.25.0-0"
"""
VALUES = """
greeting: hello
nested: {a: 1, b: {c: two}}
list: [x, y]
big: 1000000
tplValue: "{{ .Release.Name }}-from-tpl"
"""
TEMPLATES = {
    "_helpers.tpl": '{{- define "demo.name" -}}{{ .Chart.Name }}-{{ .Values.greeting }}{{- end }}',
    "cm.yaml": """apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "demo.name" . }}
data:
  release: {{ .Release.Name }}/{{ .Release.Namespace }}/{{ .Release.Service }}/{{ .Release.IsInstall }}
  chart: {{ .Chart.Name }}-{{ .Chart.Version }}-{{ .Chart.AppVersion }}
  kube: "{{ .Capabilities.KubeVersion.Major }}.{{ .Capabilities.KubeVersion.Minor }}"
  hasApps: "{{ .Capabilities.APIVersions.Has "apps/v1" }}"
  hasFoo: "{{ .Capabilities.APIVersions.Has "foo.example/v1" }}"
  file: {{ .Files.Get "files/data.txt" | trim | quote }}
  tpl: {{ tpl .Values.tplValue . | quote }}
  lookup: "{{ len (lookup "v1" "Secret" "ns" "name") }}"
  missing: "{{ .Values.nope }}"
  big: "{{ .Values.big }}"
  json: {{ toJson .Values.nested | quote }}
  fromYaml: {{ (fromYaml "k: v").k | quote }}
  nested: {{- toYaml .Values.nested | nindent 4 }}
  template: {{ .Template.Name }}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: second-doc
""",
    "sa.yaml": "apiVersion: v1\nkind: ServiceAccount\nmetadata:\n  name: sa\n",
    "empty.yaml": "{{- if false }}\nkind: Nothing\n{{- end }}\n",
    "req.yaml": '{{- if .Values.needIt }}# {{ required "needIt.value is required" .Values.needIt.value }}{{ end }}',
    "bad.yaml": "{{- if .Values.bad }}just a string{{ end }}",
    "NOTES.txt": "Notes for {{ .Release.Name }}",
}


@pytest.fixture(scope="module")
def chart(tmp_path_factory):
    d = tmp_path_factory.mktemp("chart") / "demo"
    (d / "templates").mkdir(parents=True)
    (d / "files").mkdir()
    (d / "crds").mkdir()
    (d / "Chart.yaml").write_text(CHART_YAML)
    (d / "values.yaml").write_text(VALUES)
    (d / "files" / "data.txt").write_text("file content\n")
    (d / "crds" / "crd.yaml").write_text("apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n"
                                         "metadata:\n  name: x.example.com\n")
    for name, text in TEMPLATES.items():
        (d / "templates" / name).write_text(text)
    return str(d)


def run(chart, *args):
    return subprocess.run([renderer(), *args, chart], capture_output=True, text=True, timeout=60)


def test_render_context(chart):
    p = run(chart, "--name", "rel", "-n", "ns1", "--kube-version", "v1.29.3")
    assert p.returncode == 0, p.stderr
    r = Rendered(p.stdout)
    # install order: ServiceAccount, ConfigMap, Deployment; the empty file is dropped
    assert [d["kind"] for d in r.docs] == ["ServiceAccount", "ConfigMap", "Deployment"]
    assert r.sources == ["demo/templates/sa.yaml", "demo/templates/cm.yaml", "demo/templates/cm.yaml"]
    data = r.one("ConfigMap")["data"]
    assert r.one("ConfigMap")["metadata"]["name"] == "demo-hello"
    assert data["release"] == "rel/ns1/Helm/true"
    assert data["chart"] == "demo-1.2.3-4.5"
    assert data["kube"] == "1.29"
    assert (data["hasApps"], data["hasFoo"]) == ("true", "false")
    assert data["file"] == "file content"
    assert data["tpl"] == "rel-from-tpl"
    assert data["lookup"] == "0"
    assert data["missing"] == ""  # "<no value>" is removed, as Helm does
    assert data["big"] == "1e+06"  # values numbers are float64, as in Helm
    assert json.loads(data["json"]) == {"a": 1, "b": {"c": "two"}}
    assert data["fromYaml"] == "v"
    assert data["nested"] == {"a": 1, "b": {"c": "two"}}
    assert data["template"] == "demo/templates/cm.yaml"
    assert "NOTES" not in p.stdout and "Notes for" not in p.stdout
    assert "Notes for rel" in run(chart, "--name", "rel", "--notes").stdout


def test_crds_and_kube_version(chart):
    out = run(chart, "--include-crds").stdout
    assert out.startswith("---\n# Source: demo/crds/crd.yaml\n")
    p = run(chart, "--kube-version", "v1.24.0")
    assert p.returncode == 1 and "incompatible with Kubernetes v1.24.0" in p.stderr


def test_values_coalescing_and_set_types(chart):
    def values(*args):
        p = run(chart, "--dump-values", *args)
        assert p.returncode == 0, p.stderr
        return json.loads(p.stdout)
    v = values("--set", "nested.b.d=3,list[1]=z,flag=true,zero=0,lead=007,s=1.5,n=null,big=null")
    assert v["nested"] == {"a": 1, "b": {"c": "two", "d": 3}}
    assert v["list"] == [None, "z"]  # --set on a list index replaces the list, as Helm does
    assert (v["flag"], v["zero"], v["lead"], v["s"]) == (True, 0, "007", "1.5")
    assert "big" not in v  # null deletes a chart default
    assert values("--set-string", "greeting=true")["greeting"] == "true"
    assert values("--set", "list={a,b,c}")["list"] == ["a", "b", "c"]
    assert values("--set", r"a\.b=1")["a.b"] == 1


def test_required_and_fail_messages(chart):
    p = run(chart, "--set", "needIt.other=1")
    assert p.returncode == 1
    assert p.stderr.startswith("Error: execution error at (demo/templates/req.yaml:1:")
    assert p.stderr.rstrip().endswith("needIt.value is required")
    p = run(chart, "--set", "needIt.value=ok")
    assert p.returncode == 0, p.stderr
    # a document that is not a mapping is refused, as Helm refuses it
    p = run(chart, "--set", "bad=true")
    assert p.returncode == 1 and "YAML parse error on demo/templates/bad.yaml" in p.stderr


# ------------------------------------------------------------ Capabilities, .Values methods, Files.Glob

def make_chart(root, templates, files=(), values="a: {b: {c: 1}}\nAsMap: hidden\n"):
    d = root / "caps"
    (d / "templates").mkdir(parents=True)
    (d / "Chart.yaml").write_text("apiVersion: v2\nname: caps\nversion: 0.0.1\n")
    (d / "values.yaml").write_text(values)
    for name in files:
        p = d / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text("content of %s\n" % name)
    for name, text in templates.items():
        (d / "templates" / name).write_text(text)
    return str(d)


def data_of(chart, *args):
    p = run(chart, *args)
    assert p.returncode == 0, p.stderr
    return Rendered(p.stdout).one("ConfigMap")["data"]


def cm(body):
    return {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n" + body}


HAS = ["v1", "apps/v1", "batch/v1", "policy/v1", "rbac.authorization.k8s.io/v1", "coordination.k8s.io/v1",
       "apiextensions.k8s.io/v1", "networking.k8s.io/v1", "autoscaling/v2", "storage.k8s.io/v1",
       "v1/Service", "apps/v1/Deployment", "policy/v1/PodDisruptionBudget",
       "monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor", "foo.example/v1"]


def test_helm_version_is_helms_build_info_struct(tmp_path):
    chart = make_chart(tmp_path, cm(
        '  v: {{ .Capabilities.HelmVersion.Version | quote }}\n'
        '  commit: {{ .Capabilities.HelmVersion.GitCommit | quote }}\n'
        '  tree: {{ .Capabilities.HelmVersion.GitTreeState | quote }}\n'
        '  go: {{ .Capabilities.HelmVersion.GoVersion | quote }}\n'
        '  v3: {{ semverCompare ">=3.14.0" .Capabilities.HelmVersion.Version | quote }}\n'
        '  kube: {{ .Capabilities.KubeVersion.Version | quote }}\n'))
    d = data_of(chart)
    assert d["v"].startswith("v3.") and d["v3"] == "true"
    assert d["tree"] == "clean" and d["go"].startswith("go1.")
    assert d["commit"] == ""
    # a field Helm's BuildInfo does not have is an error, as it is in Helm
    bad = make_chart(tmp_path / "bad", cm('  x: {{ .Capabilities.HelmVersion.version | quote }}\n'))
    p = run(bad)
    assert p.returncode == 1 and "can't evaluate field version" in p.stderr, p.stderr


def test_api_versions_are_helms_default_set_and_api_versions_flag(tmp_path):
    chart = make_chart(tmp_path, cm("".join('  "%s": {{ .Capabilities.APIVersions.Has "%s" | quote }}\n' % (g, g)
                                            for g in HAS)))
    d = data_of(chart)
    for gv in HAS[:10]:
        assert d[gv] == "true", gv
    # `helm template` knows group/versions only (a kind needs a live cluster's discovery), and
    # nothing that is not built in
    for gvk in HAS[10:]:
        assert d[gvk] == "false", gvk
    # the set is compiled into Helm: --kube-version does not change it
    assert data_of(chart, "--kube-version", "v1.27.0") == d
    # -a adds, repeatable and comma-separated (pflag StringSlice), also -a=X
    d = data_of(chart, "-a", "monitoring.coreos.com/v1", "--api-versions",
                "monitoring.coreos.com/v1/ServiceMonitor,apps/v1/Deployment", "-a=foo.example/v1")
    for gvk in ("monitoring.coreos.com/v1", "monitoring.coreos.com/v1/ServiceMonitor", "apps/v1/Deployment",
                "foo.example/v1"):
        assert d[gvk] == "true", gvk
    assert d["v1/Service"] == "false"


def test_values_has_chartutil_values_methods(tmp_path):
    chart = make_chart(tmp_path, cm(
        '  keys: {{ keys .Values.AsMap | sortAlpha | join "," | quote }}\n'
        '  yaml: {{ .Values.YAML | quote }}\n'
        '  table: {{ (.Values.Table "a.b").c | quote }}\n'
        '  path: {{ .Values.PathValue "a.b.c" | quote }}\n'
        '  hidden: {{ kindOf .Values.AsMap | quote }}\n'))
    d = data_of(chart)
    assert d["keys"] == "AsMap,a"  # a key named like a method is hidden by it, as in Helm
    assert d["yaml"] == "AsMap: hidden\na:\n  b:\n    c: 1\n"
    assert d["table"] == "1" and d["path"] == "1"
    assert d["hidden"] == "map"
    bad = make_chart(tmp_path / "bad", cm('  x: {{ .Values.Table "a.nope" | quote }}\n'))
    p = run(bad)
    assert p.returncode == 1 and '"nope" is not a table' in p.stderr.replace('\\"', '"'), p.stderr
    # only the top level has the methods: nested tables are plain maps (a missing key: empty)
    nested = make_chart(tmp_path / "nested", cm('  x: {{ .Values.a.AsMap | quote }}\n'))
    assert data_of(nested)["x"] is None


GLOB_FILES = ["files/a.txt", "files/b.conf", "files/sub/c.txt", "files/sub/deep/d.txt", "files/{x}.txt",
              "other/e.txt"]


@pytest.mark.parametrize("pattern,expected", [
    ("files/*", ["files/a.txt", "files/b.conf", "files/{x}.txt"]),
    ("files/*.txt", ["files/a.txt", "files/{x}.txt"]),
    ("files/**", ["files/a.txt", "files/b.conf", "files/sub/c.txt", "files/sub/deep/d.txt", "files/{x}.txt"]),
    ("files/**.txt", ["files/a.txt", "files/sub/c.txt", "files/sub/deep/d.txt", "files/{x}.txt"]),
    ("files/**/*.txt", ["files/sub/c.txt", "files/sub/deep/d.txt"]),
    ("**/c.txt", ["files/sub/c.txt"]),
    ("{files,other}/?.txt", ["files/a.txt", "other/e.txt"]),
    ("files/{a.txt,sub/{c,d}.txt}", ["files/a.txt", "files/sub/c.txt"]),
    ("files/[ab].*", ["files/a.txt", "files/b.conf"]),
    ("files/[!a]*", ["files/b.conf", "files/{x}.txt"]),
    ("files/[a-b].txt", ["files/a.txt"]),
    ("files/\\{x\\}.txt", ["files/{x}.txt"]),
    # a pattern that does not compile matches everything (Helm falls back to "**")
    ("files/[", GLOB_FILES),
    ("files/{a", GLOB_FILES),
])
def test_files_glob_is_gobwas_glob(tmp_path, pattern, expected):
    tpl = '{{- range $k, $_ := .Files.Glob %s }}\n  %s: "1"\n{{- end }}\n' % (
        '"%s"' % pattern.replace("\\", "\\\\"), "{{ $k | quote }}")
    chart = make_chart(tmp_path, cm("  none: x\n" + tpl), files=GLOB_FILES)
    d = data_of(chart)
    assert sorted(k for k in d if k != "none") == sorted(expected)


def test_files_glob_as_config(tmp_path):
    chart = make_chart(tmp_path, {"cm.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\ndata:\n"
                                             '  {{- (.Files.Glob "files/**.conf").AsConfig | nindent 2 }}\n'},
                       files=GLOB_FILES)
    assert data_of(chart) == {"b.conf": "content of files/b.conf\n"}
