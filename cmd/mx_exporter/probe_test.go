package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// runProbe runs `mx_exporter probe ARGS` against the test servers as a lab
// would, with --ignore-special-addresses: every test server is on loopback,
// which is not what these tests are about (TestProbeCommandSpecialAddresses
// is).
func runProbe(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
	t.Helper()
	return runProbeAsIs(t, env, append([]string{"--ignore-special-addresses"}, args...)...)
}

// runProbeAsIs runs `mx_exporter probe ARGS` against the test servers; the
// resolver is always the test nsd: this machine's resolv.conf points off it.
func runProbeAsIs(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	full := append([]string{"probe", "--resolver=" + env.Resolver, "--ehlo=probe.mx-exporter.test", "--timeout=5s"}, args...)
	code := run(context.Background(), full, &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestProbeCommandExitStatus(t *testing.T) {
	env := testenv.Require(t)
	tests := []struct {
		name string
		args []string
		code int
		want []string // lines the report must contain
	}{
		{"healthy domain", []string{"--rcpt=postmaster@good.test", "--relay-rcpt=" + env.RelayAddress, "--tls.ca-file=" + env.CAFile, "good.test"}, exitOK,
			[]string{"MX 10 mx1.good.test", "MX 20 mx2.good.test", "C: EHLO probe.mx-exporter.test", "S: 220 mx1.good.test ESMTP",
				"C: STARTTLS", "certificate verified for mx1.good.test", "SIZE limit: 12345678 bytes", "refused: no open relay", "OK good.test"}},
		{"open relay", []string{"--rcpt=postmaster@relay.test", "--relay-rcpt=" + env.RelayAddress, "relay.test"}, exitFailure,
			[]string{"ACCEPTED: OPEN RELAY", "FAIL relay_open", "FAIL relay.test"}},
		{"554 banner", []string{"reject.test"}, exitFailure, []string{"S: 554 5.7.1", "FAIL banner_rejected"}},
		{"null MX is not a failure", []string{"nullmx.test"}, exitOK, []string{"null MX (RFC 7505)", "OK nullmx.test"}},
		{"NXDOMAIN", []string{"missing.test"}, exitFailure, []string{"NXDOMAIN", "missing.test does not exist"}},
		{"host and port, no MX lookup", []string{"127.0.1.2:25"}, exitOK, []string{"S: 220 mx2.good.test", "OK 127.0.1.2"}},
		{"STARTTLS required where it is not offered", []string{"--starttls=required", "127.0.1.2:25"}, exitFailure, []string{"FAIL starttls_unavailable"}},
		{"IPv6 only", []string{"-6", "v6.test"}, exitOK, []string{"::1 port 25", "OK v6.test"}},
		{"IPv4 only finds nothing on an AAAA-only MX", []string{"-4", "v6.test"}, exitFailure, []string{"no A record"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runProbe(t, env, tt.args...)
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Fatalf("report lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "\x1b[") {
				t.Fatalf("colour escapes in a report written to a buffer")
			}
		})
	}
}

func TestProbeCommandJSON(t *testing.T) {
	env := testenv.Require(t)
	code, out, errOut := runProbe(t, env, "--json", "--rcpt=postmaster@partial.test", "partial.test")
	if code != exitFailure {
		t.Fatalf("exit status %d, want %d; stderr: %s", code, exitFailure, errOut)
	}
	var doc report.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
	}
	if doc.Target != "partial.test" || doc.Kind != "domain" || doc.Success || len(doc.Hosts) != 2 {
		t.Fatalf("document %+v, want a failed domain partial.test with 2 hosts", doc)
	}
	dead, good := doc.Hosts[0].Addresses[0], doc.Hosts[1].Addresses[0]
	if dead.IP != env.DeadIP || dead.Reason != "connect_refused" || !good.Success || len(good.Transcript) == 0 {
		t.Fatalf("dead %+v, good %+v; want the dead MX refused and mx1 succeeding with a transcript", dead, good)
	}
}

func TestProbeCommandUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	if err := os.WriteFile(bad, []byte("modules:\n  default:\n    prot: 25\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	good := filepath.Join(dir, "good.yml")
	if err := os.WriteFile(good, []byte("modules:\n  submission:\n    port: 587\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no target", []string{"probe"}, "required argument 'target' not provided"},
		{"bad starttls", []string{"probe", "--starttls=sometimes", "good.test"}, "sometimes"},
		{"bad config", []string{"probe", "--config.file=" + bad, "good.test"}, bad + `:3: modules.default.prot: unknown key (did you mean "port"?)`},
		{"unknown module", []string{"probe", "--config.file=" + good, "--module=smtps", "good.test"}, `no module "smtps"`},
		{"bad port", []string{"probe", "mx.example.test:99999"}, `port must be a number from 1 to 65535, got "99999"`},
		{"bad rcpt", []string{"probe", "--rcpt=postmaster", "good.test"}, `recipient: must be an address like postmaster@example.com, got "postmaster"`},
		{"bad ehlo", []string{"probe", "--ehlo=probe host", "good.test"}, `EHLO name: must be a host name or an address literal like [192.0.2.1] or [IPv6:2001:db8::1], got "probe host"`},
		{"missing CA file", []string{"probe", "--tls.ca-file=" + filepath.Join(dir, "nope.pem"), "good.test"}, "nope.pem"},
		{"zero slow-step threshold", []string{"probe", "--slow-step-threshold=0s", "good.test"}, "--slow-step-threshold must be positive, got 0s"},
		{"negative slow-step threshold", []string{"probe", "--slow-step-threshold=-1s", "good.test"}, "--slow-step-threshold must be positive, got -1s"},
		{"slow-step threshold not a duration", []string{"probe", "--slow-step-threshold=fast", "good.test"}, `invalid duration "fast"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit status %d, want %d (usage)\nstderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}
}

// TestProbeCommandModuleFlags: --slow-step-threshold and
// --ignore-special-addresses override the module's keys, and only when
// given; without them the module's values (or the defaults) hold.
func TestProbeCommandModuleFlags(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(lab, []byte("modules:\n  default:\n    slow_step_threshold: 3s\n    ignore_special_addresses: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name   string
		args   []string
		slow   time.Duration
		ignore bool
	}{
		{"defaults", nil, time.Second, false},
		{"threshold flag", []string{"--slow-step-threshold=250ms"}, 250 * time.Millisecond, false},
		{"ignore flag", []string{"--ignore-special-addresses"}, time.Second, true},
		{"no-ignore flag", []string{"--no-ignore-special-addresses"}, time.Second, false},
		{"module keys", []string{"--config.file=" + lab}, 3 * time.Second, true},
		{"flags over module keys", []string{"--config.file=" + lab, "--slow-step-threshold=2s", "--no-ignore-special-addresses"}, 2 * time.Second, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("mx_exporter", "")
			c := addProbeCommand(app)
			// The resolver is only built, never asked.
			args := append([]string{"probe", "--resolver=127.0.53.1"}, tt.args...)
			if _, err := app.Parse(append(args, "good.test")); err != nil {
				t.Fatalf("parse %q: %v", tt.args, err)
			}
			_, s, err := c.prepare()
			if err != nil {
				t.Fatalf("prepare %q: %v", tt.args, err)
			}
			if s.SMTP.SlowStepThreshold != tt.slow || s.DNS.IgnoreSpecialAddresses != tt.ignore {
				t.Fatalf("%q: slow-step threshold %v, ignore special addresses %v; want %v, %v",
					tt.args, s.SMTP.SlowStepThreshold, s.DNS.IgnoreSpecialAddresses, tt.slow, tt.ignore)
			}
		})
	}
}

// TestProbeCommandSpecialAddresses: against the real servers, all on
// loopback, the special-address finding is reported unless turned off, and
// never fails the probe.
func TestProbeCommandSpecialAddresses(t *testing.T) {
	env := testenv.Require(t)
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(lab, []byte("modules:\n  default:\n    ignore_special_addresses: true\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		args     []string
		reported bool
	}{
		{"default", nil, true},
		{"flag", []string{"--ignore-special-addresses"}, false},
		{"module", []string{"--config.file=" + lab}, false},
		{"flag over module", []string{"--config.file=" + lab, "--no-ignore-special-addresses"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := runProbeAsIs(t, env, append(tt.args, "--json", "good.test")...)
			if code != exitOK {
				t.Fatalf("exit status %d, want %d: the finding is no failure\nstderr: %s\n%s", code, exitOK, errOut, out)
			}
			var doc report.Document
			if err := json.Unmarshal([]byte(out), &doc); err != nil {
				t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
			}
			if len(doc.Hosts) != 2 {
				t.Fatalf("want the 2 MX hosts of good.test, got %+v", doc.Hosts)
			}
			for _, h := range doc.Hosts {
				var want []report.SpecialAddr
				if tt.reported {
					want = []report.SpecialAddr{{IP: h.Addresses[0].IP, Range: "loopback"}}
				}
				if !slices.Equal(h.Special, want) {
					t.Fatalf("%s: special addresses %+v, want %+v", h.Name, h.Special, want)
				}
			}
		})
	}
}
