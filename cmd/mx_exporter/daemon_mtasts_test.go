package main

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestDaemonSharesMTASTSPolicies: the daemon keeps one MTA-STS policy cache
// for its whole life, shared by its background probes and /probe, so that a
// domain's policy is fetched once per mta_sts_refresh whatever asks for it,
// and a reload does not fetch every policy again. The fetch time each
// probe exports (mx_mta_sts_policy_fetch_timestamp_seconds) tells one fetch
// from another.
func TestDaemonSharesMTASTSPolicies(t *testing.T) {
	env := testenv.Require(t)
	// Probes every 2 s; the policy refresh is the default hour.
	modules := []testenv.Module{{Timeout: 2 * time.Second}}
	// The policy and MX hosts are on loopback, which /probe dials for an
	// allowed domain only when allow.networks lists it.
	allow := "probe_endpoint:\n  allow:\n    domains: [wildcard.sts.test]\n    networks: [127.0.0.0/8]\n"
	d := startDaemon(t, env.Config(modules, "targets:\n  - domain: enforce.sts.test\n"+allow))

	const enforce = `mx_mta_sts_policy_fetch_timestamp_seconds{domain="enforce.sts.test"}`
	const wildcard = `mx_mta_sts_policy_fetch_timestamp_seconds{domain="wildcard.sts.test"}`
	fetchedAt := func(path, series string) string {
		t.Helper()
		code, body := d.get(t, path)
		if code != http.StatusOK {
			t.Fatalf("GET %s: status %d\n%s", path, code, body)
		}
		v, _ := metricValue(body, series)
		return v
	}
	probed := func(domain string) string { return "/probe?target=" + domain }

	// The first background probe fetches enforce's policy.
	var first string
	waitFor(t, 15*time.Second, "enforce.sts.test's policy to be fetched", func() bool {
		first = fetchedAt("/metrics", enforce)
		return first != ""
	})
	// /probe gets it from the cache the background probes filled.
	if got := fetchedAt(probed("enforce.sts.test"), enforce); got != first {
		t.Fatalf("/probe of enforce.sts.test: policy fetched at %q, want the background probe's fetch at %s", got, first)
	}
	// The next background probes do not fetch it again either.
	runs := func() string {
		_, body := d.get(t, "/metrics")
		v, _ := metricValue(body, `mx_target_last_run_timestamp_seconds{domain="enforce.sts.test"}`)
		return v
	}
	before := runs()
	waitFor(t, 15*time.Second, "another background probe of enforce.sts.test", func() bool { return runs() != before })
	if got := fetchedAt("/metrics", enforce); got != first {
		t.Fatalf("a later background probe: policy fetched at %q, want the first fetch at %s", got, first)
	}

	// The other way round: a domain asked through /probe only, then
	// configured as a target.
	other := fetchedAt(probed("wildcard.sts.test"), wildcard)
	if other == "" {
		t.Fatalf("/probe of wildcard.sts.test exported no policy fetch time")
	}
	if got := fetchedAt(probed("wildcard.sts.test"), wildcard); got != other {
		t.Fatalf("a second /probe of wildcard.sts.test: policy fetched at %q, want the first /probe's fetch at %s", got, other)
	}

	// A reload keeps the cache: neither policy is fetched again, by /probe
	// or by the background probes of the new config.
	d.writeConfig(t, env.Config(modules, "targets:\n  - domain: enforce.sts.test\n  - domain: wildcard.sts.test\n"))
	if code, body := d.postReload(t); code != http.StatusOK {
		t.Fatalf("POST /-/reload: %d %s", code, body)
	}
	if got := fetchedAt(probed("enforce.sts.test"), enforce); got != first {
		t.Fatalf("/probe after the reload: enforce's policy fetched at %q, want %s", got, first)
	}
	var got string
	waitFor(t, 15*time.Second, "wildcard.sts.test to be probed in the background", func() bool {
		got = fetchedAt("/metrics", wildcard)
		return got != ""
	})
	if got != other {
		t.Fatalf("background probe after the reload: wildcard's policy fetched at %q, want /probe's fetch at %s", got, other)
	}
	if got := fetchedAt("/metrics", enforce); got != first {
		t.Fatalf("background probe after the reload: enforce's policy fetched at %q, want %s", got, first)
	}
	if strings.Contains(d.logs.String(), "panic") {
		t.Fatalf("the daemon logged a panic:\n%s", d.logs.String())
	}
}

// TestDaemonMTASTSPolicyPerCA: two modules probe the same domain, one with
// the test CA as tls.ca_file, one with the system roots (which do not hold
// it). The daemon's one policy cache keeps a policy per CA: each module's
// policy_host_cert_verified and verdict are its own, whichever fetched
// first (the background probes of one, then /probe of the other).
func TestDaemonMTASTSPolicyPerCA(t *testing.T) {
	env := testenv.Require(t)
	// A module like the test config's, without tls.ca_file: the system roots.
	systemRoots := "  systemroots:\n    ehlo: probe.mx-exporter.test\n    interval: 2s\n    timeout: 2s\n    ignore_special_addresses: true\n"
	want := map[string]struct{ verified, status string }{
		"withca":      {"1", "pass"},
		"systemroots": {"0", "policy_unfetchable"},
	}
	for _, order := range [][2]string{{"withca", "systemroots"}, {"systemroots", "withca"}} {
		background, ondemand := order[0], order[1]
		t.Run(background+" first", func(t *testing.T) {
			d := startDaemon(t, env.Config([]testenv.Module{{Name: "withca"}},
				systemRoots+"targets:\n  - domain: enforce.sts.test\n    module: "+background+"\n"))
			check := func(path, module string) {
				t.Helper()
				code, body := d.get(t, path)
				if code != http.StatusOK {
					t.Fatalf("GET %s: status %d\n%s", path, code, body)
				}
				verified, _ := metricValue(body, `mx_mta_sts_policy_host_cert_verified{domain="enforce.sts.test"}`)
				_, status := metricValue(body, `mx_mta_sts_status_info{domain="enforce.sts.test",status="`+want[module].status+`"}`)
				if verified != want[module].verified || !status {
					t.Fatalf("GET %s (module %s): policy_host_cert_verified %q, status %s present %v; want %s and the status\n%s",
						path, module, verified, want[module].status, status, want[module].verified, body)
				}
			}
			waitFor(t, 15*time.Second, "the background probe's policy fetch", func() bool {
				_, body := d.get(t, "/metrics")
				_, ok := metricValue(body, `mx_mta_sts_policy_fetch_timestamp_seconds{domain="enforce.sts.test"}`)
				return ok
			})
			check("/metrics", background)
			check("/probe?target=enforce.sts.test&module="+ondemand, ondemand)
			check("/metrics", background)
		})
	}
}
