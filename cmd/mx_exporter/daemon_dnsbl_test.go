package main

import (
	"context"
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/collector/wiring"
	"github.com/mx-exporter/mx_exporter/config"
)

// TestDaemonBlocklists: the daemon checks the zones' health itself, at
// start and at every load, without waiting for a probe to need them; its
// background probes and /probe share one blocklist cache; the health series
// are those of the config in force; and nothing of it outlives the daemon.
func TestDaemonBlocklists(t *testing.T) {
	env := testenv.Require(t)
	warmUpSignals()
	before := runtime.NumGoroutine()

	bl, broken, dbl := testenv.BlocklistZone, testenv.BrokenBlocklistZone, testenv.DomainBlocklistZone
	// relay.test's MX is on loopback, which /probe dials for an allowed
	// domain only when allow.networks lists it.
	allow := "probe_endpoint:\n  allow:\n    domains: [relay.test]\n    networks: [127.0.0.0/8]\n"
	configWith := func(dnsblSection, targets string) string {
		return env.Config(testModules, dnsblSection+allow+"targets:\n"+targets)
	}
	relay := "  - domain: relay.test\n    module: relay\n"
	d := startDaemon(t, configWith(fmt.Sprintf("dnsbl:\n  zones: [%s]\n", bl), ""))

	metrics := func() string {
		t.Helper()
		code, body := d.get(t, "/metrics")
		if code != http.StatusOK {
			t.Fatalf("GET /metrics: status %d\n%s", code, body)
		}
		return body
	}
	healthy := func(zone string) string {
		v, _ := metricValue(metrics(), `mx_dnsbl_zone_healthy{zone="`+zone+`"}`)
		return v
	}
	// No target asks anything: the health comes from the daemon's own
	// check at start.
	waitFor(t, 10*time.Second, "the health of "+bl+" without a probe", func() bool { return healthy(bl) != "" })
	body := metrics()
	if v, _ := metricValue(body, `mx_dnsbl_zone_healthy{zone="`+bl+`"}`); v != "1" {
		t.Fatalf("mx_dnsbl_zone_healthy{zone=%q} %s, want 1", bl, v)
	}
	if v, ok := metricValue(body, `mx_dnsbl_zone_check_timestamp_seconds{zone="`+bl+`"}`); !ok || v == "0" {
		t.Fatalf("mx_dnsbl_zone_check_timestamp_seconds{zone=%q} %q (present %v), want the time of the check", bl, v, ok)
	}

	// A reload that adds zones has them checked at once, still without a
	// probe: brokenbl.test lists 127.0.0.1 too.
	reload := func(config string) {
		t.Helper()
		d.writeConfig(t, config)
		if code, body := d.postReload(t); code != http.StatusOK {
			t.Fatalf("POST /-/reload: %d %s", code, body)
		}
	}
	reload(configWith(fmt.Sprintf("dnsbl:\n  zones: [%s, %s]\n  domain_zones: [%s]\n", bl, broken, dbl), ""))
	waitFor(t, 10*time.Second, "the health of the zones the reload added", func() bool {
		return healthy(broken) != "" && healthy(dbl) != ""
	})
	for zone, want := range map[string]string{bl: "1", broken: "0", dbl: "1"} {
		if got := healthy(zone); got != want {
			t.Fatalf("after the reload: mx_dnsbl_zone_healthy{zone=%q} %s, want %s", zone, got, want)
		}
	}

	// A background probe of relay.test: 127.0.1.3 is listed in bl.test,
	// mx.relay.test in dbl.test, and brokenbl.test's answers are not
	// trusted.
	reload(configWith(fmt.Sprintf("dnsbl:\n  zones: [%s, %s]\n  domain_zones: [%s]\n", bl, broken, dbl), relay))
	listed := fmt.Sprintf(`mx_dnsbl_listed{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test",zone=%q}`, bl)
	waitFor(t, 15*time.Second, "relay.test's listing in "+bl, func() bool {
		v, _ := metricValue(metrics(), listed)
		return v == "1"
	})
	body = metrics()
	for _, series := range []string{
		fmt.Sprintf(`mx_dnsbl_error_info{domain="relay.test",error="zone_unhealthy",ip="127.0.1.3",mx="mx.relay.test",zone=%q}`, broken),
		fmt.Sprintf(`mx_dnsbl_host_listed{domain="relay.test",mx="mx.relay.test",zone=%q}`, dbl),
	} {
		if v, _ := metricValue(body, series); v != "1" {
			t.Errorf("/metrics: %s %q, want 1", series, v)
		}
	}

	// /probe asks the cache the background probes filled.
	code, text := d.get(t, "/probe?target=relay.test&module=relay&debug=true")
	if code != http.StatusOK {
		t.Fatalf("/probe: status %d\n%s", code, text)
	}
	var line string
	for l := range strings.Lines(text) {
		if strings.Contains(l, "LISTED in "+bl) {
			line = l
			break
		}
	}
	if !strings.Contains(line, "cached") {
		t.Fatalf("/probe of relay.test: want the listing in %s from the daemon's cache, got %q in\n%s", bl, line, text)
	}
	if code, body := d.get(t, "/probe?target=relay.test&module=relay"); code != http.StatusOK || !strings.Contains(body, listed+" 1") {
		t.Fatalf("/probe of relay.test: status %d, want %s 1 in\n%s", code, listed, body)
	}

	// A reload that drops zones drops their series, and a changed
	// health_interval reaches the checker the probes share.
	reload(configWith(fmt.Sprintf("dnsbl:\n  zones: [%s]\n  cache_ttl: 1h\n  health_interval: 3h\n", bl), relay))
	waitFor(t, 15*time.Second, "the series of the dropped zones to go", func() bool {
		body := metrics()
		return !strings.Contains(body, fmt.Sprintf("zone=%q", broken)) && !strings.Contains(body, fmt.Sprintf("zone=%q", dbl))
	})
	if got := healthy(bl); got != "1" {
		t.Fatalf("after dropping the other zones: mx_dnsbl_zone_healthy{zone=%q} %s, want 1", bl, got)
	}
	if logs := d.logs.String(); !strings.Contains(logs, "dnsbl_health_interval=3h0m0s") || strings.Contains(logs, "restart") {
		t.Fatalf("a reload with health_interval 3h: want it loaded (dnsbl_health_interval=3h0m0s), not deferred to a restart:\n%s", logs)
	}

	d.shutdown(t)
	waitFor(t, 5*time.Second, "goroutines to return to their number before the daemon started", func() bool {
		http.DefaultClient.CloseIdleConnections()
		return runtime.NumGoroutine() <= before
	})
}

