// Command render renders a Helm chart the way `helm template` does, for the
// chart tests (Helm itself cannot be installed on the build machines).
//
//	render [flags] [RELEASE] CHART_DIR_OR_TGZ
//	  -f, --values FILE       values file, repeatable, later files win
//	  --set a.b=c,x[0]=y      override, repeatable (Helm's strvals syntax)
//	  --set-string a.b=c      the same, values always strings
//	  -n, --namespace NS      release namespace (default "default")
//	  --name NAME             release name (default "release-name")
//	  --include-crds          print crds/ first, like `helm template --include-crds`
//	  --kube-version V        .Capabilities.KubeVersion (default v1.32.0)
//	  -a, --api-versions GV   extra .Capabilities.APIVersions, repeatable
//	  --is-upgrade            .Release.IsUpgrade=true (IsInstall=false)
//	  --notes                 also print the rendered NOTES.txt after "NOTES:"
//	  --dump-values           print the final .Values as JSON instead
//
// What it reproduces from Helm 3 (`helm template`, client-only): chart
// loading with .helmignore (also from a packaged .tgz), values parsed like
// sigs.k8s.io/yaml (numbers float64), -f merging, --set typing
// (int64/bool/null), coalescing with the chart's values.yaml (maps merged,
// null deletes a key), values.schema.json validation (gojsonschema, draft
// 7), the kubeVersion constraint, the template engine (text/template,
// missingkey=zero and "<no value>" removed, sprig without env/expandenv,
// include/tpl/required/fail/lookup/toYaml/fromYaml/toJson/fromJson and the
// Array variants), the render context (.Values .Release .Chart
// .Capabilities .Template .Files), .Values as chartutil.Values (AsMap,
// YAML, Table, PathValue, Encode at the top level), .Files (Get, GetBytes,
// Lines, AsConfig, AsSecrets, and Glob with gobwas/glob's syntax: "**"
// crosses "/", {a,b}, [!x]; a bad pattern matches everything),
// .Capabilities.HelmVersion as Helm's BuildInfo struct (Version, GitCommit,
// GitTreeState, GoVersion), .Capabilities.APIVersions as Helm's
// DefaultVersionSet (group/versions only, independent of --kube-version)
// plus -a/--api-versions (repeatable, comma-separated), the manifest split
// on "---", the install-order sort by kind, the "# Source:" headers and the
// "execution error at (file:line:col): msg" error form.
// Not reproduced: subcharts/dependencies, hooks handling, toToml, lookup
// against a cluster (it returns an empty map, as helm template does),
// --validate (a live cluster's discovery, which is what would add kinds such
// as "apps/v1/Deployment" to APIVersions), the exact version set of every
// Helm release (the set below is one release's: older Helm releases lack the
// newest alpha/beta group/versions), GitCommit (empty).
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/semver"
	"github.com/Masterminds/sprig"
	"github.com/ghodss/yaml"
	"github.com/xeipuuv/gojsonschema"
)

// ---------------------------------------------------------------- chart

// Metadata is Chart.yaml as Helm exposes it to templates (.Chart).
type Metadata struct {
	Name         string            `json:"name,omitempty"`
	Home         string            `json:"home,omitempty"`
	Sources      []string          `json:"sources,omitempty"`
	Version      string            `json:"version,omitempty"`
	Description  string            `json:"description,omitempty"`
	Keywords     []string          `json:"keywords,omitempty"`
	Maintainers  []*Maintainer     `json:"maintainers,omitempty"`
	Icon         string            `json:"icon,omitempty"`
	APIVersion   string            `json:"apiVersion,omitempty"`
	Condition    string            `json:"condition,omitempty"`
	Tags         string            `json:"tags,omitempty"`
	AppVersion   string            `json:"appVersion,omitempty"`
	Deprecated   bool              `json:"deprecated,omitempty"`
	Annotations  map[string]string `json:"annotations,omitempty"`
	KubeVersion  string            `json:"kubeVersion,omitempty"`
	Dependencies []interface{}     `json:"dependencies,omitempty"`
	Type         string            `json:"type,omitempty"`
}

// Maintainer is one Chart.yaml maintainer.
type Maintainer struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	URL   string `json:"url,omitempty"`
}

type chartFile struct {
	name string // path inside the chart, "/"-separated
	data []byte
}

type chart struct {
	meta      Metadata
	values    map[string]interface{}
	schema    []byte
	templates []chartFile // templates/...
	files     []chartFile // everything else (crds/, README, .helmignore, ...)
}

// ignore rule of .helmignore, as Helm's pkg/ignore parses it
type ignoreRule struct {
	pattern string
	negate  bool
	mustDir bool
}

func parseHelmignore(data []byte) []ignoreRule {
	// Helm's defaults: hidden files under templates/ are never templates.
	rules := []ignoreRule{{pattern: "templates/.?*"}}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		r := ignoreRule{}
		if strings.HasPrefix(line, "!") {
			r.negate = true
			line = line[1:]
		}
		if strings.HasSuffix(line, "/") {
			r.mustDir = true
			line = strings.TrimSuffix(line, "/")
		}
		r.pattern = line
		rules = append(rules, r)
	}
	return rules
}

