package mtasts

import (
	"context"
	"crypto/tls"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

// testDomain is the policy domain of the fetch tests; its policy host is
// mta-sts.good.test, served on 127.0.0.1.
const testDomain = "good.test"

var testCA = sync.OnceValue(func() *testcert.Cert {
	return testcert.New(testcert.Options{CommonName: "mtasts test CA", CA: true}, nil)
})

func serverCert(o testcert.Options) tls.Certificate {
	return testcert.New(o, testCA()).TLS()
}

func goodCert() tls.Certificate {
	return serverCert(testcert.Options{CommonName: "mta-sts." + testDomain, DNSNames: []string{"mta-sts." + testDomain}})
}

// policyServer serves handler over HTTPS on 127.0.0.1 with cert and counts
// the requests it sees.
type policyServer struct {
	*httptest.Server
	requests atomic.Int32
}

func newPolicyServer(t *testing.T, cert tls.Certificate, handler http.HandlerFunc) *policyServer {
	t.Helper()
	s := &policyServer{}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		handler(w, r)
	}))
	s.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	// The handshakes that the client ends on a bad certificate are
	// expected; the server's log of them is noise.
	s.Config.ErrorLog = log.New(io.Discard, "", 0)
	s.StartTLS()
	t.Cleanup(s.Close)
	return s
}

func portOf(t *testing.T, addr net.Addr) uint16 {
	t.Helper()
	ap, err := netip.ParseAddrPort(addr.String())
	if err != nil {
		t.Fatalf("listener address %s: %v", addr, err)
	}
	return ap.Port()
}

func fetchOpts(t *testing.T, addr net.Addr) FetchOptions {
	return FetchOptions{
		Domain:  testDomain,
		Addrs:   []netip.Addr{netip.MustParseAddr("127.0.0.1")},
		RootCAs: testCA().Pool(),
		Port:    portOf(t, addr),
	}
}

func servePolicy(contentType, body string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/.well-known/mta-sts.txt" || r.Host != "mta-sts."+testDomain && !strings.HasPrefix(r.Host, "mta-sts."+testDomain+":") {
			http.NotFound(w, r)
			return
		}
		if contentType != "" {
			w.Header().Set("Content-Type", contentType)
		}
		_, _ = w.Write([]byte(body))
	}
}

