package main

// Tests of the deployment files: the Dockerfile and the static build of the
// image's binary, the Kubernetes manifests and every YAML document under
// deploy/, the systemd unit, and the example configurations.

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
)

var updatePrometheusRule = flag.Bool("update-prometheusrule", false, "rewrite deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/alerts.yml")

// ---------------------------------------------------------------------------
// Dockerfile

type dockerInstruction struct {
	cmd  string // upper case
	args string
	line int
}

// parseDockerfile splits a Dockerfile into instructions, joining
// continuation lines and dropping comments.
func parseDockerfile(data []byte) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args), start})
		cur.Reset()
	}
	return out
}

// dockerIgnored reports whether .dockerignore excludes path (slash
// separated, relative to the context) from the build context.
func dockerIgnored(patterns []string, p string) bool {
	ignored := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(pat, "!"))
		if dockerMatch(pat, p) {
			ignored = !neg
		}
	}
	return ignored
}

// dockerMatch matches p or one of its parent directories against pat, with
// ** standing for any number of directories.
func dockerMatch(pat, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if globMatch(strings.Split(pat, "/"), strings.Split(prefix, "/")) {
			return true
		}
	}
	return false
}

func globMatch(pat, p []string) bool {
	if len(pat) == 0 {
		return len(p) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if globMatch(pat[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], p[0])
	return err == nil && ok && globMatch(pat[1:], p[1:])
}

func TestDockerignoreMatching(t *testing.T) {
	pats := []string{".git", "**/testdata/fuzz", "deploy/kubernetes", "*.test", "!keep.test"}
	for p, want := range map[string]bool{
		".git/config":                      true,
		"collector/probe/smtp/testdata/fuzz/x/y": true,
		"collector/probe/smtp/testdata/golden":   false,
		"deploy/kubernetes/a.yaml":         true,
		"deploy/docker/mx_exporter.yml":    false,
		"mx_exporter.test":                 true,
		"keep.test":                        false,
		"go.mod":                           false,
	} {
		if got := dockerIgnored(pats, p); got != want {
			t.Errorf("dockerIgnored(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	data := readRepoFile(t, "Dockerfile")
	ins := parseDockerfile(data)
	var stages [][]dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a final stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if f := strings.Fields(build[0].args); len(f) != 3 || !strings.HasPrefix(f[0], "golang:1.26") || !strings.EqualFold(f[1], "AS") {
		t.Errorf("build stage: FROM %s, want golang:1.26... AS name", build[0].args)
	}
	if img := final[0].args; !strings.HasPrefix(img, "gcr.io/distroless/static") && img != "scratch" {
		t.Errorf("final stage: FROM %s, want distroless/static or scratch", img)
	}

	get := func(stage []dockerInstruction, cmd string) []dockerInstruction {
		var out []dockerInstruction
		for _, in := range stage {
			if in.cmd == cmd {
				out = append(out, in)
			}
		}
		return out
	}
	// Final stage: non-root, port, entrypoint, default config.
	users := get(final, "USER")
	if len(users) == 0 {
		t.Errorf("final stage has no USER: it would run as root")
	} else {
		u, _, _ := strings.Cut(users[len(users)-1].args, ":")
		if u == "root" || u == "0" {
			t.Errorf("final stage: USER %s", users[len(users)-1].args)
		}
	}
	if e := get(final, "EXPOSE"); len(e) != 1 || e[0].args != "9725" {
		t.Errorf("final stage: EXPOSE %v, want 9725", e)
	}
	var entry, cmdArgs []string
	if e := get(final, "ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0].args), &entry) != nil || !slices.Equal(entry, []string{"/bin/mx_exporter"}) {
		t.Errorf(`final stage: ENTRYPOINT %v, want ["/bin/mx_exporter"] (exec form)`, e)
	}
	if c := get(final, "CMD"); len(c) != 1 || json.Unmarshal([]byte(c[0].args), &cmdArgs) != nil || !slices.Contains(cmdArgs, "--config.file=/etc/mx_exporter/mx_exporter.yml") {
		t.Errorf("final stage: CMD %v, want --config.file=/etc/mx_exporter/mx_exporter.yml (exec form)", c)
	}
	checkFlags(t, "Dockerfile CMD", cmdArgs)

	// COPY sources exist in the context and are not excluded from it.
	var ignore []string
	if di, err := os.ReadFile(repoFile(".dockerignore")); err == nil {
		for _, l := range strings.Split(string(di), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				ignore = append(ignore, l)
			}
		}
	}
	copiesConfig, copiesBinary := false, false
	for _, in := range append(get(build, "COPY"), get(final, "COPY")...) {
		f := strings.Fields(in.args)
		from := ""
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			if v, ok := strings.CutPrefix(f[0], "--from="); ok {
				from = v
			}
			f = f[1:]
		}
		if len(f) < 2 {
			t.Errorf("Dockerfile:%d: COPY %s", in.line, in.args)
			continue
		}
		dst := f[len(f)-1]
		if from != "" {
			if dst == "/bin/mx_exporter" {
				copiesBinary = true
			}
			continue
		}
		if dst == "/etc/mx_exporter/mx_exporter.yml" {
			copiesConfig = true
			if _, err := config.Load(repoFile(f[0])); err != nil {
				t.Errorf("Dockerfile:%d: the image's default config %s: %v", in.line, f[0], err)
			}
		}
		for _, src := range f[:len(f)-1] {
			if _, err := os.Stat(repoFile(src)); err != nil {
				t.Errorf("Dockerfile:%d: COPY source %s: %v", in.line, src, err)
			}
			if src != "." && dockerIgnored(ignore, path.Clean(src)) {
				t.Errorf("Dockerfile:%d: COPY source %s is excluded by .dockerignore", in.line, src)
			}
		}
	}
	if !copiesBinary || !copiesConfig {
		t.Errorf("final stage copies the binary to /bin/mx_exporter: %v; a config to /etc/mx_exporter/mx_exporter.yml: %v", copiesBinary, copiesConfig)
	}
	// The build needs every Go file of the packages it compiles.
	out, err := runTool(t, repoFile(), "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/mx_exporter")
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	root, _ := filepath.Abs(repoFile())
	for _, dir := range strings.Fields(out) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module from the cache
		}
		for _, f := range []string{filepath.ToSlash(rel), "go.mod", "go.sum"} {
			if dockerIgnored(ignore, f) {
				t.Errorf(".dockerignore excludes %s, which the build needs", f)
			}
		}
	}

	// The build stage: static, trimmed, with version information.
	env := map[string]string{}
	args := map[string]string{}
	for _, in := range build {
		switch in.cmd {
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		}
	}
	if env["CGO_ENABLED"] != "0" {
		t.Errorf("build stage: CGO_ENABLED=%q in ENV, want 0", env["CGO_ENABLED"])
	}
	var goBuild string
	for _, in := range get(build, "RUN") {
		if strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"-trimpath", "-X github.com/prometheus/common/version.Version=${VERSION}", "-X github.com/prometheus/common/version.Revision=${REVISION}", "-o /out/mx_exporter", "./cmd/mx_exporter"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("build stage: the go build command lacks %q:\n%s", want, goBuild)
		}
	}
	if t.Failed() {
		return
	}

	t.Run("static build", func(t *testing.T) {
		// The same command, with test build arguments and a temporary output.
		bin := filepath.Join(t.TempDir(), "mx_exporter")
		vals := map[string]string{"VERSION": "v0.0.0-deploytest", "REVISION": "0123456789abcdef", "BRANCH": "deploytest", "BUILD_USER": "deploy_test", "BUILD_DATE": "20260101-00:00:00"}
		for k := range args {
			if _, ok := vals[k]; !ok {
				t.Fatalf("build stage: unexpected ARG %s", k)
			}
		}
		cmdline := os.Expand(goBuild, func(k string) string { return vals[k] })
		cmdline = strings.Replace(cmdline, "-o /out/mx_exporter", "-o "+bin, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
		cmd.Dir = repoFile()
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+env["CGO_ENABLED"], "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary has an ELF interpreter: it is dynamically linked")
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
		}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", bin, err, out)
		}
		for _, want := range []string{"version v0.0.0-deploytest", "revision: 0123456789abcdef", "branch: deploytest", "build user:       deploy_test"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--version lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("hadolint", func(t *testing.T) {
		p, err := exec.LookPath("hadolint")
		if err != nil {
			t.Skip("hadolint is not installed (Debian 12 does not package it)")
		}
		if out, err := runTool(t, repoFile(), p, "Dockerfile"); err != nil {
			t.Errorf("hadolint Dockerfile: %v\n%s", err, out)
		}
	})
}

