package ondemand

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestTimeoutFromHeader: the scrape timeout header only ever shortens the
// module's timeout, and a value Prometheus cannot mean is ignored. Before,
// NaN, ±Inf and 1e-300 gave a probe without a deadline (30 s, smtp's
// default), and an unparsable value was a 400.
func TestTimeoutFromHeader(t *testing.T) {
	const module = 10 * time.Second
	h := &Handler{Logger: slog.New(slog.DiscardHandler), TimeoutOffset: 500 * time.Millisecond}
	for _, c := range []struct {
		header string
		want   time.Duration
	}{
		{"", module},
		{"5", 4500 * time.Millisecond},
		{"0.4", 400 * time.Millisecond}, // shorter than the offset: all of it
		{" 3 ", 2500 * time.Millisecond},
		{"10", 9500 * time.Millisecond},
		{"10.5", module},
		{"60", module},
		{"NaN", module},
		{"nan", module},
		{"+Inf", module},
		{"Inf", module},
		{"-Inf", module},
		{"0", module},
		{"-0", module},
		{"-5", module},
		{"1e-300", module},
		{"0.05", module}, // below minScrapeTimeout
		{"1e400", module},
		{"soon", module},
		{"5s", module},
	} {
		req := httptest.NewRequest(http.MethodGet, "/probe?target=good.test", nil)
		if c.header != "" {
			req.Header.Set("X-Prometheus-Scrape-Timeout-Seconds", c.header)
		}
		got := h.timeout(req, module)
		if got != c.want {
			t.Errorf("header %q: timeout %v, want %v", c.header, got, c.want)
		}
		if got <= 0 || got > module {
			t.Errorf("header %q: timeout %v outside (0, %v]", c.header, got, module)
		}
	}
}

// silentListener accepts connections and never greets, so that a probe of
// it lasts its whole timeout (a fake: Postfix cannot be made to stay silent).
func silentListener(t *testing.T) net.Listener {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		var conns []net.Conn
		defer func() {
			for _, c := range conns {
				c.Close()
			}
		}()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
		}
	}()
	return l
}

// TestProbeBeyondTheCapIsRefusedAtOnce: with MaxConcurrent probes in
// progress, the next request is answered 503 without waiting, and once
// they end, requests are served again. Before, /probe had no cap.
func TestProbeBeyondTheCapIsRefusedAtOnce(t *testing.T) {
	env := testenv.Require(t)
	// Three silent servers: the address gate lets one dialogue per address
	// at a time, and the cap is what is tested here.
	var ports []int
	for range 3 {
		ports = append(ports, silentListener(t).Addr().(*net.TCPAddr).Port)
	}
	h := newHandler(t, env, fmt.Sprintf("modules:\n  default:\n    timeout: 2s\n    interval: 1m\nprobe_endpoint:\n  allow:\n    networks: [127.0.0.0/8]\n    ports: [%d, %d, %d]\n", ports[0], ports[1], ports[2]))
	h.MaxConcurrent = 2

	var wg sync.WaitGroup
	for _, port := range ports[:2] {
		wg.Go(func() {
			code, body := get(t, h, "target="+url.QueryEscape(fmt.Sprintf("127.0.0.1:%d", port)), nil)
			if code != http.StatusOK {
				t.Errorf("a probe within the cap: status %d, want 200: %s", code, body)
			}
		})
	}
	deadline := time.Now().Add(5 * time.Second)
	for h.inFlight.Load() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("%d probes in progress, want 2", h.inFlight.Load())
		}
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	req := httptest.NewRequest(http.MethodGet, "/probe?target="+url.QueryEscape(fmt.Sprintf("127.0.0.1:%d", ports[2])), nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	took := time.Since(start)
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "too many probes at once") {
		t.Fatalf("beyond the cap: status %d %q, want 503 saying too many probes at once", rec.Code, rec.Body.String())
	}
	if rec.Header().Get("Retry-After") == "" {
		t.Fatal("the 503 has no Retry-After")
	}
	if took > time.Second {
		t.Fatalf("the 503 took %v: it must not wait for a slot", took)
	}
	wg.Wait()
	if n := h.inFlight.Load(); n != 0 {
		t.Fatalf("%d probes counted in progress after all ended, want 0", n)
	}
	// A bad request is refused for what it is, not counted.
	if code, body := get(t, h, "target=good.test&module=nope", nil); code != http.StatusBadRequest {
		t.Fatalf("unknown module: status %d, want 400: %s", code, body)
	}
}

// TestProbeDebugEscapesTheTarget: the debug answer is never sniffed as
// anything but text, and the caller's target is quoted, not echoed raw.
func TestProbeDebugEscapesTheTarget(t *testing.T) {
	env := testenv.Require(t)
	h := newHandler(t, env, probeConfig)
	req := httptest.NewRequest(http.MethodGet, "/probe?debug=true&target=good.test", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		t.Fatalf("status %d: %s", rec.Code, rec.Body.String())
	}
	if got := rec.Header().Get("X-Content-Type-Options"); got != "nosniff" {
		t.Fatalf("X-Content-Type-Options %q, want nosniff", got)
	}
	if !strings.Contains(rec.Body.String(), `Probe of "good.test" with module "default"`) {
		t.Fatalf("the debug answer does not quote the target:\n%s", rec.Body.String())
	}
}
