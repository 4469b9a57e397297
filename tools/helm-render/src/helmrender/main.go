// helm-render: renders a Helm chart with Helm's own template engine (Go text/template plus sprig),
// for tests on machines without a helm binary. Test-only; never shipped.
//
// It implements the parts of Helm the servicedb chart uses: values.yaml merged with -f files and
// --set a.b=c (strings, ints, bools, and {a,b} lists), .Values, .Release (Name, Namespace, Service),
// .Chart (from Chart.yaml), .Capabilities.KubeVersion, and Helm's functions include, tpl, required,
// toYaml, fromYaml, toJson, fail, lookup (always empty, as in `helm template`). Templates whose name
// starts with "_" are partials. Output: the rendered manifests as one multi-document YAML stream, each
// preceded by "# Source: <chart>/templates/<file>" like `helm template`.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"text/template"

	"github.com/Masterminds/sprig"
	"gopkg.in/yaml.v3"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

func die(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, "helm-render: "+format+"\n", args...)
	os.Exit(1)
}

// normalize turns yaml.v3's map[string]interface{} trees into the same shapes Helm uses.
func normalize(v interface{}) interface{} {
	switch t := v.(type) {
	case map[string]interface{}:
		for k, x := range t {
			t[k] = normalize(x)
		}
		return t
	case map[interface{}]interface{}:
		out := map[string]interface{}{}
		for k, x := range t {
			out[fmt.Sprint(k)] = normalize(x)
		}
		return out
	case []interface{}:
		for i, x := range t {
			t[i] = normalize(x)
		}
		return t
	}
	return v
}

func readYAML(path string) map[string]interface{} {
	data, err := os.ReadFile(path)
	if err != nil {
		die("%v", err)
	}
	out := map[string]interface{}{}
	if err := yaml.Unmarshal(data, &out); err != nil {
		die("%s: %v", path, err)
	}
	return normalize(out).(map[string]interface{})
}

// merge overlays src onto dst, recursively for maps, as Helm coalesces values.
func merge(dst, src map[string]interface{}) map[string]interface{} {
	for k, v := range src {
		if sm, ok := v.(map[string]interface{}); ok {
			if dm, ok := dst[k].(map[string]interface{}); ok {
				dst[k] = merge(dm, sm)
				continue
			}
		}
		dst[k] = v
	}
	return dst
}

func parseSetValue(s string) interface{} {
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		inner := strings.TrimSuffix(strings.TrimPrefix(s, "{"), "}")
		list := []interface{}{}
		if inner != "" {
			for _, item := range strings.Split(inner, ",") {
				list = append(list, parseSetValue(item))
			}
		}
		return list
	}
	if s == "true" || s == "false" {
		return s == "true"
	}
	if s == "null" {
		return nil
	}
	if i, err := strconv.ParseInt(s, 10, 64); err == nil {
		return i
	}
	return s
}

func applySet(values map[string]interface{}, expr string) {
	eq := strings.Index(expr, "=")
	if eq < 0 {
		die("--set %q: want key=value", expr)
	}
	keys := strings.Split(expr[:eq], ".")
	cur := values
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]interface{})
		if !ok {
			next = map[string]interface{}{}
			cur[k] = next
		}
		cur = next
	}
	cur[keys[len(keys)-1]] = parseSetValue(expr[eq+1:])
}

func toYaml(v interface{}) string {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(v); err != nil {
		return ""
	}
	return strings.TrimSuffix(buf.String(), "\n")
}

