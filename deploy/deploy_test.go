package deploy

// Helpers of the tests of deploy/: the repository's files, the metric names
// the exporter exposes, and the daemon's command line as the deploy files
// give it.

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"

	"gopkg.in/yaml.v3"

	"github.com/mx-exporter/mx_exporter/config"
)

func decodeYAMLStrict(t *testing.T, data []byte, name string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// knownMetrics are the metric names the exporter exposes (the golden
// exposition, with a histogram's series), plus what Prometheus adds.
func knownMetrics(t *testing.T) map[string]bool {
	t.Helper()
	known := map[string]bool{
		"mx_exporter_build_info": true, // client_golang's version collector, not in the golden file
		"up":                     true,
		"ALERTS":                 true,
	}
	sc := bufio.NewScanner(bytes.NewReader(testenv.ReadRepoFile(t, "collector", "testdata", "metrics.golden")))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "#" && f[1] == "TYPE" {
			known[f[2]] = true
			if f[3] == "histogram" {
				for _, s := range []string{"_bucket", "_sum", "_count"} {
					known[f[2]+s] = true
				}
			}
		}
	}
	if len(known) < 30 {
		t.Fatalf("metrics.golden lists only %d metric names", len(known))
	}
	return known
}

var (
	metricNameRE  = regexp.MustCompile(`\b(mx_[a-z0-9_]+|up|ALERTS)\b`)
	stringValueRE = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)
)

// metricNames returns the mx_* names (and up, ALERTS) in a PromQL
// expression. Label names starting with mx_ do not exist, so any match
// outside a string counts; a label value such as status="mx_uncovered" is
// no metric.
func metricNames(expr string) []string {
	return metricNameRE.FindAllString(stringValueRE.ReplaceAllString(expr, `""`), -1)
}

// unknownMetrics returns the mx_* names in expr that the exporter does not
// expose.
func unknownMetrics(known map[string]bool, expr string) []string {
	var bad []string
	for _, m := range metricNames(expr) {
		if !known[m] {
			bad = append(bad, m)
		}
	}
	return bad
}

// TestMain removes the daemon binary that daemonBinary built.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

var (
	binDir     string
	binOnce    sync.Once
	binPath    string
	binFailure string
)

// daemonBinary builds ./cmd/mx_exporter once per test run, for checkFlags.
func daemonBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		dir, err := os.MkdirTemp("", "mx_exporter-deploy-test-")
		if err != nil {
			binFailure = err.Error()
			return
		}
		binDir = dir
		bin := filepath.Join(dir, "mx_exporter")
		if out, err := testenv.Run(t, testenv.RepoFile(), "go", "build", "-o", bin, "./cmd/mx_exporter"); err != nil {
			binFailure = fmt.Sprintf("go build ./cmd/mx_exporter: %v\n%s", err, out)
			return
		}
		binPath = bin
	})
	if binPath == "" {
		t.Fatal(binFailure)
	}
	return binPath
}

// exitFailure is the daemon's exit status when it cannot start.
const exitFailure = 1

// checkFlags fails when args (of the daemon, as a deploy file gives them)
// do not parse: an unknown flag or a bad value. It runs the real command
// line with --config.file pointed at a missing file, so that the daemon
// stops right after parsing, at loading its config. The binary is built
// from ./cmd/mx_exporter (once per test run).
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
	bin := daemonBinary(t) // the first call builds it: not under the timeout
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var errOut bytes.Buffer
	cmd := exec.CommandContext(ctx, bin, argv...)
	cmd.Stderr = &errOut
	err := cmd.Run()
	code := cmd.ProcessState.ExitCode()
	if code != exitFailure || !strings.Contains(errOut.String(), "cannot load config") {
		t.Errorf("%s: mx_exporter %v: status %d (%v), want %d at loading the config:\n%s", where, args, code, err, exitFailure, errOut.String())
	}
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