func ignored(rules []ignoreRule, p string, isDir bool) bool {
	if p == "." || p == "./" {
		return false
	}
	matched := false
	for _, r := range rules {
		if r.mustDir && !isDir {
			continue
		}
		var ok bool
		switch {
		case strings.HasPrefix(r.pattern, "/"):
			ok, _ = filepath.Match(strings.TrimPrefix(r.pattern, "/"), p)
		case strings.Contains(r.pattern, "/"):
			ok, _ = filepath.Match(r.pattern, p)
		default:
			ok, _ = filepath.Match(r.pattern, path.Base(p))
		}
		if ok {
			matched = !r.negate
		}
	}
	return matched
}

// readChartFiles - every file of a chart directory, .helmignore honoured
func readChartFiles(dir string) ([]chartFile, error) {
	var rules []ignoreRule
	if data, err := os.ReadFile(filepath.Join(dir, ".helmignore")); err == nil {
		rules = parseHelmignore(data)
	} else {
		rules = parseHelmignore(nil)
	}
	var out []chartFile
	err := filepath.Walk(dir, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if rel == "." {
			return nil
		}
		if ignored(rules, rel, fi.IsDir()) {
			if fi.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if fi.IsDir() {
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		out = append(out, chartFile{rel, data})
		return nil
	})
	return out, err
}

// readChartArchive - the files of a packaged chart (one top folder)
func readChartArchive(file string) ([]chartFile, error) {
	f, err := os.Open(file)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	tr := tar.NewReader(zr)
	var out []chartFile
	top := ""
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, err
		}
		if h.Typeflag != tar.TypeReg && h.Typeflag != tar.TypeRegA {
			continue
		}
		name := path.Clean(h.Name)
		if path.IsAbs(name) || strings.HasPrefix(name, "..") {
			return nil, fmt.Errorf("chart archive: illegal path %q", h.Name)
		}
		parts := strings.SplitN(name, "/", 2)
		if len(parts) != 2 {
			return nil, fmt.Errorf("chart archive: %q is not inside the chart's folder", h.Name)
		}
		if top == "" {
			top = parts[0]
		} else if parts[0] != top {
			return nil, fmt.Errorf("chart archive: two top folders %q and %q", top, parts[0])
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, err
		}
		out = append(out, chartFile{parts[1], data})
	}
	return out, nil
}

func loadChart(src string) (*chart, error) {
	var files []chartFile
	var err error
	if fi, e := os.Stat(src); e == nil && fi.IsDir() {
		files, err = readChartFiles(src)
	} else {
		files, err = readChartArchive(src)
	}
	if err != nil {
		return nil, err
	}
	c := &chart{values: map[string]interface{}{}}
	haveChartYaml := false
	for _, f := range files {
		switch {
		case f.name == "Chart.yaml":
			haveChartYaml = true
			if err := yaml.Unmarshal(f.data, &c.meta); err != nil {
				return nil, fmt.Errorf("cannot load Chart.yaml: %v", err)
			}
		case f.name == "values.yaml":
			if err := yaml.Unmarshal(f.data, &c.values); err != nil {
				return nil, fmt.Errorf("cannot load values.yaml: %v", err)
			}
			if c.values == nil {
				c.values = map[string]interface{}{}
			}
		case f.name == "values.schema.json":
			c.schema = f.data
		case strings.HasPrefix(f.name, "templates/"):
			c.templates = append(c.templates, f)
		case strings.HasPrefix(f.name, "charts/"):
			return nil, fmt.Errorf("subcharts are not supported by this renderer (%s)", f.name)
		default:
			c.files = append(c.files, f)
		}
	}
	if !haveChartYaml {
		return nil, errors.New("Chart.yaml file is missing")
	}
	if c.meta.APIVersion == "" {
		return nil, errors.New("validation: chart.metadata.apiVersion is required")
	}
	if c.meta.Name == "" {
		return nil, errors.New("validation: chart.metadata.name is required")
	}
	if _, err := semver.NewVersion(c.meta.Version); err != nil {
		return nil, fmt.Errorf("validation: chart.metadata.version %q is invalid", c.meta.Version)
	}
	if c.meta.Type != "" && c.meta.Type != "application" && c.meta.Type != "library" {
		return nil, errors.New("validation: chart.metadata.type must be application or library")
	}
	return c, nil
}

// ---------------------------------------------------------------- values

// readValues - YAML to a map the way Helm reads values (sigs.k8s.io/yaml:
// YAML -> JSON -> encoding/json, so numbers are float64)
func readValues(data []byte) (map[string]interface{}, error) {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m == nil {
		m = map[string]interface{}{}
	}
	return m, nil
}

// mergeMaps - Helm's merge of -f files: b over a, maps recursively
func mergeMaps(a, b map[string]interface{}) map[string]interface{} {
	out := make(map[string]interface{}, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]interface{}); ok {
			if bv, ok := out[k]; ok {
				if bvm, ok := bv.(map[string]interface{}); ok {
					out[k] = mergeMaps(bvm, vm)
					continue
				}
			}
		}
		out[k] = v
	}
	return out
}

