package main

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestProbeCommandMTASTS: `probe` against the real sts.test scenarios (nsd,
// the nginx policy hosts, the Postfix MX hosts) with the test CA: the exit
// status follows the verdict, and the text names the MX host and says what
// senders do.
func TestProbeCommandMTASTS(t *testing.T) {
	env := testenv.Require(t)
	tests := []struct {
		domain string
		code   int
		want   []string // lines the report must contain
	}{
		{"uncovered.sts.test", exitFailure, []string{
			"MTA-STS: MX NOT COVERED: enforce policy id uncovered1",
			"does not cover MX mx.tls.test",
			"MX 20 mx.tls.test: NOT COVERED: the host matches no mx pattern of the policy",
			"MX 10 mx1.good.test: covered by mx pattern mx1.good.test",
			"FAIL mta_sts_mx_uncovered",
			"TLS-RPT: INVALID (rua_missing)",
		}},
		{"testing.sts.test", exitOK, []string{
			"MTA-STS: MX not covered: testing policy id testing1",
			"in mode testing senders still deliver and only report it through TLS-RPT",
			"MX 20 mx.tls.test: NOT COVERED",
			"TLS-RPT: INVALID (duplicate)",
		}},
		{"expiredmx.sts.test", exitFailure, []string{
			"MTA-STS: MX TLS INVALID: enforce policy id expiredmx1",
			"its certificate does not verify for mx.expired.test",
			"FAIL mta_sts_tls_invalid",
			"TLS-RPT: no record",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.domain, func(t *testing.T) {
			code, out, errOut := runProbe(t, env, "--tls.ca-file="+env.CAFile, tt.domain)
			if code != tt.code {
				t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tt.code, out, errOut)
			}
			for _, want := range tt.want {
				if !strings.Contains(out, want) {
					t.Fatalf("report lacks %q:\n%s", want, out)
				}
			}
		})
	}
}

// TestProbeCommandMTASTSJSON: the mta_sts and tls_rpt blocks of --json for
// uncovered.sts.test, field by field, and each MX host's coverage.
func TestProbeCommandMTASTSJSON(t *testing.T) {
	env := testenv.Require(t)
	code, out, errOut := runProbe(t, env, "--json", "--tls.ca-file="+env.CAFile, "uncovered.sts.test")
	if code != exitFailure {
		t.Fatalf("exit status %d, want %d; stderr: %s", code, exitFailure, errOut)
	}
	var doc report.Document
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("--json output is not one JSON document: %v\n%s", err, out)
	}
	m := doc.MTASTS
	if m == nil || m.Mode != mtasts.ModeEnforce || m.Status != mtasts.StatusMXUncovered || !m.Failure ||
		!strings.Contains(m.Detail, "does not cover MX mx.tls.test") || len(m.RefusedHosts) != 1 || m.RefusedHosts[0] != "mx.tls.test" {
		t.Fatalf("mta_sts %+v: want mode enforce, status mx_uncovered, failure, mx.tls.test refused", m)
	}
	if x := m.TXT; x.Name != "_mta-sts.uncovered.sts.test" || x.STSRecords != 1 || !x.Valid || x.ID != "uncovered1" ||
		len(x.Records) != 1 || x.Records[0] != "v=STSv1; id=uncovered1" || x.Defect != "" {
		t.Fatalf("mta_sts.txt %+v: want one valid record with id uncovered1", x)
	}
	if h := m.PolicyHost; h == nil || h.Name != "mta-sts.uncovered.sts.test" || len(h.Addresses) != 1 || h.Addresses[0] != "127.0.4.1" {
		t.Fatalf("mta_sts.policy_host %+v: want mta-sts.uncovered.sts.test at 127.0.4.1", h)
	}
	p := m.Policy
	if p == nil || p.Cached || p.ID != "uncovered1" || !p.Valid || len(p.SHA256) != 64 || p.Version != "STSv1" ||
		p.Mode != mtasts.PolicyEnforce || p.MaxAgeSeconds == nil || *p.MaxAgeSeconds != 604800 ||
		len(p.MX) != 1 || p.MX[0] != "mx1.good.test" || len(p.Defects) != 0 {
		t.Fatalf("mta_sts.policy %+v: want a fresh valid enforce policy, max_age 604800, mx mx1.good.test, no defect", p)
	}
	f := p.Fetch
	if f.URL != "https://mta-sts.uncovered.sts.test/.well-known/mta-sts.txt" || f.Address != "127.0.4.1:443" ||
		f.HTTPStatus != 200 || f.ContentType != "text/plain" || f.SizeBytes == 0 || f.Error != "" || f.Start.IsZero() {
		t.Fatalf("mta_sts.policy.fetch %+v: want 200 text/plain from 127.0.4.1:443", f)
	}
	if f.TLS == nil || !f.TLS.Verified || f.TLS.ServerName != "mta-sts.uncovered.sts.test" || f.TLS.ChainNotAfter.Before(time.Now()) {
		t.Fatalf("mta_sts.policy.fetch.tls %+v: want a verified certificate for mta-sts.uncovered.sts.test, not expired", f.TLS)
	}
	r := doc.TLSRPT
	if r == nil || r.Name != "_smtp._tls.uncovered.sts.test" || r.TLSRPTRecords != 1 || r.Valid || r.Defect != "rua_missing" ||
		r.DefectText == "" || len(r.RUA) != 0 || len(r.Records) != 1 || r.Records[0] != "v=TLSRPTv1" {
		t.Fatalf("tls_rpt %+v: want one record, invalid: rua_missing", r)
	}
	coverage := map[string]*report.HostMTASTS{}
	for _, h := range doc.Hosts {
		coverage[h.Name] = h.MTASTS
	}
	if c := coverage["mx1.good.test"]; c == nil || !c.Covered || c.Pattern != "mx1.good.test" || len(c.TLS) != 1 ||
		c.TLS[0].IP != "127.0.1.1" || c.TLS[0].Status != mtasts.TLSValid {
		t.Fatalf("hosts[mx1.good.test].mta_sts %+v: want covered by mx1.good.test, TLS valid at 127.0.1.1", c)
	}
	if c := coverage["mx.tls.test"]; c == nil || c.Covered || c.Pattern != "" || len(c.TLS) != 0 {
		t.Fatalf("hosts[mx.tls.test].mta_sts %+v: want not covered", c)
	}
}

// TestStatusPageMTASTS: /status shows a domain target's MTA-STS and
// TLS-RPT block as its last probe found it.
func TestStatusPageMTASTS(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, env.Config(nil, "targets:\n  - domain: uncovered.sts.test\n"))
	var page string
	waitFor(t, 15*time.Second, "/status to show the probe of uncovered.sts.test", func() bool {
		code, body := d.get(t, "/status")
		page = body
		return code == http.StatusOK && strings.Contains(body, `data-mta-sts="mx_uncovered"`)
	})
	for _, want := range []string{
		`<span class="badge bad" data-mta-sts-mark="bad">MTA-STS FAILS</span>`,
		"MTA-STS MX NOT COVERED",
		"enforce policy id uncovered1 (max_age 604800) does not cover MX mx.tls.test",
		"_mta-sts.uncovered.sts.test: valid, id uncovered1",
		"127.0.4.1:443: HTTP 200, text/plain",
		"certificate verified for mta-sts.uncovered.sts.test",
		"MTA-STS: NOT COVERED: the host matches no mx pattern of the policy",
		"MTA-STS: covered by mx pattern mx1.good.test",
		`<span class="label">TLS-RPT</span> <span class="warn">INVALID (rua_missing)`,
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("/status lacks %q:\n%s", want, page)
		}
	}
}
