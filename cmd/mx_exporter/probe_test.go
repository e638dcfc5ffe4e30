package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// runProbe runs `mx_exporter probe ARGS` against the test servers; the
// resolver is always the test nsd: this machine's resolv.conf points off it.
func runProbe(t *testing.T, env *testenv.Env, args ...string) (int, string, string) {
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
		{"bad port", []string{"probe", "mx.example.test:99999"}, "invalid port"},
		{"missing CA file", []string{"probe", "--tls.ca-file=" + filepath.Join(dir, "nope.pem"), "good.test"}, "nope.pem"},
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