func istable(v interface{}) bool {
	_, ok := v.(map[string]interface{})
	return ok
}

// coalesceTables - chart defaults src into user values dst (Helm 3's
// coalesceTables): a key missing in dst is taken from src, a key set to
// null in dst is deleted, maps are merged recursively, otherwise dst wins.
func coalesceTables(dst, src map[string]interface{}, prefix string) {
	for key, val := range src {
		dv, ok := dst[key]
		switch {
		case ok && dv == nil:
			delete(dst, key)
		case !ok:
			dst[key] = deepCopy(val)
		case istable(val):
			if istable(dv) {
				coalesceTables(dv.(map[string]interface{}), val.(map[string]interface{}), prefix+key+".")
			} else {
				fmt.Fprintf(os.Stderr, "warning: cannot overwrite table with non table for %s%s (%v)\n", prefix, key, val)
			}
		case istable(dv) && val != nil:
			fmt.Fprintf(os.Stderr, "warning: destination for %s%s is a table. Ignoring non-table value (%v)\n", prefix, key, val)
		}
	}
}

func deepCopy(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		m := make(map[string]interface{}, len(t))
		for k, x := range t {
			m[k] = deepCopy(x)
		}
		return m
	case []interface{}:
		l := make([]interface{}, len(t))
		for i, x := range t {
			l[i] = deepCopy(x)
		}
		return l
	}
	return v
}

// --set parsing, after Helm's pkg/strvals: comma-separated name=value
// pairs; names are dotted paths with optional [index]; a value {a,b} is a
// list; backslash escapes , . = [ ] { }. Typed unless --set-string: true,
// false, null, integers without a leading zero (int64); everything else is
// a string.
func typedVal(s string, str bool) interface{} {
	if str {
		return s
	}
	switch {
	case strings.EqualFold(s, "true"):
		return true
	case strings.EqualFold(s, "false"):
		return false
	case strings.EqualFold(s, "null"):
		return nil
	case s == "0":
		return int64(0)
	}
	if len(s) > 0 && s[0] != '0' {
		if iv, err := strconv.ParseInt(s, 10, 64); err == nil {
			return iv
		}
	}
	return s
}

// splitUnescaped - split on sep outside {...}, honouring backslash escapes
// (escapes are kept for the next stage)
func splitUnescaped(s string, sep rune) []string {
	var out []string
	var cur strings.Builder
	depth := 0
	esc := false
	for _, r := range s {
		switch {
		case esc:
			cur.WriteRune('\\')
			cur.WriteRune(r)
			esc = false
		case r == '\\':
			esc = true
		case r == '{':
			depth++
			cur.WriteRune(r)
		case r == '}':
			if depth > 0 {
				depth--
			}
			cur.WriteRune(r)
		case r == sep && depth == 0:
			out = append(out, cur.String())
			cur.Reset()
		default:
			cur.WriteRune(r)
		}
	}
	if esc {
		cur.WriteRune('\\')
	}
	out = append(out, cur.String())
	return out
}

func unescape(s string) string {
	var b strings.Builder
	esc := false
	for _, r := range s {
		if esc {
			b.WriteRune(r)
			esc = false
		} else if r == '\\' {
			esc = true
		} else {
			b.WriteRune(r)
		}
	}
	return b.String()
}

type pathElem struct {
	key   string
	index int // -1: a map key
}

var indexRe = regexp.MustCompile(`^(.*?)\[(\d+)\]$`)

func parsePath(name string) ([]pathElem, error) {
	var out []pathElem
	for _, part := range splitUnescaped(name, '.') {
		var idx []int
		for {
			m := indexRe.FindStringSubmatch(part)
			if m == nil {
				break
			}
			i, _ := strconv.Atoi(m[2])
			idx = append([]int{i}, idx...)
			part = m[1]
		}
		if part == "" && len(out) == 0 && len(idx) == 0 {
			return nil, fmt.Errorf("key %q has no name", name)
		}
		if part != "" {
			out = append(out, pathElem{key: unescape(part), index: -1})
		}
		for _, i := range idx {
			out = append(out, pathElem{index: i})
		}
	}
	return out, nil
}

func setPath(container interface{}, elems []pathElem, val interface{}) (interface{}, error) {
	e := elems[0]
	last := len(elems) == 1
	if e.index < 0 {
		m, ok := container.(map[string]interface{})
		if !ok || m == nil {
			m = map[string]interface{}{}
		}
		if last {
			m[e.key] = val
			return m, nil
		}
		child, err := setPath(m[e.key], elems[1:], val)
		if err != nil {
			return nil, err
		}
		m[e.key] = child
		return m, nil
	}
	l, _ := container.([]interface{})
	if e.index > 65536 {
		return nil, fmt.Errorf("index of %d is greater than maximum supported index of 65536", e.index)
	}
	for len(l) <= e.index {
		l = append(l, nil)
	}
	if last {
		l[e.index] = val
		return l, nil
	}
	child, err := setPath(l[e.index], elems[1:], val)
	if err != nil {
		return nil, err
	}
	l[e.index] = child
	return l, nil
}