func TestFetchPolicy(t *testing.T) {
	big := validEnforce + strings.Repeat("padding: "+strings.Repeat("x", 60)+"\n", 70*1024/70)
	for _, tc := range []struct {
		name    string
		cert    tls.Certificate
		handler http.HandlerFunc
		check   func(t *testing.T, st State)
	}{
		{"200 text/plain", goodCert(), servePolicy("text/plain; charset=utf-8", validEnforce), func(t *testing.T, st State) {
			if st.Fetch.Err != "" || !st.Valid || st.Policy == nil || st.Policy.Mode != PolicyEnforce || len(st.Defects) != 0 {
				t.Fatalf("State = %+v, want a valid enforce policy without defects", st)
			}
			if st.Fetch.Status != 200 || st.Fetch.Size != len(validEnforce) || st.Fetch.ContentType != "text/plain; charset=utf-8" {
				t.Fatalf("Fetch = %+v, want status 200, size %d and the content type", st.Fetch, len(validEnforce))
			}
			if st.Fetch.TLS == nil || !st.Fetch.TLS.Verified || st.Fetch.TLS.ServerName != "mta-sts."+testDomain {
				t.Fatalf("Fetch.TLS = %+v, want verified for mta-sts.%s", st.Fetch.TLS, testDomain)
			}
			if st.Digest == [32]byte{} || st.Fetch.URL != "https://mta-sts.good.test/.well-known/mta-sts.txt" || !strings.HasPrefix(st.Fetch.Addr, "127.0.0.1:") {
				t.Fatalf("State = %+v, want a digest, the policy URL and the address", st)
			}
		}},
		{"text/html", goodCert(), servePolicy("text/html", validEnforce), func(t *testing.T, st State) {
			if !st.Valid || len(st.Defects) != 1 || st.Defects[0] != DefectContentType {
				t.Fatalf("State = %+v, want valid with the content_type warning", st)
			}
		}},
		{"charset latin1", goodCert(), servePolicy("text/plain; charset=iso-8859-1", validEnforce), func(t *testing.T, st State) {
			if !st.Valid || len(st.Defects) != 1 || st.Defects[0] != DefectContentType {
				t.Fatalf("State = %+v, want valid with the content_type warning", st)
			}
		}},
		{"invalid policy", goodCert(), servePolicy("text/plain", "version: STSv1\nmode: enforcing\nmx: a.test\nmax_age: 604800\n"), func(t *testing.T, st State) {
			if st.Valid || st.Fetch.Err != "" || st.Policy == nil || len(st.Defects) != 1 || st.Defects[0] != DefectModeInvalid {
				t.Fatalf("State = %+v, want fetched, invalid, mode_invalid", st)
			}
		}},
		{"301", goodCert(), func(w http.ResponseWriter, r *http.Request) {
			// A hostile target: long, with bytes that are no ASCII.
			w.Header().Set("Location", "https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt?\xff"+strings.Repeat("a", 4000))
			w.WriteHeader(http.StatusMovedPermanently)
		}, func(t *testing.T, st State) {
			if st.Fetch.Err != FetchRedirect || st.Fetch.Status != 301 || st.Valid || st.Policy != nil {
				t.Fatalf("State = %+v, want a redirect error", st)
			}
			want := "https://mta-sts.enforce.sts.test/.well-known/mta-sts.txt??aaa"
			if !strings.HasPrefix(st.Fetch.Location, want) || len(st.Fetch.Location) != maxQuoted+len("...") {
				t.Fatalf("Location = %q, want it to start %q, sanitised and cut at %d bytes", st.Fetch.Location, want, maxQuoted)
			}
		}},
		{"404", goodCert(), http.NotFound, func(t *testing.T, st State) {
			if st.Fetch.Err != FetchStatus || st.Fetch.Status != 404 || st.Valid || st.Policy != nil {
				t.Fatalf("State = %+v, want an http_status error", st)
			}
		}},
		{"70 KiB", goodCert(), servePolicy("text/plain", big), func(t *testing.T, st State) {
			if st.Fetch.Err != FetchTooLarge || st.Fetch.Size != MaxPolicyBytes+1 || st.Valid || st.Policy != nil {
				t.Fatalf("State = %+v (Size %d), want body_too_large after %d bytes", st.Fetch, st.Fetch.Size, MaxPolicyBytes+1)
			}
		}},
		{"wrong name", serverCert(testcert.Options{CommonName: "www.wrongname.test", DNSNames: []string{"www.wrongname.test"}}), servePolicy("text/plain", validEnforce),
			func(t *testing.T, st State) {
				if st.Fetch.Err != FetchTLSVerify || st.Valid || st.Policy != nil {
					t.Fatalf("State = %+v, want tls_verify_failed", st)
				}
				if st.Fetch.TLS == nil || st.Fetch.TLS.Verified || len(st.Fetch.TLS.LeafDNSNames) != 1 || st.Fetch.TLS.LeafDNSNames[0] != "www.wrongname.test" {
					t.Fatalf("Fetch.TLS = %+v, want the unverified certificate's facts", st.Fetch.TLS)
				}
			}},
		{"expired", serverCert(testcert.Options{CommonName: "mta-sts." + testDomain, DNSNames: []string{"mta-sts." + testDomain},
			NotBefore: time.Now().Add(-48 * time.Hour), NotAfter: time.Now().Add(-24 * time.Hour)}), servePolicy("text/plain", validEnforce),
			func(t *testing.T, st State) {
				if st.Fetch.Err != FetchTLSVerify || st.Fetch.TLS == nil || st.Fetch.TLS.Verified || !st.Fetch.TLS.LeafNotAfter.Before(time.Now()) {
					t.Fatalf("State = %+v, TLS %+v, want tls_verify_failed with the expired certificate's facts", st, st.Fetch.TLS)
				}
				if !strings.Contains(st.Fetch.Detail, "expired") {
					t.Fatalf("Detail = %q, want it to say the certificate expired", st.Fetch.Detail)
				}
			}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			srv := newPolicyServer(t, tc.cert, tc.handler)
			st := FetchPolicy(t.Context(), fetchOpts(t, srv.Listener.Addr()))
			if st.Fetch.Err != "" && st.Fetch.Detail == "" {
				t.Fatalf("Fetch = %+v, want a Detail with the error", st.Fetch)
			}
			tc.check(t, st)
			if n := srv.requests.Load(); n > 1 {
				t.Fatalf("the server saw %d requests, want at most one", n)
			}
			srv.Close()
			checkNoGoroutineLeft(t, before)
		})
	}
}

