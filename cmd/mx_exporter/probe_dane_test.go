package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestProbeCommandDNSSECFlags: --dns.trust-ad, --dns.validation-check-name
// and --dane override the config's dns section and module, and only when
// given. The resolver's self-check is asked of the test servers: the
// validating unbound (trust anchor dnssec.test.) passes it on dnssec.test,
// nsd, which validates nothing, never does.
func TestProbeCommandDNSSECFlags(t *testing.T) {
	env := testenv.Require(t)
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(lab, []byte("dns:\n  trust_ad: true\n  validation_check_name: dnssec.test\nmodules:\n  default:\n    dane: report\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name       string
		args       []string
		dane       dane.Mode
		trusted    bool
		validating bool
		checkName  string // "" when not trusted
	}{
		{"defaults", []string{"--resolver=" + env.ValidatingResolver}, dane.ModeEnforce, false, false, ""},
		{"dane flag", []string{"--resolver=" + env.ValidatingResolver, "--dane=off"}, dane.ModeOff, false, false, ""},
		{"trust flag, check name flag", []string{"--resolver=" + env.ValidatingResolver, "--dns.trust-ad", "--dns.validation-check-name=DNSSEC.test."},
			dane.ModeEnforce, true, true, "dnssec.test"},
		// The root zone by default; nsd is not authoritative for it.
		{"trust flag alone", []string{"--resolver=" + env.Resolver, "--dns.trust-ad"}, dane.ModeEnforce, true, false, "."},
		{"config", []string{"--resolver=" + env.ValidatingResolver, "--config.file=" + lab}, dane.ModeReport, true, true, "dnssec.test"},
		{"check name flag over config", []string{"--resolver=" + env.ValidatingResolver, "--config.file=" + lab, "--dns.validation-check-name=."},
			dane.ModeReport, true, false, "."},
		{"flags over config", []string{"--resolver=" + env.ValidatingResolver, "--config.file=" + lab, "--no-dns.trust-ad", "--dane=enforce"},
			dane.ModeEnforce, false, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("mx_exporter", "")
			c := addProbeCommand(app)
			if _, err := app.Parse(append(append([]string{"probe"}, tt.args...), "ee.dnssec.test")); err != nil {
				t.Fatalf("parse %q: %v", tt.args, err)
			}
			_, s, err := c.prepare()
			if err != nil {
				t.Fatalf("prepare %q: %v", tt.args, err)
			}
			// A short deadline: a self-check that cannot pass (unbound
			// has no root trust anchor and no internet) need not run out
			// its timeouts for the name it asks to show.
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			defer cancel()
			v := s.Resolver.Validation(ctx)
			if s.DANE != tt.dane || v.Trusted != tt.trusted || v.Validating != tt.validating || v.CheckName != tt.checkName {
				t.Fatalf("%q: dane %q, validation %+v; want dane %q, trusted %v, validating %v, check name %q",
					tt.args, s.DANE, v, tt.dane, tt.trusted, tt.validating, tt.checkName)
			}
		})
	}
}

func TestProbeCommandDNSSECUsageErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("dns:\n  trust_ad: true\n  validation_check_name: dnssec..test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"bad dane", []string{"probe", "--dane=strict", "good.test"}, "strict"},
		{"bad check name", []string{"probe", "--dns.validation-check-name=dnssec..test", "good.test"},
			`--dns.validation-check-name: must be a DNS name like example.com, or "." for the root zone, got "dnssec..test"`},
		{"check name an IP address", []string{"probe", "--dns.validation-check-name=127.0.53.2", "good.test"},
			`--dns.validation-check-name: must be the name of a signed zone like example.com, or "." for the root zone, got the IP address "127.0.53.2"`},
		{"bad check name in config", []string{"probe", "--config.file=" + bad, "good.test"},
			bad + `:3: dns.validation_check_name: must be a DNS name like example.com, or "." for the root zone, got "dnssec..test"`},
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

// TestProbeCommandDANE: the exit status follows the DANE verdict as the
// flags ask, through the validating unbound. mismatch.dnssec.test publishes
// the TLSA record of a key its server does not use; ee.dnssec.test that of
// the key it uses.
func TestProbeCommandDANE(t *testing.T) {
	env := testenv.Require(t)
	trust := []string{"--dns.trust-ad", "--dns.validation-check-name=dnssec.test"}
	tests := []struct {
		name   string
		args   []string
		code   int
		reason string      // of the one address
		status dane.Status // "" when DANE is not looked at
	}{
		{"not trusted: not checked, never a failure", []string{"mismatch.dnssec.test"}, exitOK, "", dane.StatusNotChecked},
		{"mismatch enforced", append(trust, "mismatch.dnssec.test"), exitFailure, "dane_mismatch", dane.StatusMismatch},
		{"mismatch reported", append(trust, "--dane=report", "mismatch.dnssec.test"), exitOK, "", dane.StatusMismatch},
		{"dane off", append(trust, "--dane=off", "mismatch.dnssec.test"), exitOK, "", ""},
		{"match", append(trust, "ee.dnssec.test"), exitOK, "", dane.StatusPass},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			// The test zones have no mailboxes: the envelope stops at MAIL
			// FROM, which is all DANE needs.
			args := append([]string{"probe", "--resolver=" + env.ValidatingResolver, "--ehlo=probe.mx-exporter.test",
				"--timeout=10s", "--ignore-special-addresses", "--json"}, tt.args...)
			code := run(context.Background(), args, &stdout, &stderr)
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, stdout.String(), stderr.String())
			}
			var doc report.Document
			if err := json.Unmarshal(stdout.Bytes(), &doc); err != nil {
				t.Fatalf("--json output is not one JSON document: %v\n%s", err, stdout.String())
			}
			if len(doc.Hosts) != 1 || len(doc.Hosts[0].Addresses) != 1 {
				t.Fatalf("want one MX host with one address, got %+v", doc.Hosts)
			}
			a := doc.Hosts[0].Addresses[0]
			var status dane.Status
			if a.DANE != nil {
				status = a.DANE.Status
			}
			if string(a.Reason) != tt.reason || status != tt.status {
				t.Fatalf("reason %q, dane status %q; want %q, %q\n%s", a.Reason, status, tt.reason, tt.status, stdout.String())
			}
		})
	}
}

