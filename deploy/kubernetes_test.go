package deploy

// The Kubernetes manifests of kubernetes/ and kubernetes/probe-sharding,
// every YAML document under deploy/, and prometheusrule.yaml kept equal to
// prometheus/alerts.yml.

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
)

var updatePrometheusRule = flag.Bool("update-prometheusrule", false, "rewrite deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/alerts.yml")

type yamlDoc struct {
	file string
	idx  int
	v    map[string]any
}

// deployYAML decodes every YAML document of every file under deploy/.
func deployYAML(t *testing.T) []yamlDoc {
	t.Helper()
	var docs []yamlDoc
	err := filepath.WalkDir(testenv.RepoFile("deploy"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		switch filepath.Ext(p) {
		case ".json":
			data, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			if !json.Valid(data) {
				t.Errorf("%s: invalid JSON", p)
			}
			return nil
		case ".yml", ".yaml":
		default:
			return nil
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(testenv.RepoFile(), p)
		dec := yaml.NewDecoder(bytes.NewReader(data))
		for i := 0; ; i++ {
			var v map[string]any
			err := dec.Decode(&v)
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Errorf("%s: document %d: %v", rel, i, err)
				break
			}
			if v != nil {
				docs = append(docs, yamlDoc{filepath.ToSlash(rel), i, v})
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return docs
}

// dig walks maps and lists: dig(v, "spec", "template", 0, "name").
func dig(v any, keys ...any) any {
	for _, k := range keys {
		switch k := k.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func digString(v any, keys ...any) string {
	s, _ := dig(v, keys...).(string)
	return s
}

func digList(v any, keys ...any) []any {
	l, _ := dig(v, keys...).([]any)
	return l
}

// labelsMatch reports whether every selector label is in labels.
func labelsMatch(selector, labels any) bool {
	sel, _ := selector.(map[string]any)
	lab, _ := labels.(map[string]any)
	if len(sel) == 0 {
		return false
	}
	for k, v := range sel {
		if lab[k] != v {
			return false
		}
	}
	return true
}

func TestKubernetesManifests(t *testing.T) {
	docs := deployYAML(t)
	type object = k8sObject
	var objs []object
	byKind := map[string][]object{} // "dir kind"
	for _, d := range docs {
		if !strings.HasPrefix(d.file, "deploy/kubernetes/") {
			continue
		}
		if d.v["scrape_configs"] != nil {
			continue // a Prometheus configuration, checked below
		}
		kind, api := digString(d.v, "kind"), digString(d.v, "apiVersion")
		if kind == "" || api == "" {
			t.Errorf("%s: document %d has no apiVersion or kind", d.file, d.idx)
			continue
		}
		if kind == "Kustomization" {
			continue
		}
		name := digString(d.v, "metadata", "name")
		if name == "" {
			t.Errorf("%s: %s has no metadata.name", d.file, kind)
		}
		if ns := digString(d.v, "metadata", "namespace"); ns != "" {
			t.Errorf("%s: %s %s sets namespace %s; the manifests are namespace-less", d.file, kind, name, ns)
		}
		o := object{d, kind, name, path.Dir(d.file)}
		objs = append(objs, o)
		byKind[o.dir+" "+kind] = append(byKind[o.dir+" "+kind], o)
	}
	const plain, sharding = "deploy/kubernetes", "deploy/kubernetes/probe-sharding"
	for _, want := range []string{
		plain + " Deployment", plain + " Service", plain + " ConfigMap", plain + " ServiceMonitor", plain + " PrometheusRule",
		sharding + " StatefulSet", sharding + " Service", sharding + " ConfigMap", sharding + " ScrapeConfig",
	} {
		if len(byKind[want]) == 0 {
			t.Errorf("no %s", want)
		}
	}
	find := func(dir, kind, name string) *object {
		for _, o := range byKind[dir+" "+kind] {
			if o.name == name {
				return &o
			}
		}
		return nil
	}

	replicas := map[string]int{}
	for _, o := range objs {
		switch o.kind {
		case "Deployment", "StatefulSet":
			checkWorkload(t, o.file, o.v)
			n, _ := dig(o.v, "spec", "replicas").(int)
			replicas[o.dir] = n
			if !labelsMatch(dig(o.v, "spec", "selector", "matchLabels"), dig(o.v, "spec", "template", "metadata", "labels")) {
				t.Errorf("%s: the selector does not match the pod template's labels", o.file)
			}
			for _, vol := range digList(o.v, "spec", "template", "spec", "volumes") {
				if cm := digString(vol, "configMap", "name"); cm != "" && find(o.dir, "ConfigMap", cm) == nil {
					t.Errorf("%s: volume from ConfigMap %s, which %s does not define", o.file, cm, o.dir)
				}
			}
			var svc *object
			for _, s := range byKind[o.dir+" Service"] {
				if labelsMatch(dig(s.v, "spec", "selector"), dig(o.v, "spec", "template", "metadata", "labels")) {
					svc = &s
				}
			}
			if svc == nil {
				t.Errorf("%s: no Service in %s selects its pods", o.file, o.dir)
			}
			if o.kind == "StatefulSet" {
				s := find(o.dir, "Service", digString(o.v, "spec", "serviceName"))
				if s == nil || digString(s.v, "spec", "clusterIP") != "None" {
					t.Errorf("%s: serviceName %q is not a headless Service of %s", o.file, digString(o.v, "spec", "serviceName"), o.dir)
				}
			}
		case "Service":
			ok := false
			for _, p := range digList(o.v, "spec", "ports") {
				if dig(p, "port") == 9725 && digString(p, "name") == "http-metrics" {
					ok = true
				}
			}
			if !ok {
				t.Errorf("%s: Service %s has no port 9725 named http-metrics", o.file, o.name)
			}
		case "ConfigMap":
			text := digString(o.v, "data", "mx_exporter.yml")
			cfg, err := config.Parse([]byte(text), o.file+": data.mx_exporter.yml")
			if err != nil {
				t.Errorf("%s: the embedded mx_exporter.yml: %v", o.file, err)
				continue
			}
			checkPlaceholderConfig(t, o.file, cfg)
			if o.dir == sharding && (len(cfg.Targets) > 0 || len(cfg.ProbeEndpoint.Allow.Domains) == 0) {
				t.Errorf("%s: the /probe replicas want no targets (%d) and an allow-list (%v)", o.file, len(cfg.Targets), cfg.ProbeEndpoint.Allow.Domains)
			}
		case "ServiceMonitor":
			eps := digList(o.v, "spec", "endpoints")
			if len(eps) == 0 || digString(eps[0], "port") != "http-metrics" {
				t.Errorf("%s: ServiceMonitor endpoints %v, want port http-metrics", o.file, eps)
			}
			matched := false
			for _, s := range byKind[o.dir+" Service"] {
				if labelsMatch(dig(o.v, "spec", "selector", "matchLabels"), dig(s.v, "metadata", "labels")) {
					matched = true
				}
			}
			if !matched {
				t.Errorf("%s: ServiceMonitor %s selects no Service of %s", o.file, o.name, o.dir)
			}
		case "ScrapeConfig":
			if digString(o.v, "spec", "metricsPath") != "/probe" {
				t.Errorf("%s: metricsPath %q, want /probe", o.file, digString(o.v, "spec", "metricsPath"))
			}
			checkShardingRelabeling(t, o.file, digList(o.v, "spec", "relabelings"), "sourceLabels", "targetLabel", replicasOf(t, objs, o.dir))
		}
	}
	if replicas[plain] != 1 {
		t.Errorf("%s: Deployment replicas %d, want 1 (each replica probes every target)", plain, replicas[plain])
	}
	if replicas[sharding] < 2 {
		t.Errorf("%s: StatefulSet replicas %d, want several", sharding, replicas[sharding])
	}

	t.Run("prometheusrule", func(t *testing.T) {
		want := prometheusRuleYAML(t)
		file := testenv.RepoFile("deploy", "kubernetes", "prometheusrule.yaml")
		if *updatePrometheusRule {
			if err := os.WriteFile(file, want, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		got, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("deploy/kubernetes/prometheusrule.yaml differs from deploy/prometheus/alerts.yml: run go test ./deploy -run TestKubernetesManifests -update-prometheusrule")
		}
	})

	t.Run("probe-sharding prometheus.yml", func(t *testing.T) {
		var pcfg map[string]any
		decodeYAMLStrict(t, testenv.ReadRepoFile(t, "deploy", "kubernetes", "probe-sharding", "prometheus.yml"), "prometheus.yml", &pcfg)
		found := false
		for _, j := range digList(pcfg, "scrape_configs") {
			if digString(j, "metrics_path") == "/probe" {
				found = true
				checkShardingRelabeling(t, "probe-sharding/prometheus.yml", digList(j, "relabel_configs"), "source_labels", "target_label", replicasOf(t, objs, sharding))
			}
		}
		if !found {
			t.Errorf("probe-sharding/prometheus.yml has no job with metrics_path /probe")
		}
		promtool := testenv.RequireTool(t, ".ci/run installs Debian's prometheus, which ships it", "promtool")
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), testenv.ReadRepoFile(t, "deploy", "kubernetes", "probe-sharding", "prometheus.yml"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := testenv.Run(t, dir, promtool, "check", "config", "prometheus.yml"); err != nil {
			t.Errorf("promtool check config: %v\n%s", err, out)
		}
	})

	t.Run("kustomize", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed (Debian 12 does not package it)")
		}
		for _, dir := range []string{plain, sharding} {
			if out, err := testenv.Run(t, testenv.RepoFile(), kubectl, "kustomize", dir); err != nil {
				t.Errorf("kubectl kustomize %s: %v\n%s", dir, err, out)
			}
		}
	})
}

// k8sObject is one Kubernetes object of a file under deploy/kubernetes.
type k8sObject struct {
	yamlDoc
	kind, name, dir string
}

func replicasOf(t *testing.T, objs []k8sObject, dir string) int {
	t.Helper()
	for _, o := range objs {
		if o.dir == dir && o.kind == "StatefulSet" {
			n, _ := dig(o.v, "spec", "replicas").(int)
			return n
		}
	}
	t.Fatalf("no StatefulSet in %s", dir)
	return 0
}

// checkShardingRelabeling checks the /probe relabeling: target to
// __param_target and instance, hashmod with modulus = replicas, and the
// replica address from the shard.
func checkShardingRelabeling(t *testing.T, where string, rules []any, sourceKey, targetKey string, replicas int) {
	t.Helper()
	var steps []string
	modulus := 0
	replacement := ""
	for _, r := range rules {
		src := fmt.Sprint(dig(r, sourceKey))
		steps = append(steps, src+">"+digString(r, targetKey))
		if strings.EqualFold(digString(r, "action"), "hashmod") {
			modulus, _ = dig(r, "modulus").(int)
		}
		if digString(r, targetKey) == "__address__" {
			replacement = digString(r, "replacement")
		}
	}
	want := []string{"[__address__]>__param_target", "[__param_target]>instance", "[__param_target]>__tmp_shard", "[__tmp_shard]>__address__"}
	if !slices.Equal(steps, want) {
		t.Errorf("%s: relabeling %v, want %v", where, steps, want)
	}
	if modulus != replicas {
		t.Errorf("%s: hashmod modulus %d, but the StatefulSet has %d replicas", where, modulus, replicas)
	}
	if replacement != ShardingReplicaAddress {
		t.Errorf("%s: replica address %q, want %q", where, replacement, ShardingReplicaAddress)
	}
}

// checkWorkload checks a Deployment's or StatefulSet's pod spec.
func checkWorkload(t *testing.T, file string, v map[string]any) {
	t.Helper()
	pod := dig(v, "spec", "template", "spec")
	if dig(pod, "securityContext", "runAsNonRoot") != true {
		t.Errorf("%s: pod securityContext.runAsNonRoot is not true", file)
	}
	if u, ok := dig(pod, "securityContext", "runAsUser").(int); !ok || u == 0 {
		t.Errorf("%s: pod securityContext.runAsUser %v, want a non-zero uid (distroless has no user name to check)", file, dig(pod, "securityContext", "runAsUser"))
	}
	cs := digList(pod, "containers")
	if len(cs) != 1 {
		t.Fatalf("%s: %d containers, want 1", file, len(cs))
	}
	c := cs[0]
	if img := digString(c, "image"); !strings.Contains(img, "mx_exporter") {
		t.Errorf("%s: image %q", file, img)
	}
	var args []string
	for _, a := range digList(c, "args") {
		args = append(args, fmt.Sprint(a))
	}
	if !slices.Contains(args, "--config.file=/etc/mx_exporter/mx_exporter.yml") {
		t.Errorf("%s: args %v lack --config.file=/etc/mx_exporter/mx_exporter.yml", file, args)
	}
	checkFlags(t, file, args)
	port := false
	for _, p := range digList(c, "ports") {
		if dig(p, "containerPort") == 9725 && digString(p, "name") == "http-metrics" {
			port = true
		}
	}
	if !port {
		t.Errorf("%s: no containerPort 9725 named http-metrics", file)
	}
	sc := dig(c, "securityContext")
	if dig(sc, "readOnlyRootFilesystem") != true || dig(sc, "allowPrivilegeEscalation") != false {
		t.Errorf("%s: container securityContext %v, want readOnlyRootFilesystem and no privilege escalation", file, sc)
	}
	if drop := digList(sc, "capabilities", "drop"); !slices.Contains(drop, any("ALL")) {
		t.Errorf("%s: capabilities.drop %v, want ALL", file, drop)
	}
	for _, probe := range []string{"livenessProbe", "readinessProbe"} {
		if p := digString(c, probe, "httpGet", "path"); p != "/-/healthy" {
			t.Errorf("%s: %s path %q, want /-/healthy", file, probe, p)
		}
	}
	for _, r := range [][]any{{"requests", "cpu"}, {"requests", "memory"}, {"limits", "memory"}} {
		if dig(c, append([]any{"resources"}, r...)...) == nil {
			t.Errorf("%s: resources.%s.%s is not set", file, r[0], r[1])
		}
	}
	mounted := false
	for _, m := range digList(c, "volumeMounts") {
		if digString(m, "mountPath") == "/etc/mx_exporter" && dig(m, "readOnly") == true {
			mounted = true
		}
	}
	if !mounted {
		t.Errorf("%s: no read-only volume mounted at /etc/mx_exporter", file)
	}
}

// prometheusRuleYAML is deploy/kubernetes/prometheusrule.yaml as it must
// be: the groups of alerts.yml in a PrometheusRule.
func prometheusRuleYAML(t *testing.T) []byte {
	t.Helper()
	src := string(testenv.ReadRepoFile(t, "deploy", "prometheus", "alerts.yml"))
	i := strings.Index(src, "\ngroups:\n")
	if i < 0 {
		t.Fatalf("alerts.yml has no top-level groups:")
	}
	var b strings.Builder
	b.WriteString(`# The alerting rules of deploy/prometheus/alerts.yml for the Prometheus
# Operator. Keep the two identical: a test compares their groups. Your
# Prometheus selects PrometheusRules by label (kube-prometheus-stack:
# release: <its release name>); add that label.
apiVersion: monitoring.coreos.com/v1
kind: PrometheusRule
metadata:
  name: mx-exporter
  labels:
    app.kubernetes.io/name: mx-exporter
    app.kubernetes.io/component: exporter
spec:
`)
	for _, line := range strings.SplitAfter(src[i+1:], "\n") {
		if strings.TrimSpace(line) != "" {
			b.WriteString("  ")
		}
		b.WriteString(line)
	}
	return []byte(b.String())
}