// TestDaemonChecksZonesEveryInterval: the daemon's health loop checks the
// zones of the config in force once per interval after a load, and returns
// when its context ends. The interval is the checker's health_interval in
// the daemon (at least a minute); here it is short, for the test.
func TestDaemonChecksZonesEveryInterval(t *testing.T) {
	env := testenv.Require(t)
	cfg, err := config.Parse([]byte(env.Config(nil, fmt.Sprintf("dnsbl:\n  zones: [%s]\n", testenv.BlocklistZone))), "loop.yml")
	if err != nil {
		t.Fatal(err)
	}
	resolver, err := wiring.Resolver(cfg.DNS)
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{
		blocklists:  dnsbl.NewChecker(cfg.DNSBL.CacheTTL, cfg.DNSBL.HealthInterval),
		zonesLoaded: make(chan struct{}, 1),
		zones:       wiring.DNSBLZones(cfg.DNSBL),
		resolver:    resolver,
	}
	checked := func() time.Time {
		for _, h := range d.blocklists.Zones() {
			if h.Zone.Name == testenv.BlocklistZone {
				return h.Checked
			}
		}
		return time.Time{}
	}

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { d.checkZones(ctx, func() time.Duration { return 50 * time.Millisecond }) })
	defer func() {
		cancel()
		wg.Wait()
	}()
	// No load asked for a check: the first comes after the interval, and
	// the next ones after that.
	var first time.Time
	waitFor(t, 5*time.Second, "a first periodic check", func() bool { first = checked(); return !first.IsZero() })
	waitFor(t, 5*time.Second, "a second periodic check", func() bool { return checked().After(first) })

	cancel()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("the health loop did not return within 5s of its context's end")
	}
}
