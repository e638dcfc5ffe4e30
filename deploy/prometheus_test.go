package deploy

// The Prometheus alert rules (complete, and promtool's checks and unit
// tests), the example Prometheus configuration, and the Alertmanager
// configuration with its inhibit rules in a real Alertmanager.

import (
	"bytes"
	"encoding/json"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Record      string            `yaml:"record"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

type ruleTestFile struct {
	RuleFiles []string `yaml:"rule_files"`
	Tests     []struct {
		Name          string `yaml:"name"`
		AlertRuleTest []struct {
			EvalTime  string `yaml:"eval_time"`
			Alertname string `yaml:"alertname"`
			ExpAlerts []struct {
				ExpLabels map[string]string `yaml:"exp_labels"`
			} `yaml:"exp_alerts"`
		} `yaml:"alert_rule_test"`
	} `yaml:"tests"`
}

var templateQueryRE = regexp.MustCompile("`([^`]*)`")

// The alerts issue 5 asks for, those of issue 11 (DNSSEC and DANE), of
// issue 12 (MTA-STS and TLS-RPT) and of issue 13 (blocklists, reverse DNS,
// IPv6 parity).
var wantAlerts = []string{
	"MXGatewayNotAnswering220", "MXAllGatewaysFailing", "MXProbeFailing", "MXOpenRelay",
	"MXStartTLSNoLongerOffered", "MXCertificateExpiringSoon", "MXCertificateNotVerified",
	"MXSizeLimitDropped", "MXLookupFailing", "MXProbeResultsStale", "MXExporterConfigReloadFailed",
	"MXExporterDown", "MXRecipientDeferred", "MXMiddleboxRewritesSession", "MXTLSFailing", "MXRecordsMisconfigured",
	"MXDANETLSAMismatch", "MXDANETLSABogus", "MXDANETLSALookupFailing", "MXDANEStartTLSMissing",
	"MXDANENotRolloverReady", "MXDNSSECBogus", "MXResolverNotValidating",
	"MXMTASTSMXUncovered", "MXMTASTSTLSInvalid", "MXMTASTSTestingPolicyGap",
	"MXMTASTSPolicyHostCertificateExpiringSoon", "MXMTASTSPolicyUnfetchable", "MXMTASTSPolicyInvalid",
	"MXMTASTSRecordInvalid", "MXTLSRPTInvalid", "MXTLSRPTMissing",
	"MXListedOnBlocklist", "MXReverseDNSNotConfirmed", "MXIPv6FailingWhileIPv4Works", "MXBlocklistZoneUnhealthy",
}

func TestAlertRulesPromtool(t *testing.T) {
	promtool := testenv.RequireTool(t, ".ci/run installs Debian's prometheus, which ships it", "promtool")
	dir := testenv.RepoFile("deploy", "prometheus")
	out, err := testenv.Run(t, dir, promtool, "check", "rules", "alerts.yml")
	if err != nil {
		t.Fatalf("promtool check rules alerts.yml: %v\n%s", err, out)
	}
	// The example Prometheus configuration, with alerts.yml as its rule file.
	out, err = testenv.Run(t, dir, promtool, "check", "config", "prometheus.yml")
	if err != nil || !strings.Contains(out, "SUCCESS: 1 rule files found") {
		t.Fatalf("promtool check config prometheus.yml: %v\n%s", err, out)
	}
	out, err = testenv.Run(t, dir, promtool, "test", "rules", "alerts_test.yml")
	if err != nil {
		t.Fatalf("promtool test rules alerts_test.yml: %v\n%s", err, out)
	}
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules did not report SUCCESS:\n%s", out)
	}
}

func TestAlertRulesAreComplete(t *testing.T) {
	known := knownMetrics(t)
	var rf ruleFile
	decodeYAMLStrict(t, testenv.ReadRepoFile(t, "deploy", "prometheus", "alerts.yml"), "alerts.yml", &rf)
	alerts := map[string]bool{}
	for _, g := range rf.Groups {
		for _, r := range g.Rules {
			if r.Alert == "" {
				continue
			}
			alerts[r.Alert] = true
			// info: a fact to fix that changes nothing for mail in flight
			// (alertmanager.yml routes it once a day).
			if s := r.Labels["severity"]; s != "info" && s != "warning" && s != "critical" {
				t.Errorf("%s: severity %q, want info, warning or critical", r.Alert, s)
			}
			if r.Annotations["summary"] == "" {
				t.Errorf("%s has no summary", r.Alert)
			}
			if d := r.Annotations["description"]; !strings.Contains(d, "Check") {
				t.Errorf("%s: the description does not tell the on-call what to check:\n%s", r.Alert, d)
			}
			if bad := unknownMetrics(known, r.Expr); len(bad) > 0 {
				t.Errorf("%s: %s uses metrics the exporter does not expose: %v", r.Alert, r.Expr, bad)
			}
			// The queries of the annotation templates are in backquotes.
			for name, text := range r.Annotations {
				for _, q := range templateQueryRE.FindAllStringSubmatch(text, -1) {
					if bad := unknownMetrics(known, q[1]); len(bad) > 0 {
						t.Errorf("%s: annotation %s queries metrics the exporter does not expose: %v", r.Alert, name, bad)
					}
				}
			}
		}
	}
	for _, a := range wantAlerts {
		if !alerts[a] {
			t.Errorf("alerts.yml lacks %s", a)
		}
	}

	// Every alert has a promtool case where it fires and one where it
	// must not (an empty exp_alerts).
	var tf ruleTestFile
	decodeYAMLStrict(t, testenv.ReadRepoFile(t, "deploy", "prometheus", "alerts_test.yml"), "alerts_test.yml", &tf)
	if !slices.Equal(tf.RuleFiles, []string{"alerts.yml"}) {
		t.Errorf("alerts_test.yml tests %v, want [alerts.yml]", tf.RuleFiles)
	}
	fires, quiet := map[string]int{}, map[string]int{}
	for _, tc := range tf.Tests {
		for _, a := range tc.AlertRuleTest {
			if !alerts[a.Alertname] {
				t.Errorf("alerts_test.yml tests %s, which alerts.yml does not define", a.Alertname)
			}
			if len(a.ExpAlerts) == 0 {
				quiet[a.Alertname]++
			} else {
				fires[a.Alertname]++
			}
		}
	}
	for a := range alerts {
		if fires[a] == 0 || quiet[a] == 0 {
			t.Errorf("alerts_test.yml: %s has %d firing and %d not-firing cases, want at least one of each", a, fires[a], quiet[a])
		}
	}
}

// TestAlertmanagerInhibitRules checks deploy/prometheus/alertmanager.yml
// with amtool and then with a real Alertmanager on loopback: alerts as
// alerts.yml labels them are posted, and the inhibit rules must mute
// exactly the duplicates.
func TestAlertmanagerInhibitRules(t *testing.T) {
	cfgFile, err := filepath.Abs(testenv.RepoFile("deploy", "prometheus", "alertmanager.yml"))
	if err != nil {
		t.Fatal(err)
	}
	amtool := testenv.RequireTool(t, "Debian's prometheus-alertmanager package", "amtool")
	if out, err := testenv.Run(t, ".", amtool, "check-config", cfgFile); err != nil {
		t.Fatalf("amtool check-config: %v\n%s", err, out)
	}
	// Debian's package prometheus-alertmanager names its binary so;
	// upstream calls it alertmanager.
	base := testenv.StartTool(t, testenv.Tool{
		Names:   []string{"alertmanager", "prometheus-alertmanager"},
		Install: "apt-get install prometheus-alertmanager",
		Args: func(dir, addr string) []string {
			return []string{
				"--config.file=" + cfgFile,
				"--storage.path=" + dir,
				"--web.listen-address=" + addr,
				"--cluster.listen-address=", // no gossip: nothing listens beyond loopback
				"--log.level=warn",
			}
		},
		Ready: "/-/ready",
	})

	const inst = "exporter:9725"
	endpoint := func(alert, severity, domain, mx, ip string) map[string]string {
		return map[string]string{"alertname": alert, "severity": severity, "domain": domain, "mx": mx, "ip": ip, "instance": inst, "job": "mx_exporter"}
	}
	alerts := []struct {
		labels    map[string]string
		inhibited bool
	}{
		{map[string]string{"alertname": "MXAllGatewaysFailing", "severity": "critical", "domain": "reject.test"}, false},
		{endpoint("MXGatewayNotAnswering220", "warning", "reject.test", "mx.reject.test", "127.0.1.4"), true},
		{endpoint("MXProbeFailing", "warning", "reject.test", "mx.reject.test", "127.0.1.4"), true},
		// partial.test still receives mail: its dead MX is reported once.
		{endpoint("MXGatewayNotAnswering220", "warning", "partial.test", "dead.partial.test", "127.0.1.250"), false},
		{endpoint("MXProbeFailing", "warning", "partial.test", "dead.partial.test", "127.0.1.250"), true},
		{endpoint("MXOpenRelay", "critical", "relay.test", "mx.relay.test", "127.0.1.3"), false},
		{endpoint("MXProbeFailing", "warning", "relay.test", "mx.relay.test", "127.0.1.3"), true},
		{endpoint("MXProbeFailing", "warning", "good.test", "mx2.good.test", "127.0.1.2"), false},
		{endpoint("MXCertificateExpiringSoon", "critical", "tls.test", "mx.tls.test", "127.0.1.7"), false},
		{endpoint("MXCertificateExpiringSoon", "warning", "tls.test", "mx.tls.test", "127.0.1.7"), true},
		{endpoint("MXCertificateExpiringSoon", "warning", "soon.test", "mx.soon.test", "127.0.1.8"), false},
		{map[string]string{"alertname": "MXLookupFailing", "severity": "critical", "domain": "missing.test", "instance": inst, "job": "mx_exporter"}, false},
		{map[string]string{"alertname": "MXAllGatewaysFailing", "severity": "critical", "domain": "missing.test"}, true},
		// DANE: the DANE alert stands, the probe failure and the plain TLS
		// alerts of the same address are muted; another address's are not.
		{endpoint("MXDANETLSAMismatch", "critical", "mismatch.dnssec.test", "mx.mismatch.dnssec.test", "127.0.1.7"), false},
		{endpoint("MXProbeFailing", "warning", "mismatch.dnssec.test", "mx.mismatch.dnssec.test", "127.0.1.7"), true},
		{endpoint("MXDANETLSALookupFailing", "warning", "lookup.dnssec.test", "mx.lookup.dnssec.test", "127.0.1.13"), false},
		{endpoint("MXProbeFailing", "warning", "lookup.dnssec.test", "mx.lookup.dnssec.test", "127.0.1.13"), true},
		{endpoint("MXDANEStartTLSMissing", "critical", "notls.dnssec.test", "mx.notls.dnssec.test", "127.0.1.10"), false},
		{endpoint("MXTLSFailing", "warning", "notls.dnssec.test", "mx.notls.dnssec.test", "127.0.1.10"), true},
		{endpoint("MXProbeFailing", "warning", "notls.dnssec.test", "mx.notls.dnssec.test", "127.0.1.10"), true},
		{endpoint("MXStartTLSNoLongerOffered", "warning", "notls.dnssec.test", "mx.notls.dnssec.test", "127.0.1.10"), true},
		{endpoint("MXProbeFailing", "warning", "notls.dnssec.test", "mx2.notls.dnssec.test", "127.0.1.11"), false},
		// Not ready for the next key fails nothing: it mutes nothing.
		{endpoint("MXDANENotRolloverReady", "warning", "ee.dnssec.test", "mx.ee.dnssec.test", "127.0.1.7"), false},
		{endpoint("MXProbeFailing", "warning", "ee.dnssec.test", "mx.ee.dnssec.test", "127.0.1.7"), false},
		// Bogus DNSSEC: the failed MX lookup, and the domain whose only MX
		// host has no address for validating senders.
		{map[string]string{"alertname": "MXDNSSECBogus", "severity": "critical", "domain": "bogusmx.dnssec.test", "state": "bogus", "instance": inst, "job": "mx_exporter"}, false},
		{map[string]string{"alertname": "MXLookupFailing", "severity": "critical", "domain": "bogusmx.dnssec.test", "instance": inst, "job": "mx_exporter"}, true},
		{map[string]string{"alertname": "MXDNSSECBogus", "severity": "critical", "domain": "bogushost.dnssec.test", "mx": "mx.bogushost.dnssec.test", "state": "bogus", "instance": inst, "job": "mx_exporter"}, false},
		{map[string]string{"alertname": "MXAllGatewaysFailing", "severity": "critical", "domain": "bogushost.dnssec.test"}, true},
		{map[string]string{"alertname": "MXResolverNotValidating", "severity": "warning", "instance": inst, "job": "mx_exporter"}, false},
		// MTA-STS: the uncovered host's probe failure (every address of
		// it), and the plain TLS alerts of an address whose TLS fails the
		// policy; not another domain's, nor the certificate's expiry,
		// which names the cause.
		{map[string]string{"alertname": "MXMTASTSMXUncovered", "severity": "critical", "domain": "uncovered.sts.test", "mx": "mx.tls.test", "instance": inst, "job": "mx_exporter"}, false},
		{endpoint("MXProbeFailing", "warning", "uncovered.sts.test", "mx.tls.test", "127.0.1.7"), true},
		{endpoint("MXProbeFailing", "warning", "tls.test", "mx.tls.test", "127.0.1.7"), false},
		{map[string]string{"alertname": "MXMTASTSTLSInvalid", "severity": "critical", "domain": "expiredmx.sts.test", "mx": "mx.expired.test", "ip": "127.0.1.12", "status": "certificate_invalid", "instance": inst, "job": "mx_exporter"}, false},
		{endpoint("MXProbeFailing", "warning", "expiredmx.sts.test", "mx.expired.test", "127.0.1.12"), true},
		{endpoint("MXCertificateNotVerified", "warning", "expiredmx.sts.test", "mx.expired.test", "127.0.1.12"), true},
		{endpoint("MXCertificateExpiringSoon", "critical", "expiredmx.sts.test", "mx.expired.test", "127.0.1.12"), false},
		{map[string]string{"alertname": "MXMTASTSRecordInvalid", "severity": "info", "domain": "duptxt.sts.test", "defect": "duplicate", "instance": inst, "job": "mx_exporter"}, false},
		// IPv6 failing while IPv4 works: the IPv6 address's probe failure,
		// not that of another host's IPv4 address.
		{endpoint("MXIPv6FailingWhileIPv4Works", "warning", "v6broken.test", "mx.v6broken.test", "::1"), false},
		{endpoint("MXProbeFailing", "warning", "v6broken.test", "mx.v6broken.test", "::1"), true},
		{endpoint("MXProbeFailing", "warning", "v4broken.test", "mx.v4broken.test", "127.0.1.2"), false},
		// A listing mutes nothing, and the open relay that caused it stands.
		{map[string]string{"alertname": "MXListedOnBlocklist", "severity": "warning", "domain": "relay.test", "mx": "mx.relay.test", "ip": "127.0.1.3", "zone": "bl.test", "instance": inst, "job": "mx_exporter"}, false},
		{map[string]string{"alertname": "MXBlocklistZoneUnhealthy", "severity": "info", "zone": "brokenbl.test", "instance": inst, "job": "mx_exporter"}, false},
	}
	var post []map[string]any
	for _, a := range alerts {
		post = append(post, map[string]any{"labels": a.labels, "startsAt": time.Now().Add(-time.Minute).Format(time.RFC3339)})
	}
	body, err := json.Marshal(post)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(base+"/api/v2/alerts", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting alerts: %s", resp.Status)
	}

	type amAlert struct {
		Labels map[string]string `json:"labels"`
		Status struct {
			InhibitedBy []string `json:"inhibitedBy"`
		} `json:"status"`
	}
	var got []amAlert
	// Alertmanager marks inhibitions a moment after it stores the alerts:
	// wait until every alert is there and the ones to be muted are, then
	// check them all (a rule that mutes too much or too little still fails).
	testenv.WaitFor(t, 20*time.Second, "alertmanager to hold every posted alert and apply its inhibit rules", func() bool {
		resp, err := http.Get(base + "/api/v2/alerts")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		got = nil
		if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
			t.Fatal(err)
		}
		if len(got) != len(alerts) {
			return false
		}
		for _, want := range alerts {
			for _, g := range got {
				if maps.Equal(g.Labels, want.labels) && want.inhibited && len(g.Status.InhibitedBy) == 0 {
					return false
				}
			}
		}
		return true
	})
	for _, want := range alerts {
		found := false
		for _, g := range got {
			if maps.Equal(g.Labels, want.labels) {
				found = true
				if inhibited := len(g.Status.InhibitedBy) > 0; inhibited != want.inhibited {
					t.Errorf("%v: inhibited %v, want %v", want.labels, inhibited, want.inhibited)
				}
			}
		}
		if !found {
			t.Errorf("alertmanager lost %v", want.labels)
		}
	}
}