// checkNoGoroutineLeft fails when the goroutines do not come back to the
// count before the test: a fetch must close its connection before it
// returns. Goroutines of the closed test server may take a moment to end,
// so it waits for them, never longer than two seconds.
func checkNoGoroutineLeft(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for runtime.NumGoroutine() > before {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<16)
			t.Fatalf("%d goroutines, want at most %d as before the fetch:\n%s", runtime.NumGoroutine(), before, buf[:runtime.Stack(buf, true)])
		}
		runtime.Gosched()
		time.Sleep(5 * time.Millisecond) // waiting for exits, not synchronising
	}
}

func TestFetchPolicyRedirectNotFollowed(t *testing.T) {
	target := newPolicyServer(t, goodCert(), servePolicy("text/plain", validEnforce))
	srv := newPolicyServer(t, goodCert(), func(w http.ResponseWriter, r *http.Request) {
		// Same host and port: a client that followed would come back here.
		if r.URL.Path == "/moved" {
			_, _ = w.Write([]byte(validEnforce))
			return
		}
		http.Redirect(w, r, "/moved", http.StatusFound)
	})
	st := FetchPolicy(t.Context(), fetchOpts(t, srv.Listener.Addr()))
	if st.Fetch.Err != FetchRedirect || st.Fetch.Location != "/moved" {
		t.Fatalf("Fetch = %+v, want a redirect to /moved, not followed", st.Fetch)
	}
	if n := srv.requests.Load(); n != 1 {
		t.Fatalf("the server saw %d requests, want exactly one", n)
	}
	if n := target.requests.Load(); n != 0 {
		t.Fatalf("the other server saw %d requests, want none", n)
	}
}

func TestFetchPolicyAddresses(t *testing.T) {
	srv := newPolicyServer(t, goodCert(), servePolicy("text/plain", validEnforce))
	opts := fetchOpts(t, srv.Listener.Addr())
	// Nothing listens on 127.0.0.3 at the server's port: refused, then
	// the next address.
	opts.Addrs = []netip.Addr{netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("::ffff:127.0.0.1")}
	var dialed []string
	opts.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		dialed = append(dialed, address)
		return (&net.Dialer{}).DialContext(ctx, network, address)
	}
	st := FetchPolicy(t.Context(), opts)
	if !st.Valid {
		t.Fatalf("State = %+v, want the policy from the second address", st)
	}
	port := portOf(t, srv.Listener.Addr())
	want := []string{netip.AddrPortFrom(netip.MustParseAddr("127.0.0.3"), port).String(), netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), port).String()}
	if strings.Join(dialed, " ") != strings.Join(want, " ") || st.Fetch.Addr != want[1] {
		t.Fatalf("dialed %v, Addr %q; want %v through opts.DialContext, Addr the second", dialed, st.Fetch.Addr, want)
	}
}

