package report

import (
	"encoding/json"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
)

func TestDocumentJSONIdentityGolden(t *testing.T) {
	for _, tc := range identityScenarios {
		t.Run(tc.name, func(t *testing.T) {
			b, err := json.MarshalIndent(NewDocument(tc.rep()), "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			identityGolden(t, tc.name+".json", append(b, '\n'))
		})
	}
}

// TestDocumentIdentity reads the JSON back: the facts a script needs are
// where the schema says, and absent where nothing was looked up.
func TestDocumentIdentity(t *testing.T) {
	read := func(rep *probe.Report) (Document, string) {
		t.Helper()
		b, err := json.Marshal(NewDocument(rep))
		if err != nil {
			t.Fatal(err)
		}
		var doc Document
		if err := json.Unmarshal(b, &doc); err != nil {
			t.Fatal(err)
		}
		return doc, string(b)
	}
	doc, _ := read(relayReport())
	h := doc.Hosts[0]
	a := h.Addresses[0]
	switch {
	case a.Reverse == nil || a.Reverse.Status != rdns.StatusConfirmed || a.Reverse.Name != "mail.other.test" ||
		a.Reverse.PTR.Query != "3.1.0.127.in-addr.arpa" || len(a.Reverse.Forward) != 1 || !a.Reverse.Forward[0].Confirmed:
		t.Fatalf("reverse: got %+v", a.Reverse)
	case a.Names == nil || a.Names.Agree || len(a.Names.Mismatches) != 2 || a.Names.Mismatches[0] != rdns.PairBannerPTR ||
		a.Names.Detail != "banner and MX say mx.relay.test, PTR says mail.other.test":
		t.Fatalf("names: got %+v", a.Names)
	case len(a.DNSBL) != 1 || a.DNSBL[0].Verdict != dnsbl.VerdictListed || a.DNSBL[0].Zone != "bl.test" ||
		a.DNSBL[0].Codes[0] != "127.0.0.4" || a.DNSBL[0].Reason != "127.0.1.3 listed: open relay (test listing)" ||
		a.DNSBL[0].Checked == nil || !a.DNSBL[0].Checked.Equal(start) || a.DNSBL[0].Query != "3.1.0.127.bl.test":
		t.Fatalf("dnsbl: got %+v", a.DNSBL)
	case len(h.DNSBL) != 1 || h.DNSBL[0].Zone != "dbl.test" || h.DNSBL[0].Verdict != dnsbl.VerdictListed:
		t.Fatalf("host dnsbl: got %+v", h.DNSBL)
	case h.IPParity != probe.ParityIPv4Only || doc.IPv6MXHosts == nil || *doc.IPv6MXHosts != 0:
		t.Fatalf("parity: got %q and %v IPv6 MX hosts", h.IPParity, doc.IPv6MXHosts)
	}

	doc, _ = read(greylistReport())
	if r := doc.Hosts[0].Addresses[0].DNSBL[0]; r.Verdict != dnsbl.VerdictError || r.Error != dnsbl.ErrorRefusedQuery || r.Codes[0] != "127.255.255.254" {
		t.Fatalf("greylist dnsbl: want error query_refused with its code, got %+v", r)
	}
	doc, _ = read(v6brokenReport())
	if doc.Hosts[0].IPParity != probe.ParityIPv6Failing || *doc.IPv6MXHosts != 1 || doc.Hosts[0].Addresses[1].Reverse.PTR.Query != reverseName(netip.IPv6Loopback()) {
		t.Fatalf("v6broken: got parity %q, %d IPv6 MX hosts, %+v", doc.Hosts[0].IPParity, *doc.IPv6MXHosts, doc.Hosts[0].Addresses[1].Reverse)
	}
	doc, _ = read(goodReport())
	if r := doc.Hosts[1].Addresses[0].DNSBL[0]; !r.Cached || !r.Checked.Equal(start.Add(-4*time.Minute)) {
		t.Fatalf("cached dnsbl: got %+v", r)
	}

	// Nothing looked up: none of the keys.
	_, raw := read(sampleReport())
	for _, key := range []string{`"reverse"`, `"names"`, `"dnsbl"`, `"ip_parity"`, `"ipv6_mx_hosts"`} {
		if strings.Contains(raw, key) {
			t.Fatalf("a report without reverse DNS, lists or parity has %s:\n%s", key, raw)
		}
	}
}
