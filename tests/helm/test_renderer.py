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
