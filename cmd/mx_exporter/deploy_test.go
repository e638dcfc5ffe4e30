package main

// The end-to-end tests of deploy/: the files that only show their worth
// with the daemon running, probing the test servers. The Grafana
// dashboard's queries and the alert rules run in a real Prometheus that
// scrapes it, the /probe sharding scrape config drives three replicas, and
// deploy/examples/testenv.yml (what `make run` starts) works as it is. The
// other checks of deploy/ files (Dockerfile, Kubernetes, systemd, promtool,
// Alertmanager) are beside them, in package deploy.

import (
	"bytes"
	"crypto/md5"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
	"github.com/mx-exporter/mx_exporter/deploy"
)

// deployTargets are the test servers' scenarios the live tests probe.
const deployTargets = testTargets + `  - domain: noaddr.test
  - domain: tls.test
  - domain: multiline.test
    module: patient
  - domain: notls.test
  - domain: greylist.test
    module: greylist
  - domain: cname.test
  - domain: mixednull.test
` + dnssecTargets + stsTargets + identityTargets

// dnssecTargets are the DNSSEC and DANE scenarios of the signed zone
// dnssec.test (see .ci/testenv.d/dnssec.test.zone) and one unsigned
// domain: the deploy stack resolves through the validating unbound.
const dnssecTargets = `  - domain: ee.dnssec.test
  - domain: rollover.dnssec.test
  - domain: mismatch.dnssec.test
  - domain: ta.dnssec.test
  - domain: notls.dnssec.test
  - domain: nostarttls.dnssec.test
  - domain: bogus.dnssec.test
  - domain: bogusmx.dnssec.test
  - domain: bogusaddr.dnssec.test
  - domain: unsigned.test
`

// stsTargets are the MTA-STS and TLS-RPT scenarios of sts.test (see
// .ci/testenv.d/test.zone and .ci/testenv.d/mta-sts/): the default module's
// mta_sts is enforce, and its tls.ca_file, the test CA, verifies both the MX
// hosts and the policy hosts on nginx (127.0.4.1-3:443).
const stsTargets = `  - domain: enforce.sts.test
  - domain: wildcard.sts.test
  - domain: uncovered.sts.test
  - domain: testing.sts.test
  - domain: none.sts.test
  - domain: expiredhost.sts.test
  - domain: wrongname.sts.test
  - domain: redirect.sts.test
  - domain: notfound.sts.test
  - domain: syntax.sts.test
  - domain: duptxt.sts.test
  - domain: noid.sts.test
  - domain: big.sts.test
  - domain: expiredmx.sts.test
  - domain: maxage.sts.test
  - domain: htmltype.sts.test
  - domain: cnametxt.sts.test
  - domain: nosts.sts.test
`

// identityTargets are the reverse DNS, blocklist and IPv6 parity scenarios
// of issue 13 that testTargets and the others leave out (see
// .ci/testenv.d/test.zone and reverse-127.0.1.zone): relay.test (listed on
// bl.test, its name on dbl.test) and greylist.test (a PTR without address,
// a refused blocklist query) are probed already. slow.test (no PTR, a
// blocklist answer outside 127/8) gets the patient module, since RCPT there
// takes 2 s.
const identityTargets = `  - domain: slow.test
    module: patient
  - domain: v6.test
  - domain: dual.test
  - domain: v6broken.test
    module: v6broken
  - domain: v4broken.test
    module: v4broken
`

// deployModules are testModules and the modules of the IPv6 parity
// scenarios: the mailbox that one address family refuses.
var deployModules = append(slices.Clone(testModules),
	testenv.Module{Name: "v6broken", Recipients: []string{"postmaster@v6broken.test"}},
	testenv.Module{Name: "v4broken", Recipients: []string{"postmaster@v4broken.test"}},
)

// deployBlocklists are the blocklist zones of the test servers: bl.test and
// dbl.test are healthy, brokenbl.test lists everything.
const deployBlocklists = `dnsbl:
  zones: [bl.test, brokenbl.test]
  domain_zones: [dbl.test]
`

// deployStack is the daemon probing the test servers, scraped every second
// by a real Prometheus that evaluates deploy/prometheus/alerts.yml.
type deployStack struct {
	daemon *runningDaemon
	prom   string // Prometheus base URL
}

