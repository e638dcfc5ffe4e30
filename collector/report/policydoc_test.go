package report

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
)

func TestDocumentJSONMTASTSGolden(t *testing.T) {
	for _, tc := range policyScenarios {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.MarshalIndent(NewDocument(tc.rep()), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name+".json", append(b, '\n'))
		})
	}
}

// TestDocumentMTASTS reads the JSON back: the facts a dashboard or a
// script needs are where the schema says.
func TestDocumentMTASTS(t *testing.T) {
	read := func(rep *probe.Report) Document {
		t.Helper()
		b, err := json.Marshal(NewDocument(rep))
		if err != nil {
			t.Fatal(err)
		}
		var doc Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc
	}
	doc := read(uncoveredReport())
	m := doc.MTASTS
	switch {
	case m == nil || m.Status != mtasts.StatusMXUncovered || !m.Failure || m.Mode != mtasts.ModeEnforce:
		t.Fatalf("uncovered mta_sts: got %+v", m)
	case len(m.RefusedHosts) != 1 || m.RefusedHosts[0] != "mx.tls.test":
		t.Fatalf("refused_hosts: got %v", m.RefusedHosts)
	case !m.TXT.Valid || m.TXT.ID != "uncovered1" || m.TXT.STSRecords != 1 || m.TXT.Name != "_mta-sts.uncovered.sts.test":
		t.Fatalf("txt: got %+v", m.TXT)
	case m.Policy == nil || m.Policy.Mode != mtasts.PolicyEnforce || m.Policy.MaxAgeSeconds == nil || *m.Policy.MaxAgeSeconds != 604800 ||
		m.Policy.Fetch.HTTPStatus != 200 || m.Policy.Fetch.TLS == nil || !m.Policy.Fetch.TLS.Verified || len(m.Policy.SHA256) != 64:
		t.Fatalf("policy: got %+v", m.Policy)
	case m.PolicyHost == nil || m.PolicyHost.Addresses[0] != "127.0.4.1":
		t.Fatalf("policy_host: got %+v", m.PolicyHost)
	}
	if h := doc.Hosts[0].MTASTS; h == nil || !h.Covered || h.Pattern != "mx1.good.test" || len(h.TLS) != 1 || h.TLS[0] != (AddressTLS{IP: "127.0.1.1", Status: mtasts.TLSValid}) {
		t.Fatalf("mx1 mta_sts: got %+v", h)
	}
	if h := doc.Hosts[1].MTASTS; h == nil || h.Covered || h.Pattern != "" || h.TLS != nil || doc.Hosts[1].Addresses[0].Reason != smtp.ReasonMTASTSUncovered {
		t.Fatalf("mx.tls.test: mta_sts %+v, reason %q", h, doc.Hosts[1].Addresses[0].Reason)
	}
	if r := doc.TLSRPT; r == nil || r.Valid || r.Defect != tlsrpt.DefectRUAMissing || r.TLSRPTRecords != 1 {
		t.Fatalf("tls_rpt: got %+v", r)
	}

	invalid := read(syntaxReport()).MTASTS.Policy
	want := []PolicyDefect{{mtasts.DefectModeInvalid, true}, {mtasts.DefectLineInvalid, true}, {mtasts.DefectContentType, false}}
	if invalid.Valid || invalid.Mode != "" || len(invalid.Defects) != 3 || invalid.Defects[0] != want[0] || invalid.Defects[1] != want[1] || invalid.Defects[2] != want[2] {
		t.Fatalf("syntax policy: got %+v", invalid)
	}
	unfetchable := read(expiredHostReport()).MTASTS.Policy
	if unfetchable.Fetch.Error != mtasts.FetchTLSVerify || unfetchable.SHA256 != "" || unfetchable.MaxAgeSeconds != nil || unfetchable.Fetch.HTTPStatus != 0 {
		t.Fatalf("unfetchable policy: got %+v", unfetchable)
	}
	cached := read(cachedReport()).MTASTS
	if !cached.Policy.Cached || cached.PolicyHost != nil || !cached.Policy.Fetch.Start.Equal(start.Add(-12*time.Minute)) {
		t.Fatalf("cached policy: got %+v, policy_host %+v", cached.Policy, cached.PolicyHost)
	}
	if none := read(noPolicyReport()); none.MTASTS.Policy != nil || none.MTASTS.TXT.STSRecords != 0 || none.TLSRPT.Outcome != dnsmx.OutcomeNXDomain {
		t.Fatalf("no policy: mta_sts %+v, tls_rpt %+v", none.MTASTS, none.TLSRPT)
	}

	// A host target, or a module with mta_sts off, gets none of the keys.
	b, err := json.Marshal(NewDocument(sampleReport()))
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"mta_sts"`, `"tls_rpt"`} {
		if bytes.Contains(b, []byte(key)) {
			t.Errorf("a report without MTA-STS carries %s", key)
		}
	}
}
