package main

import (
	"bufio"
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// The roles of design.md section 1, by package (relative to the module).
// A package of the module that no role names fails the test: a new package
// must be given its place.
var roles = map[string]string{
	"collector/dnsname":        "leaf",
	"collector/printable":      "leaf",
	"collector/probe":          "engine",
	"collector/probe/dnsmx":    "engine",
	"collector/probe/dane":     "engine",
	"collector/probe/mtasts":   "engine",
	"collector/probe/tlsrpt":   "engine",
	"collector/probe/rdns":     "engine",
	"collector/probe/dnsbl":    "engine",
	"collector/probe/smtp":     "engine",
	"collector/probe/tlscheck": "engine",
	"config":                   "config",
	"collector/scheduler":      "orchestration",
	"collector/store":          "orchestration",
	"collector/wiring":         "wiring",
	"collector":                "prometheus",
	"collector/report":         "people",
	"collector/web/status":     "people",
	"collector/web/ondemand":   "probe-handler",
	"collector/testenv":        "test",
	"cmd/mx_exporter":          "cmd",

	// The TXT record grammar MTA-STS and TLS-RPT share, beside the probe
	// packages that use it; it imports nothing of the project.
	"collector/probe/txtfields": "leaf",

	// Test certificates, beside the test servers; the tests of deploy/
	// files, beside them, with the dashboard reader they share with cmd's.
	"collector/testenv/testcert": "test",
	"collector/testenv/fakedns":  "test",
	"deploy":                     "test",
}

// mayImport lists, per role, the roles whose packages it may depend on
// (directly or not); every role may depend on its own.
var mayImport = map[string][]string{
	"leaf":          {},
	"engine":        {"leaf"},
	"config":        {"leaf"},
	"orchestration": {"engine", "leaf"},
	"wiring":        {"config", "engine", "orchestration", "leaf"},
	"prometheus":    {"engine", "orchestration", "leaf"},
	"people":        {"engine", "orchestration", "leaf"},
	"probe-handler": {"prometheus", "people", "engine", "orchestration", "config", "leaf"},
	"test":          {},
	"cmd":           {"prometheus", "people", "probe-handler", "wiring", "engine", "orchestration", "config", "leaf"},
}

// Only these roles may depend on client_golang: the probe engine knows
// nothing of Prometheus.
var mayUsePrometheus = []string{"prometheus", "probe-handler", "cmd"}

// TestArchitecture checks the import rules of design.md section 1 on what
// `go list -deps` says of every package of the module (tests excluded: a
// test may use anything, the test servers above all).
func TestArchitecture(t *testing.T) {
	const module = "github.com/mx-exporter/mx_exporter"
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}}{{range .Deps}} {{.}}{{end}}`, module+"/...")
	cmd.Dir = testenv.RepoFile()
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	sc := bufio.NewScanner(bytes.NewReader(out))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		pkg := strings.TrimPrefix(strings.TrimPrefix(fields[0], module), "/")
		role, ok := roles[pkg]
		if !ok {
			t.Errorf("package %s has no role in the architecture: add it to roles (design.md section 1)", pkg)
			continue
		}
		for _, dep := range fields[1:] {
			if strings.HasPrefix(dep, "github.com/prometheus/client_golang") && !slices.Contains(mayUsePrometheus, role) {
				t.Errorf("%s (%s) depends on %s: only %v may", pkg, role, dep, mayUsePrometheus)
			}
			if !strings.HasPrefix(dep, module+"/") {
				continue
			}
			d := strings.TrimPrefix(dep, module+"/")
			dr := roles[d]
			if dr != role && !slices.Contains(mayImport[role], dr) {
				t.Errorf("%s (%s) depends on %s (%s): %s may depend on %v only", pkg, role, d, dr, role, mayImport[role])
			}
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}
