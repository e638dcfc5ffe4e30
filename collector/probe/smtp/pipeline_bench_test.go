package smtp

// What PIPELINING saves on a long path: the same dialogue, lock-step and
// pipelined, through a loopback proxy that delays every byte by D each way,
// against the real Postfix of collector/testenv.
//
//	go test -run '^$' -bench PipeliningDelay -benchtime 20x ./collector/probe/smtp/
//
// MX_BENCH_DELAY sets D (default 10ms); MX_BENCH_DELAYED_ACK=1 keeps the
// kernel's delayed ACK on the proxy's sockets (see keepDelayedACK).
//
// Round trips of D each way (the connect to the proxy is local): lock-step
// with STARTTLS, banner ½ + EHLO + STARTTLS + TLS 1.3 handshake + EHLO +
// MAIL, RCPT, relay RCPT, RSET, QUIT = 9½ round trips (19 D); pipelined,
// the last five are one (11 D). Without STARTTLS: 13 D against 5 D.

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// benchDelay is D, the one-way delay of the proxy; MX_BENCH_DELAY (a Go
// duration) changes it.
func benchDelay(b *testing.B) time.Duration {
	d := 10 * time.Millisecond
	if s := os.Getenv("MX_BENCH_DELAY"); s != "" {
		var err error
		if d, err = time.ParseDuration(s); err != nil {
			b.Fatalf("MX_BENCH_DELAY: %v", err)
		}
	}
	return d
}

// keepDelayedACK (MX_BENCH_DELAYED_ACK set) leaves the proxy's sockets to
// the kernel's delayed ACK. By default they acknowledge at once (quickAck):
// Postfix writes with Nagle on, so its EHLO reply after the TLS session
// tickets waits for the tickets' ACK, which a delayed ACK holds up to 40 ms,
// in both dialogues alike; the proxy is meant to add D and nothing else.
var keepDelayedACK = os.Getenv("MX_BENCH_DELAYED_ACK") != ""

// delayProxy forwards loopback connections to target, every chunk in each
// direction delivered delay after it was read, in order: a path with
// latency and no bandwidth limit. An end of stream is passed on (as a
// half-close) with the same delay.
type delayProxy struct {
	ln     net.Listener
	target string
	delay  time.Duration
	wg     sync.WaitGroup
}

func startDelayProxy(tb testing.TB, target string, delay time.Duration) *delayProxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &delayProxy{ln: ln, target: target, delay: delay}
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(func() { ln.Close(); p.wg.Wait() })
	return p
}

func (p *delayProxy) addr() string { return p.ln.Addr().String() }

func (p *delayProxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		var both sync.WaitGroup
		both.Add(2)
		go func() { defer both.Done(); p.pipe(s.(*net.TCPConn), c) }()
		go func() { defer both.Done(); p.pipe(c.(*net.TCPConn), s) }()
		p.wg.Add(1)
		go func() { defer p.wg.Done(); both.Wait(); c.Close(); s.Close() }()
	}
}

// pipe copies from src to dst, each chunk delay late.
func (p *delayProxy) pipe(dst *net.TCPConn, src net.Conn) {
	type chunk struct {
		data []byte // nil: end of stream
		due  time.Time
	}
	q := make(chan chunk, 1024)
	go func() {
		defer close(q)
		for {
			buf := make([]byte, 32<<10)
			if !keepDelayedACK {
				quickAck(src)
			}
			n, err := src.Read(buf)
			if n > 0 {
				q <- chunk{buf[:n], time.Now().Add(p.delay)}
			}
			if err != nil {
				q <- chunk{nil, time.Now().Add(p.delay)}
				return
			}
		}
	}()
	for c := range q {
		time.Sleep(time.Until(c.due))
		if c.data == nil {
			_ = dst.CloseWrite()
			continue
		}
		if _, err := dst.Write(c.data); err != nil {
			// The other side is gone: end the reader too.
			src.Close()
			for range q { //nolint:revive // drained so that the reader goroutine ends
			}
			return
		}
	}
}

func BenchmarkPipeliningDelay(b *testing.B) {
	env := testenv.Require(b)
	delay := benchDelay(b)
	l := env.Listener("mx1.good.test")
	proxy := startDelayProxy(b, l.Addr, delay)
	viaProxy := func(ctx context.Context, network, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, network, proxy.addr())
	}
	for _, mode := range []StartTLS{StartTLSOff, StartTLSRequired} {
		name := "plain"
		if mode == StartTLSRequired {
			name = "starttls"
		}
		b.Run(name, func(b *testing.B) {
			opts := Options{
				EHLOName:    "probe.mx-exporter.test",
				Recipients:  []string{"postmaster@" + l.Domain},
				RelayCheck:  testenv.RelayAddress,
				StartTLS:    mode,
				RootCAs:     env.CAPool,
				DialContext: viaProxy,
			}
			probe := func(pipelining bool) time.Duration {
				o := opts
				o.Pipelining = pipelining
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				r := Probe(ctx, l.Host, l.IP, o)
				if !r.Success || (countSteps(r, StepPipeline) == 1) != pipelining {
					b.Fatalf("pipelining %v: reason %q (%s), steps %q", pipelining, r.Reason, r.Detail, stepNames(r))
				}
				return r.Duration
			}
			var lock, piped time.Duration
			for b.Loop() {
				// Interleaved, so that both see the same machine.
				lock += probe(false)
				piped += probe(true)
			}
			n := time.Duration(b.N)
			b.ReportMetric(float64(delay)/float64(time.Millisecond), "D-ms")
			b.ReportMetric(float64(lock/n)/float64(time.Millisecond), "lockstep-ms")
			b.ReportMetric(float64(piped/n)/float64(time.Millisecond), "pipelined-ms")
			b.ReportMetric(float64(lock/n)/float64(delay), "lockstep-D")
			b.ReportMetric(float64(piped/n)/float64(delay), "pipelined-D")
			b.ReportMetric(float64(piped)/float64(lock), "ratio")
		})
	}
}

// TestDelayProxy: the proxy adds its delay each way and passes the end of
// a stream on, so the benchmark measures what it says.
func TestDelayProxy(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		_, _ = io.Copy(c, c) // echo until the client's end of stream
	}()
	const delay = 20 * time.Millisecond
	p := startDelayProxy(t, ln.Addr().String(), delay)
	c, err := net.Dial("tcp", p.addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	start := time.Now()
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil {
		t.Fatal(err)
	}
	// A lower bound only: a delay is a floor, never a timed ceiling.
	if rtt := time.Since(start); rtt < 2*delay {
		t.Fatalf("round trip %v through the proxy, want at least %v", rtt, 2*delay)
	}
	_ = c.(*net.TCPConn).CloseWrite()
	if _, err := c.Read(buf); !errors.Is(err, io.EOF) {
		t.Fatalf("read after the end of stream: %v, want EOF passed on", err)
	}
}
