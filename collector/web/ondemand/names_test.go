package ondemand

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv/fakedns"
	"github.com/mx-exporter/mx_exporter/collector/wiring"
	"github.com/mx-exporter/mx_exporter/config"
)

// fakeDNSHandler serves /probe for cfgText with a fake DNS server that
// counts the questions it gets: the tests below are about questions that
// must never be asked, which a real server cannot tell.
func fakeDNSHandler(t *testing.T, cfgText string, z *fakedns.Zone) *Handler {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgText), "probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := dnsmx.NewResolver([]string{fakedns.Serve(t, z)}, time.Second, 1)
	if err != nil {
		t.Fatal(err)
	}
	settings, err := wiring.Settings(cfg, r)
	if err != nil {
		t.Fatal(err)
	}
	gen := &Generation{Settings: settings, Allow: NewAllowlist(cfg)}
	return &Handler{
		Current: func() *Generation { return gen },
		Prober:  &probe.Prober{},
		Logger:  slog.New(slog.DiscardHandler),
	}
}

// A target that is not a plain host name or IP address is a 400 before the
// allow-list and before any question: the name the allow-list would judge
// must be the name the resolver asks.
func TestProbeRefusesTargetsThatAreNotPlainNames(t *testing.T) {
	z := &fakedns.Zone{Records: fakedns.Parse(t, `
x\.allowed.test.  MX  10 mx.outside.test.
mx.outside.test.  A   127.0.0.1
`)}
	h := fakeDNSHandler(t, "modules:\n  default:\n    timeout: 2s\nprobe_endpoint:\n  allow:\n    domains: [allowed.test]\n    hosts: [\"*.allowed.test\"]\n    networks: [\"::1/128\"]\n", z)
	tests := []struct{ target, want string }{
		{`x\.allowed.test`, "contains a backslash"},
		{`x\046allowed.test`, "contains a backslash"},
		{`x\.allowed.test:25`, "contains a backslash"},
		{"[ ::1]:25", "contains whitespace"},
		{" allowed.test", "contains whitespace"},
		{"allowed.test\n", "contains whitespace"},
		{"mx.allowed.test\t:25", "contains whitespace"},
		{"[fe80::1%eth0]:25", "names an IPv6 zone"},
		{strings.Repeat("a", 64) + ".allowed.test", "has a label of 64 octets; a label has at most 63"},
		{strings.Repeat("a.", 122) + "allowed.test", "the host is 256 octets long; a host name has at most 253"},
		{strings.Repeat("a.", 200) + "allowed.test", "is 412 bytes long; a target is a host name of at most 253 octets"},
	}
	for _, tt := range tests {
		code, body := get(t, h, "target="+url.QueryEscape(tt.target), nil)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) {
			t.Errorf("target %.40q: status %d, body %q; want 400 with %q", tt.target, code, body, tt.want)
		}
	}
	if n := z.Total(""); n != 0 {
		t.Fatalf("%d DNS questions for refused targets: %q", n, z.Questions(""))
	}
}

// A huge target is refused at once, and the answer does not echo it: a
// 900 kB target once made an 8 MB answer.
func TestProbeRefusesHugeTargetFast(t *testing.T) {
	z := &fakedns.Zone{}
	h := fakeDNSHandler(t, "probe_endpoint:\n  allow:\n    domains: [allowed.test]\n", z)
	target := strings.Repeat("a.", 450_000) + "allowed.test"
	start := time.Now()
	code, body := get(t, h, "target="+target, nil)
	took := time.Since(start)
	t.Logf("a %d-byte target: status %d in %s, an answer of %d bytes", len(target), code, took, len(body))
	if code != http.StatusBadRequest || !strings.Contains(body, "is 900012 bytes long") {
		t.Fatalf("status %d, body %.200q; want 400 saying how long the target is", code, body)
	}
	if len(body) > 512 {
		t.Errorf("answer of %d bytes: it must not echo the target", len(body))
	}
	// Generous for a loaded machine: the check reads the length only.
	if took > time.Second {
		t.Errorf("refusing a %d-byte target took %s", len(target), took)
	}
	if z.Total("") != 0 {
		t.Fatalf("the huge target was asked: %q", z.Questions(""))
	}
}
