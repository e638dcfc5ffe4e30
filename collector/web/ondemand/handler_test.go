package ondemand

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/wiring"
	"github.com/mx-exporter/mx_exporter/config"
)

// newHandler serves /probe for cfgText with the test resolver.
func newHandler(t testing.TB, env *testenv.Env, cfgText string) *Handler {
	t.Helper()
	cfg, err := config.Parse([]byte(cfgText), "probe.yml")
	if err != nil {
		t.Fatal(err)
	}
	r, err := dnsmx.NewResolver([]string{env.Resolver}, 2*time.Second, 2)
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

func get(t *testing.T, h http.Handler, query string, header http.Header) (int, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodGet, "/probe?"+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	body, _ := io.ReadAll(rec.Body)
	return rec.Code, string(body)
}

const probeConfig = `modules:
  default:
    ehlo: probe.mx-exporter.test
    timeout: 5s
    recipients: [postmaster@good.test]
    relay_check: relay-check@outside.test
  submission:
    ehlo: probe.mx-exporter.test
    port: 587
targets:
  - domain: good.test
probe_endpoint:
  allow:
    domains: [relay.test]
    # The test servers are on loopback, which /probe does not dial for
    # an allowed domain by default (resolved_test.go tests that).
    resolved_addresses: any
`

func TestProbeAnswersMetricsOfOneProbe(t *testing.T) {
	env := testenv.Require(t)
	h := newHandler(t, env, probeConfig)
	code, body := get(t, h, "target=good.test&module=default", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200: %s", code, body)
	}
	for _, want := range []string{
		`mx_target_success{domain="good.test"} 1`,
		`mx_smtp_reply_code{command="banner",domain="good.test",ip="127.0.1.1",mx="mx1.good.test"} 220`,
		`mx_smtp_recipient_accepted{domain="good.test",ip="127.0.1.2",mx="mx2.good.test",recipient="postmaster@good.test"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Fatalf("/probe answer lacks %s:\n%s", want, body)
		}
	}
	problems, err := promlint.New(strings.NewReader(body)).Lint()
	if err != nil || len(problems) > 0 {
		t.Fatalf("promlint: %v %v", err, problems)
	}

	// An allowed domain that is not a configured target.
	code, body = get(t, h, "target=relay.test", nil)
	if code != http.StatusOK || !strings.Contains(body, `mx_smtp_open_relay{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 1`) {
		t.Fatalf("relay.test: status %d, want 200 and the open relay:\n%s", code, body)
	}
}

func TestProbeRefusesWhatItMayNotProbe(t *testing.T) {
	env := testenv.Require(t)
	h := newHandler(t, env, probeConfig)
	tests := []struct {
		query string
		code  int
		want  string
	}{
		{"module=default", http.StatusBadRequest, "target parameter is missing"},
		{"target=good.test&module=smtps", http.StatusBadRequest, `unknown module "smtps"; known modules: default, submission`},
		{"target=reject.test", http.StatusForbidden, `domain "reject.test" is neither a configured target nor under probe_endpoint.allow.domains`},
		{"target=127.0.1.1:25", http.StatusForbidden, "address 127.0.1.1 is neither a configured target nor in probe_endpoint.allow.networks"},
		{"target=mx1.good.test:22", http.StatusForbidden, "port 22 is neither the module's port 25"},
		{"target=good.test:99999", http.StatusBadRequest, `port must be a number from 1 to 65535, got "99999"`},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			code, body := get(t, h, tt.query, nil)
			if code != tt.code || !strings.Contains(body, tt.want) {
				t.Fatalf("status %d body %q; want %d with %q", code, body, tt.code, tt.want)
			}
		})
	}
	req := httptest.NewRequest(http.MethodPost, "/probe?target=good.test", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusMethodNotAllowed {
		t.Fatalf("POST: status %d, want 405", rec.Code)
	}
}

func TestProbeDebugShowsTranscriptAndLog(t *testing.T) {
	env := testenv.Require(t)
	h := newHandler(t, env, probeConfig)
	code, body := get(t, h, "target=good.test&debug=true", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d: %s", code, body)
	}
	for _, want := range []string{"Logs:", `msg="probe finished"`, "C: EHLO probe.mx-exporter.test", "S: 220 mx1.good.test", "OK good.test"} {
		if !strings.Contains(body, want) {
			t.Fatalf("debug answer lacks %q:\n%s", want, body)
		}
	}
}

// TestProbeHonoursScrapeTimeout uses a fake server that accepts and never
// greets: Postfix cannot be made to stay silent.
func TestProbeHonoursScrapeTimeout(t *testing.T) {
	env := testenv.Require(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, silent, until the listener closes
		}
	}()
	port := l.Addr().(*net.TCPAddr).Port
	h := newHandler(t, env, fmt.Sprintf("modules:\n  default:\n    timeout: 10s\n    interval: 1m\nprobe_endpoint:\n  allow:\n    networks: [127.0.0.0/8]\n    ports: [%d]\n", port))
	h.TimeoutOffset = 250 * time.Millisecond

	start := time.Now()
	code, body := get(t, h, "target="+url.QueryEscape(l.Addr().String()), http.Header{"X-Prometheus-Scrape-Timeout-Seconds": {"1.25"}})
	took := time.Since(start)
	if code != http.StatusOK || !strings.Contains(body, `reason="banner_timeout"`) {
		t.Fatalf("status %d, want 200 with reason banner_timeout:\n%s", code, body)
	}
	// The probe had 1.25 s - 0.25 s; the module's 10 s must not apply.
	if took > 3*time.Second {
		t.Fatalf("the probe took %v: the scrape timeout header was not honoured", took)
	}
}