func startDeployStack(t *testing.T) *deployStack {
	t.Helper()
	env := testenv.Require(t)
	testenv.RequireTool(t, prometheusInstall, "prometheus")
	d := startDaemon(t, env.ValidatingConfig(deployModules, deployBlocklists+"targets:\n"+deployTargets))
	rules, err := filepath.Abs(testenv.RepoFile("deploy", "prometheus", "alerts.yml"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
rule_files: [%q]
scrape_configs:
  - job_name: mx_exporter
    static_configs:
      - targets: [%q]
`, rules, d.addr)
	base := startPrometheusConfig(t, cfg)
	waitFor(t, 60*time.Second, "Prometheus to hold a probe result of every target and two scrapes of the probe counters", func() bool {
		n := query(t, base, `count(mx_target_last_run_timestamp_seconds)`)
		r := query(t, base, `sum(rate(mx_exporter_probes_total[10s])) > 0`)
		return len(n) == 1 && n[0].Value[1] == strconv.Itoa(strings.Count(deployTargets, "- domain:")) && len(r) == 1
	})
	return &deployStack{daemon: d, prom: base}
}

// promAPI GETs a Prometheus API path and decodes its data field into v.
func promAPI(t *testing.T, base, path string, v any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string          `json:"status"`
		Error  string          `json:"error"`
		Data   json.RawMessage `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("GET %s: decoding: %v", path, err)
	}
	if body.Status != "success" {
		t.Fatalf("GET %s: %s", path, body.Error)
	}
	if err := json.Unmarshal(body.Data, v); err != nil {
		t.Fatalf("GET %s: decoding data: %v", path, err)
	}
}

// TestDashboardQueriesAgainstPrometheus evaluates every PromQL expression
// of the dashboard, variables substituted, against a real Prometheus that
// scrapes the daemon probing the test servers: each must be valid and
// return at least one series. A stat panel's "or vector(0)" returns one
// whatever the rest matches, so the expression without it must return one
// too: every stat panel counts something the test servers provide.
func TestDashboardQueriesAgainstPrometheus(t *testing.T) {
	queries, err := deploy.DashboardQueries(testenv.RepoFile("deploy", "grafana", "mx_exporter.json"))
	if err != nil {
		t.Error(err) // the others still run
	}
	if len(queries) == 0 {
		t.Fatal("the dashboard has no query")
	}
	s := startDeployStack(t)
	for _, q := range queries {
		t.Run(q.Name, func(t *testing.T) {
			waitFor(t, 20*time.Second, fmt.Sprintf("%s to return a series", q.Expr), func() bool {
				return len(query(t, s.prom, q.Expr)) > 0
			})
			bare, had := q.WithoutFallback()
			if !had {
				return
			}
			waitFor(t, 20*time.Second, fmt.Sprintf("%s (the panel's query without its or vector(0)) to return a series", bare), func() bool {
				return len(query(t, s.prom, bare)) > 0
			})
		})
	}
}

// decodeYAMLStrict decodes a YAML file of deploy/ into v.
func decodeYAMLStrict(t *testing.T, data []byte, name string, v any) {
	t.Helper()
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// ruleFile is what the end-to-end test needs of a Prometheus rule file:
// its rules, to count them.
type ruleFile struct {
	Groups []struct {
		Rules []struct {
			Alert string `yaml:"alert"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

// TestAlertsFireAgainstTestServers loads alerts.yml into a real Prometheus
// that scrapes the daemon probing the test servers, and checks that the
// alerts the scenarios call for become pending or firing (their `for:` is
// minutes: pending shows the expression holds), and that the others stay
// quiet.
func TestAlertsFireAgainstTestServers(t *testing.T) {
	env := testenv.Require(t)
	var rf ruleFile
	decodeYAMLStrict(t, testenv.ReadRepoFile(t, "deploy", "prometheus", "alerts.yml"), "alerts.yml", &rf)
	nRules := 0
	for _, g := range rf.Groups {
		nRules += len(g.Rules)
	}
	s := startDeployStack(t)

	var rules struct {
		Groups []struct {
			Rules []struct {
				Name           string `json:"name"`
				Health         string `json:"health"`
				LastError      string `json:"lastError"`
				LastEvaluation string `json:"lastEvaluation"`
			} `json:"rules"`
		} `json:"groups"`
	}
	waitFor(t, 20*time.Second, "every rule of alerts.yml to be loaded and evaluated", func() bool {
		promAPI(t, s.prom, "/api/v1/rules", &rules)
		n := 0
		for _, g := range rules.Groups {
			for _, r := range g.Rules {
				if r.Health != "ok" && r.Health != "unknown" {
					t.Fatalf("rule %s: health %s: %s", r.Name, r.Health, r.LastError)
				}
				if r.Health == "ok" {
					n++
				}
			}
		}
		return n == nRules
	})

	tests := []struct {
		name   string
		alert  string
		labels string // PromQL label matchers
	}{
		{"open relay", "MXOpenRelay", `domain="relay.test", mx="mx.relay.test", ip="127.0.1.3"`},
		{"554 greeting", "MXGatewayNotAnswering220", `domain="reject.test", mx="mx.reject.test"`},
		{"dead MX answers nothing", "MXGatewayNotAnswering220", fmt.Sprintf(`domain="partial.test", mx="dead.partial.test", ip=%q`, env.DeadIP)},
		{"dead MX probe failing", "MXProbeFailing", fmt.Sprintf(`domain="partial.test", mx="dead.partial.test", ip=%q`, env.DeadIP)},
		{"rejecting MX probe failing", "MXProbeFailing", `domain="reject.test"`},
		{"only MX rejects", "MXAllGatewaysFailing", `domain="reject.test"`},
		{"MX host without address", "MXAllGatewaysFailing", `domain="noaddr.test"`},
		{"NXDOMAIN", "MXLookupFailing", `domain="missing.test"`},
		{"STARTTLS refused, mail in clear", "MXTLSFailing", `domain="notls.test", stage="refused"`},
		{"greylisted mailbox", "MXRecipientDeferred", `domain="greylist.test"`},
		{"MX is a CNAME", "MXRecordsMisconfigured", `domain="cname.test", finding="mx_cname"`},
		{"null MX among others", "MXRecordsMisconfigured", `domain="mixednull.test", finding="null_mx_mixed"`},
		{"TLSA names another key", "MXDANETLSAMismatch", `domain="mismatch.dnssec.test", mx="mx.mismatch.dnssec.test", verdict="mismatch"`},
		{"DANE-TA anchor not sent", "MXDANETLSAMismatch", `domain="ta.dnssec.test", verdict="ta_not_sent"`},
		{"TLSA RRset bogus", "MXDANETLSABogus", `domain="bogus.dnssec.test", mx="mx.bogus.dnssec.test"`},
		{"TLSA published, STARTTLS refused", "MXDANEStartTLSMissing", `domain="notls.dnssec.test", mx="mx.notls.dnssec.test", verdict="tls_failed"`},
		// The other half of the rule: STARTTLS not even offered, which is
		// what a firewall stripping it or a host rebuilt without TLS looks
		// like.
		{"TLSA published, STARTTLS not offered", "MXDANEStartTLSMissing", `domain="nostarttls.dnssec.test", mx="mx.nostarttls.dnssec.test", ip="127.0.1.2", verdict="starttls_missing"`},
		{"only the served key published", "MXDANENotRolloverReady", `domain="ee.dnssec.test", mx="mx.ee.dnssec.test"`},
		{"MX RRset bogus", "MXDNSSECBogus", `domain="bogusmx.dnssec.test", state="bogus"`},
		{"MX host's A RRset bogus", "MXDNSSECBogus", `domain="bogusaddr.dnssec.test", mx="mx.bogusaddr.dnssec.test", state="bogus"`},
		{"enforce policy leaves a live MX out", "MXMTASTSMXUncovered", `domain="uncovered.sts.test", mx="mx.tls.test"`},
		{"covered MX with an expired certificate", "MXMTASTSTLSInvalid", `domain="expiredmx.sts.test", mx="mx.expired.test", ip="127.0.1.12", status="certificate_invalid"`},
		{"expired MX certificate", "MXCertificateExpiringSoon", `domain="expiredmx.sts.test", mx="mx.expired.test", severity="critical"`},
		{"testing policy leaves a live MX out", "MXMTASTSTestingPolicyGap", `domain="testing.sts.test", mx="mx.tls.test"`},
		{"policy host certificate expired", "MXMTASTSPolicyHostCertificateExpiringSoon", `domain="expiredhost.sts.test"`},
		{"policy host certificate expired: policy unfetchable", "MXMTASTSPolicyUnfetchable", `domain="expiredhost.sts.test"`},
		{"policy host certificate for another name", "MXMTASTSPolicyUnfetchable", `domain="wrongname.sts.test"`},
		{"policy URL redirects", "MXMTASTSPolicyUnfetchable", `domain="redirect.sts.test"`},
		{"policy URL answers 404", "MXMTASTSPolicyUnfetchable", `domain="notfound.sts.test"`},
		{"policy over 64 KiB", "MXMTASTSPolicyUnfetchable", `domain="big.sts.test"`},
		{"policy with a bad mode and a bad line", "MXMTASTSPolicyInvalid", `domain="syntax.sts.test"`},
		{"policy max_age over a year", "MXMTASTSPolicyInvalid", `domain="maxage.sts.test"`},
		{"two v=STSv1 records", "MXMTASTSRecordInvalid", `domain="duptxt.sts.test", defect="duplicate"`},
		{"v=STSv1 record without id", "MXMTASTSRecordInvalid", `domain="noid.sts.test", defect="id_missing"`},
		{"TLS-RPT without rua", "MXTLSRPTInvalid", `domain="uncovered.sts.test"`},
		{"two TLS-RPT records", "MXTLSRPTInvalid", `domain="testing.sts.test"`},
		{"TLS-RPT rua ftp:", "MXTLSRPTInvalid", `domain="none.sts.test"`},
		{"MTA-STS without TLS-RPT", "MXTLSRPTMissing", `domain="expiredmx.sts.test"`},
		{"address on a blocklist", "MXListedOnBlocklist", `domain="relay.test", mx="mx.relay.test", ip="127.0.1.3", zone="bl.test"`},
		{"host name on a domain blocklist", "MXListedOnBlocklist", `domain="relay.test", mx="mx.relay.test", ip="", zone="dbl.test"`},
		{"IPv6 address on a blocklist", "MXListedOnBlocklist", `domain="v6.test", mx="mx.v6.test", ip="::1", zone="bl.test"`},
		{"listed address under another MX name", "MXListedOnBlocklist", `domain="dual.test", mx="mx.dual.test", ip="::1", zone="bl.test"`},
		{"PTR name without address", "MXReverseDNSNotConfirmed", `domain="greylist.test", mx="mx.greylist.test", ip="127.0.1.8"`},
		{"no PTR", "MXReverseDNSNotConfirmed", `domain="slow.test", mx="mx.slow.test", ip="127.0.1.9"`},
		{"PTR name of another address", "MXReverseDNSNotConfirmed", `domain="notls.test", mx="mx.notls.test", ip="127.0.1.10"`},
		{"IPv6 refuses the mailbox, IPv4 takes it", "MXIPv6FailingWhileIPv4Works", `domain="v6broken.test", mx="mx.v6broken.test", ip="::1"`},
		{"blocklist zone lists everything", "MXBlocklistZoneUnhealthy", `zone="brokenbl.test"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := fmt.Sprintf(`ALERTS{alertname=%q, alertstate=~"pending|firing", %s}`, tt.alert, tt.labels)
			waitFor(t, 20*time.Second, q, func() bool { return len(query(t, s.prom, q)) > 0 })
		})
	}

	// None of these was active at any time since the start.
	for _, q := range []string{
		`ALERTS{domain=~"good.test|nullmx.test|tls.test"}`,
		// (expiredmx.sts.test's only MX fails MTA-STS only: senders
		// without MTA-STS deliver.)
		`ALERTS{alertname="MXAllGatewaysFailing", domain=~"partial.test|relay.test|greylist.test|expiredmx.sts.test"}`,
		`ALERTS{alertname="MXProbeFailing", domain=~"greylist.test|notls.test|multiline.test"}`,
		// (alias.cname.test presents mx1.good.test's certificate, which is
		// rightly not valid for the alias's name.)
		`ALERTS{alertname=~"MXDANETLSA.*|MXDANEStartTLSMissing|MXDNSSECBogus", domain=~"ee.dnssec.test|rollover.dnssec.test|unsigned.test"}`,
		`ALERTS{alertname="MXDANENotRolloverReady", domain="rollover.dnssec.test"}`,
		`ALERTS{alertname="MXResolverNotValidating"}`,
		// MTA-STS: the healthy policies and a domain without one stay
		// quiet altogether; mode none, a CNAME'd TXT record and a policy
		// served as text/html (a warning defect) raise no MTA-STS alert; an
		// uncovered MX or a failing TLS counts only under an enforce policy
		// that senders apply (not testing.sts.test, nor duptxt.sts.test,
		// whose policy senders ignore).
		`ALERTS{domain=~"enforce.sts.test|wildcard.sts.test|nosts.sts.test"}`,
		`ALERTS{alertname=~"MXMTASTS.*", domain=~"none.sts.test|cnametxt.sts.test|htmltype.sts.test"}`,
		`ALERTS{alertname=~"MXMTASTSMXUncovered|MXMTASTSTLSInvalid", domain!~"uncovered.sts.test|expiredmx.sts.test"}`,
		`ALERTS{alertname="MXMTASTSPolicyHostCertificateExpiringSoon", domain!="expiredhost.sts.test"}`,
		`ALERTS{alertname=~"MXTLSRPT.*", domain=~"enforce.sts.test|wildcard.sts.test|nosts.sts.test|good.test"}`,
		// (mx.expired.test's certificate has expired: expiredmx.sts.test.
		// mx.dual.test and mx.v6broken.test are 127.0.1.1, whose
		// certificate names mx1.good.test: rightly not verified for them.)
		`ALERTS{alertname=~"MXProbeResultsStale|MXExporterConfigReloadFailed|MXExporterDown|MXStartTLSNoLongerOffered|MXSizeLimitDropped|MXCertificate.*", domain!~"cname.test|expiredmx.sts.test|dual.test|v6broken.test"}`,
		// Reverse DNS, blocklists and IPv6 parity: good.test is quiet
		// altogether (above); dual.test, whose addresses both pass and
		// resolve back, raises none of these but the listing of ::1, which
		// bl.test lists whatever the MX calls it.
		`ALERTS{alertname=~"MXReverseDNSNotConfirmed|MXIPv6FailingWhileIPv4Works|MXProbeFailing|MXAllGatewaysFailing|MXGatewayNotAnswering220", domain="dual.test"}`,
		`ALERTS{alertname="MXListedOnBlocklist", domain=~"dual.test|v6broken.test|v4broken.test", ip!="::1"}`,
		// An error of a list is no listing: a refused query (greylist.test),
		// an answer outside 127/8 (slow.test), a zone that lists everything.
		`ALERTS{alertname="MXListedOnBlocklist", domain=~"greylist.test|slow.test|good.test"}`,
		`ALERTS{alertname="MXListedOnBlocklist", zone="brokenbl.test"}`,
		// Confirmed reverse DNS: the PTR of another name (relay.test) and
		// of an IPv6 address (v6.test) resolve back.
		`ALERTS{alertname="MXReverseDNSNotConfirmed", domain=~"relay.test|v6.test|v6broken.test|v4broken.test|tls.test"}`,
		// IPv4 failing while IPv6 works, and IPv6 only, are no IPv6 failure.
		`ALERTS{alertname="MXIPv6FailingWhileIPv4Works", domain!="v6broken.test"}`,
		`ALERTS{alertname="MXBlocklistZoneUnhealthy", zone!="brokenbl.test"}`,
	} {
		if got := query(t, s.prom, "count_over_time("+q+"[10m])"); len(got) > 0 {
			t.Errorf("%s was active: %v", q, got)
		}
	}

	t.Run("config reload failed", func(t *testing.T) {
		if err := os.WriteFile(s.daemon.configFile, []byte("modules:\n  default:\n    starttls: sometimes\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post("http://"+s.daemon.addr+"/-/reload", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			t.Fatalf("reloading a bad config answered %s", resp.Status)
		}
		q := `ALERTS{alertname="MXExporterConfigReloadFailed", alertstate=~"pending|firing", job="mx_exporter"}`
		waitFor(t, 20*time.Second, q, func() bool { return len(query(t, s.prom, q)) > 0 })
	})

	t.Run("exporter down", func(t *testing.T) {
		s.daemon.shutdown(t)
		q := `ALERTS{alertname="MXExporterDown", alertstate=~"pending|firing", job="mx_exporter"}`
		waitFor(t, 20*time.Second, q, func() bool { return len(query(t, s.prom, q)) > 0 })
	})
}

// hashmod is Prometheus's hashmod relabel action.
func hashmod(value string, modulus uint64) uint64 {
	sum := md5.Sum([]byte(value))
	return binary.BigEndian.Uint64(sum[8:]) % modulus
}

// TestDeployProbeShardingWithRealPrometheus runs three daemons as the /probe
// replicas on 127.0.0.10-12 and a real Prometheus with the job of
// deploy/kubernetes/probe-sharding/prometheus.yml, its relabeling unchanged
// but for the replica address: every target must be scraped through the
// replica that hashmod picks, and its probe metrics must arrive.
func TestDeployProbeShardingWithRealPrometheus(t *testing.T) {
	env := testenv.Require(t)
	testenv.RequireTool(t, prometheusInstall, "prometheus")

	var pcfg map[string]any
	decodeYAMLStrict(t, testenv.ReadRepoFile(t, "deploy", "kubernetes", "probe-sharding", "prometheus.yml"), "prometheus.yml", &pcfg)
	var job map[string]any
	for _, j := range pcfg["scrape_configs"].([]any) {
		if m := j.(map[string]any); m["job_name"] == "mx_exporter_probe" {
			job = m
		}
	}
	if job == nil {
		t.Fatalf("probe-sharding/prometheus.yml has no job mx_exporter_probe")
	}
	var modulus uint64
	for _, r := range job["relabel_configs"].([]any) {
		if m := r.(map[string]any); m["action"] == "hashmod" {
			modulus = uint64(m["modulus"].(int))
		}
	}
	if modulus != 3 {
		t.Fatalf("hashmod modulus %d, want 3 like the StatefulSet's replicas", modulus)
	}

	// Three replicas on one port of three loopback addresses, so that the
	// address template can stay "NAME-$1...:PORT".
	l, err := net.Listen("tcp", "127.0.0.10:0")
	if err != nil {
		t.Skipf("cannot listen on 127.0.0.10: %v", err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// The test servers are on loopback, which /probe dials for an allowed
	// domain only when allow.networks lists it.
	replicaCfg := env.Config(nil, "probe_endpoint:\n  allow:\n    domains: [test]\n    networks: [127.0.0.0/8]\n")
	for i := range modulus {
		startDaemon(t, replicaCfg, fmt.Sprintf("--web.listen-address=127.0.0.1%d:%d", i, port))
	}

	targets := []string{"good.test", "relay.test", "reject.test", "partial.test", "nullmx.test", "missing.test", "tls.test"}
	job["static_configs"] = []any{map[string]any{"targets": targets}}
	job["scrape_interval"] = "2s"
	job["scrape_timeout"] = "2s"
	raw, err := yaml.Marshal(map[string]any{"scrape_configs": []any{job}})
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(raw, []byte(deploy.ShardingReplicaAddress)) {
		t.Fatalf("the job's relabeling does not write %s into __address__", deploy.ShardingReplicaAddress)
	}
	cfg := strings.Replace(string(raw), deploy.ShardingReplicaAddress, fmt.Sprintf("127.0.0.1$1:%d", port), 1)
	base := startPrometheusConfig(t, cfg)

	var active struct {
		ActiveTargets []struct {
			Labels    map[string]string `json:"labels"`
			ScrapeURL string            `json:"scrapeUrl"`
			Health    string            `json:"health"`
			LastError string            `json:"lastError"`
		} `json:"activeTargets"`
	}
	waitFor(t, 30*time.Second, "every target to be scraped through /probe", func() bool {
		promAPI(t, base, "/api/v1/targets?state=active", &active)
		up := 0
		for _, a := range active.ActiveTargets {
			if a.Health == "up" {
				up++
			}
		}
		return len(active.ActiveTargets) == len(targets) && up == len(targets)
	})
	used := map[string]bool{}
	for _, a := range active.ActiveTargets {
		u, err := url.Parse(a.ScrapeURL)
		if err != nil {
			t.Fatal(err)
		}
		target := a.Labels["instance"]
		want := fmt.Sprintf("127.0.0.1%d:%d", hashmod(target, modulus), port)
		if u.Host != want || u.Path != "/probe" || u.Query().Get("target") != target || u.Query().Get("module") != "default" {
			t.Errorf("target %s scraped at %s, want http://%s/probe?module=default&target=%s", target, a.ScrapeURL, want, target)
		}
		used[u.Host] = true
	}
	if len(used) < 2 {
		t.Errorf("the targets went to %d replica(s) only: %v", len(used), used)
	}
	for _, q := range []string{
		`mx_smtp_reply_code{job="mx_exporter_probe", instance="good.test", domain="good.test", command="banner"} == 220`,
		`mx_smtp_open_relay{job="mx_exporter_probe", instance="relay.test"} == 1`,
		`mx_dns_lookup_success{job="mx_exporter_probe", instance="missing.test"} == 0`,
	} {
		waitFor(t, 20*time.Second, q, func() bool { return len(query(t, base, q)) > 0 })
	}
}

// TestExampleTestenvConfig: deploy/examples/testenv.yml, the config that
// `make run` gives the daemon, probes the test servers and nothing else,
// and works out of the box.
func TestExampleTestenvConfig(t *testing.T) {
	env := testenv.Require(t)
	file := testenv.RepoFile("deploy", "examples", "testenv.yml")
	data := testenv.ReadRepoFile(t, "deploy", "examples", "testenv.yml")
	const caFile = testenv.DefaultDir + "/tls/ca.pem"
	if !bytes.Contains(data, []byte(caFile)) {
		t.Fatalf("testenv.yml does not use %s", caFile)
	}
	var cfg *config.Config
	var err error
	if env.CAFile == caFile {
		cfg, err = config.Load(file)
	} else { // MX_TESTENV_DIR moved the test servers' state
		data = bytes.ReplaceAll(data, []byte(caFile), []byte(env.CAFile))
		cfg, err = config.Parse(data, file)
	}
	if err != nil {
		t.Fatal(err)
	}
	// Everything stays on this machine: the resolver is the test
	// environment's validating unbound, and the targets are in the zone
	// it asks the test nsd for.
	if !slices.Equal(cfg.DNS.Resolvers, []string{env.ValidatingResolver}) || !cfg.DNS.TrustAD {
		t.Fatalf("resolvers %v trust_ad %v, want [%s] trusted", cfg.DNS.Resolvers, cfg.DNS.TrustAD, env.ValidatingResolver)
	}
	want := map[string]string{ // mx_target_success per target
		"good.test": "1", "relay.test": "0", "reject.test": "0", "partial.test": "0", "tls.test": "1",
		"multiline.test": "1", "nullmx.test": "1", "implicit.test": "1", "noaddr.test": "0", "missing.test": "0",
		"ee.dnssec.test": "1", "mismatch.dnssec.test": "0",
	}
	for _, tg := range cfg.Targets {
		if _, ok := want[tg.Domain]; !ok || tg.Host != "" {
			t.Fatalf("target %s%s is not one of the test servers' scenarios", tg.Domain, tg.Host)
		}
	}
	if len(cfg.Targets) != len(want) {
		t.Fatalf("%d targets, want %d", len(cfg.Targets), len(want))
	}

	// It works out of the box: run the daemon with it.
	d := startDaemon(t, string(data))
	var body string
	waitFor(t, 45*time.Second, "a probe result of every target of testenv.yml", func() bool {
		_, body = d.get(t, "/metrics")
		for domain := range want {
			if !strings.Contains(body, fmt.Sprintf(`mx_target_success{domain=%q}`, domain)) {
				return false
			}
		}
		return true
	})
	for domain, v := range want {
		if line := fmt.Sprintf(`mx_target_success{domain=%q} %s`, domain, v); !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	for _, line := range []string{
		`mx_smtp_open_relay{domain="relay.test",ip="127.0.1.3",mx="mx.relay.test"} 1`,
		`mx_tls_cert_verified{domain="tls.test",ip="127.0.1.7",mx="mx.tls.test"} 1`,
		`mx_dnssec_resolver_validating{domain="ee.dnssec.test"} 1`,
		`mx_dns_dnssec_info{domain="ee.dnssec.test",state="secure"} 1`,
		`mx_dns_dnssec_info{domain="good.test",state="insecure"} 1`,
		`mx_dane_verdict_info{domain="ee.dnssec.test",ip="127.0.1.7",mx="mx.ee.dnssec.test",verdict="pass"} 1`,
		`mx_dane_verdict_info{domain="mismatch.dnssec.test",ip="127.0.1.7",mx="mx.mismatch.dnssec.test",verdict="mismatch"} 1`,
	} {
		if !strings.Contains(body, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
	// /probe may probe any name under .test, and nothing else (refused
	// before any lookup).
	if code, body := d.get(t, "/probe?target=multi.test"); code != http.StatusOK || !strings.Contains(body, `mx_probe_success{domain="multi.test"`) {
		t.Errorf("/probe?target=multi.test: status %d\n%s", code, body)
	}
	if code, body := d.get(t, "/probe?target=outside.invalid"); code != http.StatusForbidden {
		t.Errorf("/probe?target=outside.invalid: status %d, want 403\n%s", code, body)
	}
}