// checkFlags fails when args (of the daemon, as a deploy file gives them)
// do not parse: an unknown flag or a bad value. It runs the real command
// line with --config.file pointed at a missing file, so that the daemon
// stops right after parsing, at loading its config.
func checkFlags(t *testing.T, where string, args []string) {
	t.Helper()
	missing := filepath.Join(t.TempDir(), "missing.yml")
	argv := []string{"serve"}
	hasConfig := false
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "$"):
			continue // an environment variable systemd expands
		case strings.HasPrefix(a, "--config.file="):
			a, hasConfig = "--config.file="+missing, true
		}
		argv = append(argv, a)
	}
	if !hasConfig {
		argv = append(argv, "--config.file="+missing)
	}
	var out, errOut syncBuffer
	code := run(context.Background(), argv, &out, &errOut)
	if code != exitFailure || !strings.Contains(errOut.String(), "cannot load config") {
		t.Errorf("%s: mx_exporter %v: status %d, want %d at loading the config:\n%s", where, args, code, exitFailure, errOut.String())
	}
}

// ---------------------------------------------------------------------------
// Kubernetes manifests and every YAML document under deploy/

type yamlDoc struct {
	file string
	idx  int
	v    map[string]any
}

// deployYAML decodes every YAML document of every file under deploy/.
func deployYAML(t *testing.T) []yamlDoc {
	t.Helper()
	var docs []yamlDoc
	err := filepath.WalkDir(repoFile("deploy"), func(p string, d fs.DirEntry, err error) error {
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
		rel, _ := filepath.Rel(repoFile(), p)
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

// exampleDomainRE matches the names a deploy file may use for targets,
// recipients and allow-lists: RFC 2606 names only, never a real domain.
var exampleDomainRE = regexp.MustCompile(`(^|\.)example\.(com|net|org)$`)

// checkPlaceholderConfig fails on a config that names anything but
// example.* domains or documentation addresses.
func checkPlaceholderConfig(t *testing.T, where string, cfg *config.Config) {
	t.Helper()
	isExample := func(s string) bool {
		host := s
		if h, _, err := net.SplitHostPort(s); err == nil {
			host = h
		}
		if _, d, ok := strings.Cut(host, "@"); ok {
			host = d
		}
		if a, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
			for _, p := range []string{"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "2001:db8::/32"} {
				if netip.MustParsePrefix(p).Contains(a) {
					return true
				}
			}
			return false
		}
		return exampleDomainRE.MatchString(strings.ToLower(strings.TrimSuffix(host, ".")))
	}
	var names []string
	for _, tg := range cfg.Targets {
		names = append(names, tg.Domain+tg.Host)
	}
	for _, m := range cfg.Modules {
		names = append(names, m.Recipients...)
		if m.RelayCheck != "" {
			names = append(names, m.RelayCheck)
		}
	}
	names = append(names, cfg.DNS.Resolvers...)
	names = append(names, cfg.ProbeEndpoint.Allow.Domains...)
	for _, n := range names {
		if !isExample(n) {
			t.Errorf("%s names %q: use example.com/.net/.org or documentation addresses only", where, n)
		}
	}
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
		file := repoFile("deploy", "kubernetes", "prometheusrule.yaml")
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
			t.Errorf("deploy/kubernetes/prometheusrule.yaml differs from deploy/prometheus/alerts.yml: run go test ./cmd/mx_exporter -run TestKubernetesManifests -update-prometheusrule")
		}
	})

	t.Run("probe-sharding prometheus.yml", func(t *testing.T) {
		var pcfg map[string]any
		decodeYAMLStrict(t, readRepoFile(t, "deploy", "kubernetes", "probe-sharding", "prometheus.yml"), "prometheus.yml", &pcfg)
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
		promtool := requireTool(t, "promtool", ".ci/run installs Debian's prometheus, which ships it")
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), readRepoFile(t, "deploy", "kubernetes", "probe-sharding", "prometheus.yml"), 0o644); err != nil {
			t.Fatal(err)
		}
		if out, err := runTool(t, dir, promtool, "check", "config", "prometheus.yml"); err != nil {
			t.Errorf("promtool check config: %v\n%s", err, out)
		}
	})

	t.Run("kustomize", func(t *testing.T) {
		kubectl, err := exec.LookPath("kubectl")
		if err != nil {
			t.Skip("kubectl is not installed (Debian 12 does not package it)")
		}
		for _, dir := range []string{plain, sharding} {
			if out, err := runTool(t, repoFile(), kubectl, "kustomize", dir); err != nil {
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
	if replacement != shardingPlaceholder {
		t.Errorf("%s: replica address %q, want %q", where, replacement, shardingPlaceholder)
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
	src := string(readRepoFile(t, "deploy", "prometheus", "alerts.yml"))
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

// ---------------------------------------------------------------------------
// systemd

// parseUnit reads a systemd unit: section -> key -> values in order.
func parseUnit(data []byte) map[string]map[string][]string {
	units := map[string]map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			units[section] = map[string][]string{}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		units[section][strings.TrimSpace(k)] = append(units[section][strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	return units
}

func TestSystemdUnit(t *testing.T) {
	data := readRepoFile(t, "deploy", "systemd", "mx_exporter.service")
	unit := parseUnit(data)
	svc := unit["Service"]
	for key, want := range map[string]string{
		"DynamicUser":           "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"NoNewPrivileges":       "yes",
		"CapabilityBoundingSet": "",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
	} {
		if got := svc[key]; len(got) != 1 || got[0] != want {
			t.Errorf("[Service] %s=%v, want %q", key, got, want)
		}
	}
	if got := strings.Fields(strings.Join(svc["RestrictAddressFamilies"], " ")); !slices.Equal(got, []string{"AF_INET", "AF_INET6", "AF_UNIX"}) {
		t.Errorf("RestrictAddressFamilies=%v, want AF_INET AF_INET6 AF_UNIX", got)
	}
	if got := svc["SystemCallFilter"]; len(got) == 0 || got[0] != "@system-service" {
		t.Errorf("SystemCallFilter=%v, want @system-service first", got)
	}
	if len(unit["Install"]["WantedBy"]) == 0 {
		t.Errorf("[Install] has no WantedBy")
	}
	execStart := svc["ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("ExecStart=%v", execStart)
	}
	argv := strings.Fields(execStart[0])
	if !strings.HasSuffix(argv[0], "/mx_exporter") || !slices.Contains(argv, "--config.file=/etc/mx_exporter/mx_exporter.yml") {
		t.Errorf("ExecStart=%s, want .../mx_exporter --config.file=/etc/mx_exporter/mx_exporter.yml", execStart[0])
	}
	checkFlags(t, "ExecStart", argv[1:])

	// systemd's own check, with the binary pointed at one that exists.
	analyze := requireTool(t, "systemd-analyze", "Debian's systemd package")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unitFile := filepath.Join(dir, "mx_exporter.service")
	patched := strings.Replace(string(data), "ExecStart="+argv[0], "ExecStart="+self, 1)
	if err := os.WriteFile(unitFile, []byte(patched), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runTool(t, dir, analyze, "verify", unitFile)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = runTool(t, dir, analyze, "security", "--offline=true", "--no-pager", unitFile)
	if err != nil && strings.Contains(out, "unrecognized option") {
		t.Logf("systemd-analyze security --offline is not supported here: %s", out)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 {
		t.Errorf("systemd-analyze security: exposure %s, want at most 2.0\n%s", m[1], out)
	}
}

// ---------------------------------------------------------------------------
// Example configurations

func TestExampleConfigs(t *testing.T) {
	t.Run("mx_exporter.yml", func(t *testing.T) {
		cfg, err := config.Load(repoFile("deploy", "examples", "mx_exporter.yml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"default", "strict_tls"} {
			if cfg.Modules[m] == nil {
				t.Errorf("no module %s", m)
			}
		}
		if s := cfg.Modules["strict_tls"]; s != nil && (s.StartTLS != config.StartTLSRequired || !s.TLS.RequireVerified) {
			t.Errorf("strict_tls: starttls %s, require_verified %v", s.StartTLS, s.TLS.RequireVerified)
		}
		if len(cfg.Targets) == 0 {
			t.Errorf("no targets")
		}
		checkPlaceholderConfig(t, "deploy/examples/mx_exporter.yml", cfg)
	})
	t.Run("docker default", func(t *testing.T) {
		cfg, err := config.Load(repoFile("deploy", "docker", "mx_exporter.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Targets) != 0 {
			t.Errorf("the image's default config probes %d targets, want none", len(cfg.Targets))
		}
	})
	t.Run("testenv.yml", func(t *testing.T) {
		env := testenv.Require(t)
		file := repoFile("deploy", "examples", "testenv.yml")
		data := readRepoFile(t, "deploy", "examples", "testenv.yml")
		const caFile = testenv.DefaultDir + "/tls/ca.pem"
		if !bytes.Contains(data, []byte(caFile)) {
			t.Fatalf("testenv.yml does not use %s", caFile)
		}
		var cfg *config.Config
		var err error
		if env.CAFile == caFile {
			cfg, err = config.Load(file)
		} else { // MX_TESTENV_DIR moved the test servers' state
			data = bytes.ReplaceAll(data, []byte(caFile), []byte(env.CAFile))
			cfg, err = config.Parse(data, file)
		}
		if err != nil {
			t.Fatal(err)
		}
		// Everything stays on this machine: the resolver is the test nsd,
		// and the targets are in its zone.
		if !slices.Equal(cfg.DNS.Resolvers, []string{env.Resolver}) {
			t.Fatalf("resolvers %v, want [%s]", cfg.DNS.Resolvers, env.Resolver)
		}
		want := map[string]string{ // mx_target_success per target
			"good.test": "1", "relay.test": "0", "reject.test": "0", "partial.test": "0", "tls.test": "1",
			"multiline.test": "1", "nullmx.test": "1", "implicit.test": "1", "noaddr.test": "0", "missing.test": "0",
		}
		for _, tg := range cfg.Targets {
			if _, ok := want[tg.Domain]; !ok || tg.Host != "" {
				t.Fatalf("target %s%s is not one of the test servers' scenarios", tg.Domain, tg.Host)
			}
		}
		if len(cfg.Targets) != len(want) {
			t.Fatalf("%d targets, want %d", len(cfg.Targets), len(want))
		}

		// It works out of the box: run the daemon with it.
		d := startDaemon(t, string(data))
		var body string
		waitFor(t, 45*time.Second, "a probe result of every target of testenv.yml", func() bool {
			_, body = d.get(t, "/metrics")
			for domain := range want {
				if !strings.Contains(body, fmt.Sprintf(`mx_target_success{domain=%q}`, domain)) {
					return false
				}
			}
			return true
		})
		for domain, v := range want {
			if line := fmt.Sprintf(`mx_target_success{domain=%q} %s`, domain, v); !strings.Contains(body, line+"\n") {
				t.Errorf("/metrics lacks %s", line)
			}
		}
		for _, line := range []string{
			`mx_smtp_open_relay{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 1`,
			`mx_tls_cert_verified{domain="tls.test",ip="127.0.1.7",mx="mx.tls.test"} 1`,
		} {
			if !strings.Contains(body, line) {
				t.Errorf("/metrics lacks %s", line)
			}
		}
		// /probe may probe any name under .test, and nothing else (refused
		// before any lookup).
		if code, body := d.get(t, "/probe?target=multi.test"); code != http.StatusOK || !strings.Contains(body, `mx_probe_success{domain="multi.test"`) {
			t.Errorf("/probe?target=multi.test: status %d\n%s", code, body)
		}
		if code, body := d.get(t, "/probe?target=outside.invalid"); code != http.StatusForbidden {
			t.Errorf("/probe?target=outside.invalid: status %d, want 403\n%s", code, body)
		}
	})
}