func main() {
	var valueFiles, sets multiFlag
	release := flag.String("release", "servicedb-operator", "release name")
	namespace := flag.String("namespace", "default", "release namespace")
	kubeVersion := flag.String("kube-version", "v1.32.0", "Capabilities.KubeVersion")
	valuesOut := flag.String("values-out", "", "also write the merged values as JSON to this file (for schema checks)")
	flag.Var(&valueFiles, "f", "values file (repeatable)")
	flag.Var(&sets, "set", "key=value (repeatable)")
	flag.Parse()
	if flag.NArg() != 1 {
		die("usage: helm-render [flags] CHART_DIR")
	}
	chartDir := flag.Arg(0)
	chart := readYAML(filepath.Join(chartDir, "Chart.yaml"))
	values := readYAML(filepath.Join(chartDir, "values.yaml"))
	for _, f := range valueFiles {
		values = merge(values, readYAML(f))
	}
	for _, s := range sets {
		applySet(values, s)
	}
	if *valuesOut != "" {
		data, _ := json.Marshal(values)
		if err := os.WriteFile(*valuesOut, data, 0o644); err != nil {
			die("%v", err)
		}
	}

	capChart := map[string]interface{}{}
	for k, v := range chart {
		capChart[strings.ToUpper(k[:1])+k[1:]] = v
	}
	ctx := map[string]interface{}{
		"Values":  values,
		"Chart":   capChart,
		"Release": map[string]interface{}{"Name": *release, "Namespace": *namespace, "Service": "Helm", "IsInstall": true, "IsUpgrade": false},
		"Capabilities": map[string]interface{}{
			"KubeVersion": map[string]interface{}{"Version": *kubeVersion, "GitVersion": *kubeVersion},
		},
	}

	root := template.New("chart")
	funcs := sprig.TxtFuncMap()
	funcs["toYaml"] = toYaml
	funcs["fromYaml"] = func(s string) map[string]interface{} {
		out := map[string]interface{}{}
		_ = yaml.Unmarshal([]byte(s), &out)
		return normalize(out).(map[string]interface{})
	}
	funcs["toJson"] = func(v interface{}) string { b, _ := json.Marshal(v); return string(b) }
	funcs["required"] = func(msg string, v interface{}) (interface{}, error) {
		if v == nil || v == "" {
			return nil, errors.New(msg)
		}
		return v, nil
	}
	funcs["fail"] = func(msg string) (string, error) { return "", errors.New(msg) }
	funcs["lookup"] = func(...interface{}) map[string]interface{} { return map[string]interface{}{} }
	funcs["include"] = func(name string, data interface{}) (string, error) {
		var buf bytes.Buffer
		err := root.ExecuteTemplate(&buf, name, data)
		return buf.String(), err
	}
	funcs["tpl"] = func(text string, data interface{}) (string, error) {
		t, err := root.Clone()
		if err != nil {
			return "", err
		}
		t, err = t.New("tpl").Parse(text)
		if err != nil {
			return "", err
		}
		var buf bytes.Buffer
		err = t.Execute(&buf, data)
		return buf.String(), err
	}
	root.Funcs(funcs).Option("missingkey=zero")

	files, err := filepath.Glob(filepath.Join(chartDir, "templates", "*"))
	if err != nil {
		die("%v", err)
	}
	sort.Strings(files)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			die("%v", err)
		}
		if _, err := root.New(filepath.Base(f)).Parse(string(data)); err != nil {
			die("%v", err)
		}
	}
	chartName := fmt.Sprint(chart["name"])
	var out bytes.Buffer
	for _, f := range files {
		base := filepath.Base(f)
		if strings.HasPrefix(base, "_") || !(strings.HasSuffix(base, ".yaml") || strings.HasSuffix(base, ".tpl") && false) {
			continue
		}
		var buf bytes.Buffer
		if err := root.ExecuteTemplate(&buf, base, ctx); err != nil {
			die("%v", err)
		}
		for _, doc := range strings.Split(buf.String(), "\n---") {
			if strings.TrimSpace(strings.TrimPrefix(doc, "---")) == "" {
				continue
			}
			fmt.Fprintf(&out, "---\n# Source: %s/templates/%s\n%s\n", chartName, base, strings.TrimPrefix(strings.TrimLeft(doc, "\n"), "---\n"))
		}
	}
	os.Stdout.Write(out.Bytes())
}