func parseSet(s string, into map[string]interface{}, str bool) error {
	for _, pair := range splitUnescaped(s, ',') {
		if pair == "" {
			continue
		}
		kv := splitUnescaped(pair, '=')
		if len(kv) < 2 {
			return fmt.Errorf("failed parsing --set data: key %q has no value", unescape(pair))
		}
		key, raw := kv[0], strings.Join(kv[1:], "=")
		var val interface{}
		if strings.HasPrefix(raw, "{") && strings.HasSuffix(raw, "}") {
			items := []interface{}{}
			inner := raw[1 : len(raw)-1]
			if inner != "" {
				for _, it := range splitUnescaped(inner, ',') {
					items = append(items, typedVal(unescape(it), str))
				}
			}
			val = items
		} else {
			val = typedVal(unescape(raw), str)
		}
		elems, err := parsePath(key)
		if err != nil {
			return err
		}
		if _, err := setPath(into, elems, val); err != nil {
			return err
		}
	}
	return nil
}

// validateSchema - values.schema.json with gojsonschema, as Helm 3 does
func validateSchema(c *chart, vals map[string]interface{}) error {
	if c.schema == nil {
		return nil
	}
	y, err := yaml.Marshal(vals)
	if err != nil {
		return err
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		return err
	}
	res, err := gojsonschema.Validate(gojsonschema.NewBytesLoader(c.schema), gojsonschema.NewBytesLoader(j))
	if err != nil {
		return fmt.Errorf("values.schema.json: %v", err)
	}
	if res.Valid() {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "values don't meet the specifications of the schema(s) in the following chart(s):\n%s:\n", c.meta.Name)
	for _, e := range res.Errors() {
		fmt.Fprintf(&b, "- %s\n", e)
	}
	return errors.New(strings.TrimSuffix(b.String(), "\n"))
}

// ---------------------------------------------------------------- render context

// Files is .Files: the chart's non-template files.
type Files map[string][]byte

// Get - a file's content as a string ("" when missing)
func (f Files) Get(name string) string { return string(f[name]) }

// GetBytes - a file's content
func (f Files) GetBytes(name string) []byte { return f[name] }

// Lines - a file's lines
func (f Files) Lines(name string) []string {
	if f[name] == nil {
		return []string{}
	}
	return strings.Split(strings.TrimSuffix(string(f[name]), "\n"), "\n")
}

// Glob - the files matching a pattern, with the syntax of Helm's
// github.com/gobwas/glob compiled with '/' as the separator: "*" and "?"
// stay within one path segment, "**" crosses segments, [abc] [a-z] [!abc]
// classes, {a,b} alternatives (nested), "\\" escapes. A pattern that does
// not compile matches every file, as Helm falls back to "**".
func (f Files) Glob(pattern string) Files {
	re, err := compileGlob(pattern)
	if err != nil {
		re, _ = compileGlob("**")
	}
	out := Files{}
	for k, v := range f {
		if re.MatchString(k) {
			out[k] = v
		}
	}
	return out
}