func TestFetchPolicyFailures(t *testing.T) {
	refused := func(t *testing.T) net.Addr {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatalf("listen: %v", err)
		}
		addr := l.Addr()
		_ = l.Close()
		return addr
	}
	// silent accepts connections and never sends a byte.
	silent := func(t *testing.T) net.Addr {
		return serve(t, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	}
	// garbage answers the TLS handshake with bytes that are no TLS.
	garbage := func(t *testing.T) net.Addr {
		return serve(t, func(c net.Conn) { _, _ = c.Write([]byte("HTTP/1.0 200 OK\r\n\r\nhello\r\n")) })
	}
	// notHTTP completes TLS, then answers the request with garbage.
	notHTTP := func(t *testing.T) net.Addr {
		cert := goodCert()
		return serve(t, func(c net.Conn) {
			tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}})
			if tc.Handshake() != nil {
				return
			}
			_, _ = tc.Read(make([]byte, 4096))
			_, _ = tc.Write([]byte("SSH-2.0-OpenSSH_9.2\r\nnot http at all\r\n\r\n"))
		})
	}
	// tls10 only speaks TLS 1.0 and 1.1, below the least version offered.
	tls10 := func(t *testing.T) net.Addr {
		cert := goodCert()
		return serve(t, func(c net.Conn) {
			_ = tls.Server(c, &tls.Config{Certificates: []tls.Certificate{cert}, MaxVersion: tls.VersionTLS11}).Handshake()
		})
	}
	for _, tc := range []struct {
		name    string
		server  func(t *testing.T) net.Addr
		timeout time.Duration
		want    FetchError
		tls     bool // certificate facts expected
	}{
		{"refused", refused, 5 * time.Second, FetchConnect, false},
		{"never answers", silent, 300 * time.Millisecond, FetchTimeout, false},
		{"garbage instead of TLS", garbage, 5 * time.Second, FetchTLSHandshake, false},
		{"garbage instead of HTTP", notHTTP, 5 * time.Second, FetchHTTP, true},
		{"TLS 1.1", tls10, 5 * time.Second, FetchTLSHandshake, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := runtime.NumGoroutine()
			// Registered first, run last: after the server's cleanup.
			t.Cleanup(func() { checkNoGoroutineLeft(t, before) })
			ctx, cancel := context.WithTimeout(t.Context(), tc.timeout)
			defer cancel()
			start := time.Now()
			st := FetchPolicy(ctx, fetchOpts(t, tc.server(t)))
			if st.Fetch.Err != tc.want || st.Valid || st.Policy != nil || st.Fetch.Detail == "" {
				t.Fatalf("State = %+v, want error %q with a Detail", st, tc.want)
			}
			if (st.Fetch.TLS != nil) != tc.tls {
				t.Fatalf("Fetch.TLS = %+v, want certificate facts: %v", st.Fetch.TLS, tc.tls)
			}
			if elapsed := time.Since(start); elapsed > tc.timeout+time.Second {
				t.Fatalf("the fetch took %v, want it ended by the %v deadline", elapsed, tc.timeout)
			}
		})
	}
}

func TestFetchPolicyNoAddress(t *testing.T) {
	st := FetchPolicy(t.Context(), FetchOptions{Domain: testDomain})
	if st.Fetch.Err != FetchNoAddress || st.Valid || st.Fetch.Detail == "" {
		t.Fatalf("State = %+v, want no_address", st)
	}
}

// serve accepts connections on 127.0.0.1 and runs handle on each in its own
// goroutine, closing it after; all are closed and waited for at cleanup.
func serve(t *testing.T, handle func(net.Conn)) net.Addr {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("listen: %v", err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() {
				defer c.Close()
				handle(c)
			})
		}
	})
	t.Cleanup(func() {
		_ = l.Close()
		mu.Lock()
		for _, c := range conns {
			_ = c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr()
}
