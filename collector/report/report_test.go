package report

import (
	"bytes"
	"encoding/json"
	"flag"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/prober"
	"github.com/mx-exporter/mx_exporter/collector/smtp"
	"github.com/mx-exporter/mx_exporter/collector/tlscheck"
)

var update = flag.Bool("update", false, "rewrite the golden files")

var start = time.Date(2026, 11, 23, 3, 0, 0, 0, time.UTC)

func msec(n float64) time.Duration { return time.Duration(n * float64(time.Millisecond)) }

// sampleReport is a domain with a healthy TLS MX and a dead one behind it.
func sampleReport() *prober.Report {
	ok := &smtp.Result{
		Host: "mx1.example.test", Addr: "192.0.2.1", Port: 25, Start: start, Duration: msec(12.5), Success: true,
		Banner:         smtp.Reply{Code: 220, Lines: []string{"mx1.example.test ESMTP"}},
		BannerHostname: "mx1.example.test",
		Steps: []smtp.Step{
			{Name: smtp.StepConnect, Duration: msec(0.4)},
			{Name: smtp.StepBanner, Reply: smtp.Reply{Code: 220}, Duration: msec(1)},
			{Name: smtp.StepEHLO, Sent: "EHLO probe.test", Reply: smtp.Reply{Code: 250}, Duration: msec(0.5)},
			{Name: smtp.StepRcpt, Sent: "RCPT TO:<postmaster@example.test>", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Duration: msec(0.7)},
		},
		Extensions: &smtp.Extensions{Greeting: "mx1.example.test", Keywords: []smtp.Keyword{{Name: "SIZE", Params: "10240000"}, {Name: "STARTTLS"}, {Name: "PIPELINING"}}, SizeAdvertised: true, Size: 10240000},
		TLS: &tlscheck.Info{Version: "TLS 1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ServerName: "mx1.example.test",
			LeafNotAfter: start.Add(30 * 24 * time.Hour), ChainNotAfter: start.Add(30 * 24 * time.Hour), Verified: true},
		Recipients: []smtp.Recipient{{Address: "postmaster@example.test", Reply: smtp.Reply{Code: 250, Enhanced: "2.1.5"}, Accepted: true}},
		Relay:      &smtp.Relay{Address: "relay@outside.test", Reply: smtp.Reply{Code: 554, Enhanced: "5.7.1"}, Verdict: smtp.RelayRefused},
		Transcript: []smtp.Line{
			{At: msec(0.4), Dir: smtp.Note, Text: "connected to 192.0.2.1:25"},
			{At: msec(1.4), Dir: smtp.Received, Text: "220 mx1.example.test ESMTP"},
			{At: msec(1.5), Dir: smtp.Sent, Text: "EHLO probe.test"},
			{At: msec(2), Dir: smtp.Received, Text: "550 5.1.1 pretend"},
		},
	}
	dead := &smtp.Result{
		Host: "mx2.example.test", Addr: "192.0.2.2", Port: 25, Start: start, Duration: msec(0.3),
		Reason: smtp.ReasonConnectRefused, Detail: "nothing listens on 192.0.2.2:25 (connection refused)",
		Steps: []smtp.Step{{Name: smtp.StepConnect, Duration: msec(0.3), Err: "connection refused"}},
	}
	return &prober.Report{
		Target: prober.Target{Domain: "example.test"}, Start: start, Duration: msec(15),
		DNS: &dnsmx.Domain{Name: "example.test", Outcome: dnsmx.OutcomeAnswer, Rcode: "NOERROR", Duration: msec(1.2), Server: "127.0.53.1:53",
			Notes: []string{"MX host mx2.example.test listed at preferences 20 and 30: kept 20"}},
		Hosts: []prober.HostReport{
			{Host: dnsmx.Host{Name: "mx1.example.test", Preference: 10, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.1")}}, Results: []*smtp.Result{ok}},
			{Host: dnsmx.Host{Name: "mx2.example.test", Preference: 20, Addrs: []netip.Addr{netip.MustParseAddr("192.0.2.2")}}, Results: []*smtp.Result{dead}},
			{Host: dnsmx.Host{Name: "mx3.example.test", Preference: 30, Outcome: dnsmx.OutcomeNoData, Err: "no A or AAAA record"}},
		},
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s differs from the rendering:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func TestWriteTextGolden(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport(), false); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(buf.Bytes(), []byte("\x1b[")) {
		t.Fatalf("plain rendering contains ANSI escapes")
	}
	golden(t, "example.test.txt", buf.Bytes())
}

func TestWriteTextColour(t *testing.T) {
	var buf bytes.Buffer
	if err := WriteText(&buf, sampleReport(), true); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		colours.sent + "C: EHLO probe.test",
		colours.bad + "S: 550 5.1.1 pretend",
		colours.bad + "FAIL connect_refused",
	} {
		if !strings.Contains(out, want) {
			t.Fatalf("coloured rendering lacks %q", want)
		}
	}
}

func TestDocumentJSON(t *testing.T) {
	b, err := json.MarshalIndent(NewDocument(sampleReport()), "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "example.test.json", append(b, '\n'))

	var doc Document
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("the JSON does not read back: %v", err)
	}
	if doc.Success || doc.Kind != "domain" || len(doc.Hosts) != 3 || doc.Hosts[1].Addresses[0].Reason != smtp.ReasonConnectRefused {
		t.Fatalf("read back %+v, want a failed domain with 3 hosts and connect_refused on the second", doc)
	}
}