// compileGlob - a gobwas/glob pattern (separator '/') as a regexp
func compileGlob(pattern string) (*regexp.Regexp, error) {
	p := []rune(pattern)
	var b strings.Builder
	b.WriteString(`\A(?:`)
	depth := 0
	for i := 0; i < len(p); i++ {
		switch c := p[i]; c {
		case '\\':
			if i+1 >= len(p) {
				return nil, errors.New("glob: unexpected end of pattern after \\")
			}
			i++
			b.WriteString(regexp.QuoteMeta(string(p[i])))
		case '*':
			if i+1 < len(p) && p[i+1] == '*' {
				for i+1 < len(p) && p[i+1] == '*' {
					i++
				}
				b.WriteString(`.*`)
			} else {
				b.WriteString(`[^/]*`)
			}
		case '?':
			b.WriteString(`[^/]`)
		case '[':
			j := i + 1
			neg := j < len(p) && p[j] == '!'
			if neg {
				j++
			}
			k := j
			for k < len(p) && p[k] != ']' {
				k++
			}
			if k >= len(p) || k == j {
				return nil, errors.New("glob: unterminated or empty character class")
			}
			b.WriteString("[")
			if neg {
				b.WriteString("^")
			}
			for _, r := range p[j:k] {
				if r == '-' && k-j == 3 && p[j+1] == '-' {
					b.WriteRune('-') // the range of [a-z]
					continue
				}
				if strings.ContainsRune(`\[]^-`, r) {
					b.WriteRune('\\')
				}
				b.WriteRune(r)
			}
			b.WriteString("]")
			i = k
		case '{':
			depth++
			b.WriteString("(?:")
		case '}':
			if depth == 0 {
				b.WriteString(regexp.QuoteMeta("}"))
				continue
			}
			depth--
			b.WriteString(")")
		case ',':
			if depth > 0 {
				b.WriteString("|")
			} else {
				b.WriteString(",")
			}
		default:
			b.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	if depth != 0 {
		return nil, errors.New("glob: unterminated {")
	}
	b.WriteString(`)\z`)
	return regexp.Compile(b.String())
}

// AsConfig - the files as ConfigMap data (YAML, base names as keys)
func (f Files) AsConfig() string {
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = string(v)
	}
	return toYAML(m)
}

// AsSecrets - the files as Secret data (base64)
func (f Files) AsSecrets() string {
	m := map[string]string{}
	for k, v := range f {
		m[path.Base(k)] = sprig.TxtFuncMap()["b64enc"].(func(string) string)(string(v))
	}
	return toYAML(m)
}

// KubeVersion is .Capabilities.KubeVersion.
type KubeVersion struct {
	Version    string
	Major      string
	Minor      string
	GitVersion string
}

func (k KubeVersion) String() string { return k.Version }

// VersionSet is .Capabilities.APIVersions.
type VersionSet []string

// Has - whether the group/version (or group/version/Kind) is available
func (v VersionSet) Has(s string) bool {
	for _, x := range v {
		if x == s {
			return true
		}
	}
	return false
}

// BuildInfo is .Capabilities.HelmVersion, Helm's internal/version.BuildInfo.
type BuildInfo struct {
	Version      string `json:"version,omitempty"`
	GitCommit    string `json:"git_commit,omitempty"`
	GitTreeState string `json:"git_tree_state,omitempty"`
	GoVersion    string `json:"go_version,omitempty"`
}

// helmVersion - the Helm release whose `helm template` this renderer stands
// in for (its version set is defaultAPIVersions below)
var helmVersion = BuildInfo{Version: "v3.21.0", GitTreeState: "clean", GoVersion: runtime.Version()}

// Capabilities is .Capabilities.
type Capabilities struct {
	KubeVersion KubeVersion
	APIVersions VersionSet
	HelmVersion BuildInfo
}

// defaultAPIVersions - Helm's DefaultVersionSet, what `helm template`
// (client-only: no cluster is asked) puts in .Capabilities.APIVersions: the
// group/versions of client-go's scheme plus apiextensions v1beta1/v1, as
// Helm's own snapshot of it lists them (pkg/chart/common, client-go v0.36
// era). Only group/versions: kinds ("apps/v1/Deployment") appear in Helm's
// set only when it asks a live cluster's discovery (helm install/upgrade,
// template --validate), so `helm template` answers Has "apps/v1/Deployment"
// with false, as this renderer does. Helm's set is compiled in: it does not
// change with --kube-version. --api-versions adds to it.
var defaultAPIVersions = []string{
	"v1",
	"admissionregistration.k8s.io/v1",
	"admissionregistration.k8s.io/v1alpha1",
	"admissionregistration.k8s.io/v1beta1",
	"internal.apiserver.k8s.io/v1alpha1",
	"apps/v1",
	"apps/v1beta1",
	"apps/v1beta2",
	"authentication.k8s.io/v1",
	"authentication.k8s.io/v1alpha1",
	"authentication.k8s.io/v1beta1",
	"authorization.k8s.io/v1",
	"authorization.k8s.io/v1beta1",
	"autoscaling/v1",
	"autoscaling/v2",
	"batch/v1",
	"batch/v1beta1",
	"certificates.k8s.io/v1",
	"certificates.k8s.io/v1beta1",
	"certificates.k8s.io/v1alpha1",
	"coordination.k8s.io/v1alpha2",
	"coordination.k8s.io/v1beta1",
	"coordination.k8s.io/v1",
	"discovery.k8s.io/v1",
	"discovery.k8s.io/v1beta1",
	"events.k8s.io/v1",
	"events.k8s.io/v1beta1",
	"extensions/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1",
	"flowcontrol.apiserver.k8s.io/v1beta1",
	"flowcontrol.apiserver.k8s.io/v1beta2",
	"flowcontrol.apiserver.k8s.io/v1beta3",
	"networking.k8s.io/v1",
	"networking.k8s.io/v1beta1",
	"node.k8s.io/v1",
	"node.k8s.io/v1alpha1",
	"node.k8s.io/v1beta1",
	"policy/v1",
	"policy/v1beta1",
	"rbac.authorization.k8s.io/v1",
	"rbac.authorization.k8s.io/v1beta1",
	"rbac.authorization.k8s.io/v1alpha1",
	"resource.k8s.io/v1",
	"resource.k8s.io/v1beta2",
	"resource.k8s.io/v1beta1",
	"resource.k8s.io/v1alpha3",
	"scheduling.k8s.io/v1alpha2",
	"scheduling.k8s.io/v1beta1",
	"scheduling.k8s.io/v1",
	"storage.k8s.io/v1beta1",
	"storage.k8s.io/v1",
	"storage.k8s.io/v1alpha1",
	"storagemigration.k8s.io/v1beta1",
	"apiextensions.k8s.io/v1beta1",
	"apiextensions.k8s.io/v1",
}

// Values is .Values, Helm's chartutil.Values: a map whose methods a
// template can call (.Values.AsMap, .Values.YAML, (.Values.Table "a.b"),
// (.Values.PathValue "a.b")). As in Helm, only the top level has them
// (nested tables are plain maps), and a key named like a method is hidden
// by it.
type Values map[string]interface{}

// YAML - the values as YAML (sigs.k8s.io/yaml)
func (v Values) YAML() (string, error) {
	b, err := yaml.Marshal(v)
	return string(b), err
}

// AsMap - the values as a plain map
func (v Values) AsMap() map[string]interface{} {
	if len(v) == 0 {
		return map[string]interface{}{}
	}
	return v
}

// Encode - the values as YAML to w
func (v Values) Encode(w io.Writer) error {
	out, err := yaml.Marshal(v)
	if err == nil {
		_, err = w.Write(out)
	}
	return err
}

// Table - the table at a dotted path
func (v Values) Table(name string) (Values, error) {
	table := v
	for _, n := range strings.Split(name, ".") {
		next, ok := table[n]
		if !ok {
			return table, fmt.Errorf("%q is not a table", n)
		}
		m, ok := next.(map[string]interface{})
		if !ok {
			if vv, ok := next.(Values); ok {
				m = vv
			} else {
				return Values{}, fmt.Errorf("%q is not a table", n)
			}
		}
		table = m
	}
	return table, nil
}

// PathValue - the value (not a table) at a dotted path
func (v Values) PathValue(p string) (interface{}, error) {
	if p == "" {
		return nil, errors.New("YAML path cannot be empty")
	}
	parts := strings.Split(p, ".")
	key := parts[len(parts)-1]
	t := v
	if len(parts) > 1 {
		var err error
		if t, err = v.Table(strings.Join(parts[:len(parts)-1], ".")); err != nil {
			return nil, fmt.Errorf("%q is not a value", key)
		}
	}
	if x, ok := t[key]; ok && !istable(x) {
		return x, nil
	}
	return nil, fmt.Errorf("%q is not a value", key)
}

// ---------------------------------------------------------------- functions

func toYAML(v interface{}) string {
	data, err := yaml.Marshal(v)
	if err != nil {
		return ""
	}
	return strings.TrimSuffix(string(data), "\n")
}

func fromYAML(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := yaml.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromYAMLArray(s string) []interface{} {
	a := []interface{}{}
	if err := yaml.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func toJSON(v interface{}) string {
	data, err := json.Marshal(v)
	if err != nil {
		return ""
	}
	return string(data)
}

func fromJSON(s string) map[string]interface{} {
	m := map[string]interface{}{}
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		m["Error"] = err.Error()
	}
	return m
}

func fromJSONArray(s string) []interface{} {
	a := []interface{}{}
	if err := json.Unmarshal([]byte(s), &a); err != nil {
		a = []interface{}{err.Error()}
	}
	return a
}

func funcMap() template.FuncMap {
	f := sprig.TxtFuncMap()
	delete(f, "env")
	delete(f, "expandenv")
	extra := template.FuncMap{
		"toToml": func(interface{}) (string, error) {
			return "", errors.New("toToml is not supported by this renderer")
		},
		"toYaml":        toYAML,
		"fromYaml":      fromYAML,
		"fromYamlArray": fromYAMLArray,
		"toJson":        toJSON,
		"fromJson":      fromJSON,
		"fromJsonArray": fromJSONArray,
		"required": func(warn string, val interface{}) (interface{}, error) {
			if val == nil {
				return val, errors.New(warn)
			} else if s, ok := val.(string); ok && s == "" {
				return val, errors.New(warn)
			}
			return val, nil
		},
		// helm template has no cluster: lookup finds nothing
		"lookup": func(string, string, string, string) (map[string]interface{}, error) {
			return map[string]interface{}{}, nil
		},
		"include": func(string, interface{}) (string, error) { return "", errors.New("not bound") },
		"tpl":     func(string, interface{}) (string, error) { return "", errors.New("not bound") },
	}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// bindEngineFuncs - include and tpl need the template set they run in
func bindEngineFuncs(t *template.Template) {
	included := map[string]int{}
	t.Funcs(template.FuncMap{
		"include": func(name string, data interface{}) (string, error) {
			if included[name] > 1000 {
				return "", fmt.Errorf("rendering template has a nested reference name: %s: unable to execute template", name)
			}
			included[name]++
			defer func() { included[name]-- }()
			var buf strings.Builder
			err := t.ExecuteTemplate(&buf, name, data)
			return buf.String(), err
		},
		"tpl": func(text string, vals interface{}) (string, error) {
			clone, err := t.Clone()
			if err != nil {
				return "", err
			}
			bindEngineFuncs(clone)
			name := "tpl"
			if m, ok := vals.(map[string]interface{}); ok {
				if tm, ok := m["Template"].(map[string]interface{}); ok {
					if n, ok := tm["Name"].(string); ok {
						name = n
					}
				}
			}
			nt, err := clone.New(name).Parse(text)
			if err != nil {
				return "", fmt.Errorf("cannot parse template %q: %v", text, err)
			}
			var buf strings.Builder
			if err := nt.Execute(&buf, vals); err != nil {
				return "", fmt.Errorf("error during tpl function execution for %q: %v", text, err)
			}
			return strings.ReplaceAll(buf.String(), "<no value>", ""), nil
		},
	})
}

// cleanupExecError - Helm's "execution error at (file:line:col): msg" form
// for fail/required, the raw text for everything else
var execLocRe = regexp.MustCompile(`template: (\S+?:\d+:\d+): executing`)

func cleanupExecError(err error) error {
	s := err.Error()
	for _, fn := range []string{"error calling fail: ", "error calling required: "} {
		if i := strings.LastIndex(s, fn); i >= 0 {
			loc := ""
			if m := execLocRe.FindAllStringSubmatch(s, -1); m != nil {
				loc = m[len(m)-1][1]
			}
			return fmt.Errorf("execution error at (%s): %s", loc, s[i+len(fn):])
		}
	}
	return err
}

// ---------------------------------------------------------------- manifests

// Helm's releaseutil.InstallOrder
var installOrder = []string{
	"PriorityClass", "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange",
	"PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount", "Secret",
	"SecretList", "ConfigMap", "StorageClass", "PersistentVolume",
	"PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
	"ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role",
	"RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet", "Pod",
	"ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler",
	"StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService",
	"MutatingWebhookConfiguration", "ValidatingWebhookConfiguration",
}

var sepRe = regexp.MustCompile(`(?:^|\s*\n)---\s*`)

type manifest struct {
	source  string
	content string
	kind    string
}

func kindRank(k string) int {
	for i, x := range installOrder {
		if x == k {
			return i
		}
	}
	return len(installOrder)
}

// ---------------------------------------------------------------- main

type options struct {
	release, namespace, chartPath, kubeVersion string
	valueFiles, sets, setStrings, apiVersions  []string
	includeCRDs, notes, dumpValues, isUpgrade  bool
}

func parseArgs(args []string) (*options, error) {
	o := &options{release: "release-name", namespace: "default", kubeVersion: "v1.32.0"}
	var pos []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, val, hasVal := a, "", false
		if strings.HasPrefix(a, "--") {
			if j := strings.Index(a, "="); j > 0 {
				name, val, hasVal = a[:j], a[j+1:], true
			}
		} else if len(a) > 2 && a[0] == '-' && strings.ContainsRune("fna", rune(a[1])) {
			// shorthand with its value attached: -fFILE, -f=FILE (pflag)
			name, val, hasVal = a[:2], strings.TrimPrefix(a[2:], "="), true
		}
		next := func() (string, error) {
			if hasVal {
				return val, nil
			}
			if i+1 >= len(args) {
				return "", fmt.Errorf("flag needs an argument: %s", name)
			}
			i++
			return args[i], nil
		}
		var err error
		switch name {
		case "-f", "--values":
			var v string
			v, err = next()
			o.valueFiles = append(o.valueFiles, v)
		case "--set":
			var v string
			v, err = next()
			o.sets = append(o.sets, v)
		case "--set-string":
			var v string
			v, err = next()
			o.setStrings = append(o.setStrings, v)
		case "-n", "--namespace":
			o.namespace, err = next()
		case "--name":
			o.release, err = next()
		case "--kube-version":
			o.kubeVersion, err = next()
		case "-a", "--api-versions":
			// pflag StringSlice: repeatable, each value comma-separated (CSV)
			var v string
			v, err = next()
			if err == nil {
				var vs []string
				vs, err = csv.NewReader(strings.NewReader(v)).Read()
				o.apiVersions = append(o.apiVersions, vs...)
			}
		case "--include-crds":
			o.includeCRDs = true
		case "--notes":
			o.notes = true
		case "--dump-values":
			o.dumpValues = true
		case "--is-upgrade":
			o.isUpgrade = true
		default:
			if strings.HasPrefix(a, "-") {
				return nil, fmt.Errorf("unknown flag: %s", a)
			}
			pos = append(pos, a)
		}
		if err != nil {
			return nil, err
		}
	}
	switch len(pos) {
	case 1:
		o.chartPath = pos[0]
	case 2:
		o.release, o.chartPath = pos[0], pos[1]
	default:
		return nil, errors.New("usage: render [flags] [RELEASE] CHART")
	}
	return o, nil
}

func run(o *options, stdout io.Writer) error {
	c, err := loadChart(o.chartPath)
	if err != nil {
		return err
	}

	// capabilities and the chart's kubeVersion constraint
	kv, err := semver.NewVersion(o.kubeVersion)
	if err != nil {
		return fmt.Errorf("invalid kube version %q: %v", o.kubeVersion, err)
	}
	caps := Capabilities{
		KubeVersion: KubeVersion{
			Version:    "v" + kv.String(),
			Major:      strconv.FormatUint(kv.Major(), 10),
			Minor:      strconv.FormatUint(kv.Minor(), 10),
			GitVersion: "v" + kv.String(),
		},
		APIVersions: append(VersionSet{}, defaultAPIVersions...),
		HelmVersion: helmVersion,
	}
	caps.APIVersions = append(caps.APIVersions, o.apiVersions...)
	if c.meta.KubeVersion != "" {
		cons, err := semver.NewConstraint(c.meta.KubeVersion)
		if err != nil {
			return fmt.Errorf("chart kubeVersion %q is invalid: %v", c.meta.KubeVersion, err)
		}
		if !cons.Check(kv) {
			return fmt.Errorf("chart requires kubeVersion: %s which is incompatible with Kubernetes %s", c.meta.KubeVersion, caps.KubeVersion.Version)
		}
	}

	// values: -f files merged in order, then --set, --set-string
	user := map[string]interface{}{}
	for _, f := range o.valueFiles {
		data, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		m, err := readValues(data)
		if err != nil {
			return fmt.Errorf("failed to parse %s: %v", f, err)
		}
		user = mergeMaps(user, m)
	}
	for _, s := range o.sets {
		if err := parseSet(s, user, false); err != nil {
			return fmt.Errorf("failed parsing --set data: %v", err)
		}
	}
	for _, s := range o.setStrings {
		if err := parseSet(s, user, true); err != nil {
			return fmt.Errorf("failed parsing --set-string data: %v", err)
		}
	}
	vals := deepCopy(user).(map[string]interface{})
	coalesceTables(vals, c.values, "")
	if err := validateSchema(c, vals); err != nil {
		return err
	}
	if o.dumpValues {
		return json.NewEncoder(stdout).Encode(vals)
	}

	files := Files{}
	for _, f := range c.files {
		files[f.name] = f.data
	}
	top := map[string]interface{}{
		"Chart":        &c.meta,
		"Capabilities": &caps,
		"Release": map[string]interface{}{
			"Name":      o.release,
			"Namespace": o.namespace,
			"IsUpgrade": o.isUpgrade,
			"IsInstall": !o.isUpgrade,
			"Revision":  1,
			"Service":   "Helm",
		},
		"Values": Values(vals),
		"Files":  files,
	}

	// parse every template into one set, named <chart>/templates/<file>
	t := template.New("gotpl").Option("missingkey=zero").Funcs(funcMap())
	bindEngineFuncs(t)
	sort.Slice(c.templates, func(i, j int) bool { return c.templates[i].name < c.templates[j].name })
	for _, tf := range c.templates {
		name := path.Join(c.meta.Name, tf.name)
		if _, err := t.New(name).Parse(string(tf.data)); err != nil {
			return fmt.Errorf("parse error at (%s): %v", name, err)
		}
	}
	rendered := map[string]string{}
	var names []string
	for _, tf := range c.templates {
		if strings.HasPrefix(path.Base(tf.name), "_") {
			continue
		}
		name := path.Join(c.meta.Name, tf.name)
		ctx := make(map[string]interface{}, len(top)+1)
		for k, v := range top {
			ctx[k] = v
		}
		ctx["Template"] = map[string]interface{}{"Name": name, "BasePath": path.Join(c.meta.Name, "templates")}
		var buf strings.Builder
		if err := t.ExecuteTemplate(&buf, name, ctx); err != nil {
			return cleanupExecError(err)
		}
		rendered[name] = strings.ReplaceAll(buf.String(), "<no value>", "")
		names = append(names, name)
	}

	// split into documents, parse each (Helm refuses invalid YAML), sort by kind
	var manifests []manifest
	notes := ""
	for _, name := range names {
		content := rendered[name]
		if strings.HasSuffix(name, "NOTES.txt") {
			notes = content
			continue
		}
		if strings.TrimSpace(content) == "" {
			continue
		}
		for _, doc := range sepRe.Split(strings.TrimSpace(content), -1) {
			doc = strings.TrimSpace(doc)
			if doc == "" {
				continue
			}
			var head struct {
				Kind string `json:"kind"`
			}
			if err := yaml.Unmarshal([]byte(doc), &head); err != nil {
				return fmt.Errorf("YAML parse error on %s: %v", name, err)
			}
			manifests = append(manifests, manifest{source: name, content: doc, kind: head.Kind})
		}
	}
	sort.SliceStable(manifests, func(i, j int) bool {
		ri, rj := kindRank(manifests[i].kind), kindRank(manifests[j].kind)
		if ri != rj {
			return ri < rj
		}
		if ri == len(installOrder) {
			return manifests[i].kind < manifests[j].kind
		}
		return false
	})

	var out bytes.Buffer
	if o.includeCRDs {
		var crds []chartFile
		for _, f := range c.files {
			if strings.HasPrefix(f.name, "crds/") && (strings.HasSuffix(f.name, ".yaml") || strings.HasSuffix(f.name, ".yml") || strings.HasSuffix(f.name, ".json")) {
				crds = append(crds, f)
			}
		}
		sort.Slice(crds, func(i, j int) bool { return crds[i].name < crds[j].name })
		for _, f := range crds {
			fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", path.Join(c.meta.Name, f.name), string(f.data))
		}
	}
	for _, m := range manifests {
		fmt.Fprintf(&out, "---\n# Source: %s\n%s\n", m.source, m.content)
	}
	if o.notes && notes != "" {
		fmt.Fprintf(&out, "\nNOTES:\n%s\n", notes)
	}
	_, err = stdout.Write(out.Bytes())
	return err
}

func main() {
	o, err := parseArgs(os.Args[1:])
	if err == nil {
		err = run(o, os.Stdout)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "Error: %v\n", err)
		os.Exit(1)
	}
}