// TestReloadTrustAD: a reload that turns dns.trust_ad on, with the check
// name of the test zone, brings a resolver whose AD bit counts: the DANE
// mismatch that was "not checked" now fails the target, and the self-check
// series appears. A reload with a check name the resolver cannot vouch for
// keeps trusting it only as far as the self-check allows: not validating,
// not checked again.
func TestReloadTrustAD(t *testing.T) {
	env := testenv.Require(t)
	config := func(dns string) string {
		return fmt.Sprintf(`dns:
  resolvers: [%q]
%smodules:
  default:
    ehlo: probe.mx-exporter.test
    interval: 2s
    timeout: 2s
    ignore_special_addresses: true
targets:
  - domain: mismatch.dnssec.test
`, env.ValidatingResolver, dns)
	}
	const (
		success    = `mx_target_success{domain="mismatch.dnssec.test"}`
		validating = `mx_dnssec_resolver_validating{domain="mismatch.dnssec.test"}`
	)
	d := startDaemon(t, config(""))
	waitFor(t, 15*time.Second, "mismatch.dnssec.test to be probed without trust_ad", func() bool {
		_, body := d.get(t, "/metrics")
		v, ok := metricValue(body, success)
		_, trusted := metricValue(body, validating)
		return ok && v == "1" && !trusted
	})

	d.writeConfig(t, config("  trust_ad: true\n  validation_check_name: dnssec.test\n"))
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	waitFor(t, 15*time.Second, "the DANE mismatch to fail the target once trust_ad is on", func() bool {
		_, body := d.get(t, "/metrics")
		s, _ := metricValue(body, success)
		v, _ := metricValue(body, validating)
		return s == "0" && v == "1"
	})

	// unsigned.test is in the resolver's reach but not signed: no AD.
	d.writeConfig(t, config("  trust_ad: true\n  validation_check_name: unsigned.test\n"))
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	waitFor(t, 15*time.Second, "the new self-check name to be asked, and fail", func() bool {
		_, body := d.get(t, "/metrics")
		s, _ := metricValue(body, success)
		v, _ := metricValue(body, validating)
		return s == "1" && v == "0"
	})
}

// TestStatusPageDANE: /status says, in each address's DANE block, whether
// the TLSA RRset or its denial was DNSSEC-secure, as the validating unbound
// found it: a match (ee), a TLSA RRset whose signature was tampered with
// (bogus), a signed zone without TLSA records (secure).
func TestStatusPageDANE(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, env.ValidatingConfig(nil, "targets:\n  - domain: ee.dnssec.test\n  - domain: bogus.dnssec.test\n  - domain: secure.dnssec.test\n  - domain: insecuretlsa.dnssec.test\n"))
	want := map[string]string{
		"mx.ee.dnssec.test":     `<span class="badge good" data-dane="pass">pass</span>`,
		"mx.bogus.dnssec.test":  `<span class="badge bad" data-dane="tlsa_bogus">TLSA BOGUS</span>`,
		"mx.secure.dnssec.test": `data-dane="no_tlsa"`,
		// The TLSA RRset is insecure (a CNAME into an unsigned zone):
		// DANE does not apply.
		"mx.insecuretlsa.dnssec.test": `data-dane="insecure"`,
	}
	var page string
	waitFor(t, 15*time.Second, "/status to show the DANE verdict of every target", func() bool {
		code, body := d.get(t, "/status")
		page = body
		if code != http.StatusOK {
			return false
		}
		for mx, badge := range want {
			if !strings.Contains(addressRow(body, mx), badge) {
				return false
			}
		}
		return true
	})
	for mx, line := range map[string]string{
		"mx.ee.dnssec.test":           `<div class="detail dnssec good">DNSSEC: TLSA records secure (DNSSEC-validated)</div>`,
		"mx.bogus.dnssec.test":        `<div class="detail dnssec bad">DNSSEC: TLSA records BOGUS: DNSSEC validation failed, validating resolvers answer SERVFAIL</div>`,
		"mx.secure.dnssec.test":       `<div class="detail dnssec good">DNSSEC: the denial of TLSA records secure (DNSSEC-validated)</div>`,
		"mx.insecuretlsa.dnssec.test": `DNSSEC: TLSA records insecure (not DNSSEC-signed)</div>`,
	} {
		if row := addressRow(page, mx); !strings.Contains(row, line) {
			t.Errorf("the /status row of %s lacks %s:\n%s", mx, line, row)
		}
	}
}

// addressRow is the table row of the first address of MX host mx on the
// /status page, "" when there is none.
func addressRow(page, mx string) string {
	i := strings.Index(page, `data-mx="`+mx+`"`)
	if i < 0 {
		return ""
	}
	row := page[i:]
	if end := strings.Index(row, "</tr>"); end >= 0 {
		row = row[:end]
	}
	return row
}
