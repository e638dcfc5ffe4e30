package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// prometheusInstall says where the tests' Prometheus comes from.
const prometheusInstall = "apt-get install prometheus; .ci/run installs it"

// startPrometheus runs a real Prometheus on loopback scraping target every
// second, and returns its base URL.
func startPrometheus(t *testing.T, target string) string {
	t.Helper()
	return startPrometheusConfig(t, fmt.Sprintf(`global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: mx_exporter
    static_configs:
      - targets: [%q]
`, target))
}

// startPrometheusConfig runs a real Prometheus on loopback with the given
// configuration and returns its base URL once it is ready.
func startPrometheusConfig(t *testing.T, cfg string) string {
	t.Helper()
	return testenv.StartTool(t, testenv.Tool{
		Names:   []string{"prometheus"},
		Install: prometheusInstall,
		Files:   map[string]string{"prometheus.yml": cfg},
		Args: func(dir, addr string) []string {
			return []string{
				"--config.file=" + filepath.Join(dir, "prometheus.yml"),
				"--storage.tsdb.path=" + filepath.Join(dir, "data"),
				"--web.listen-address=" + addr,
				"--log.level=warn",
			}
		},
		Ready: "/-/ready",
	})
}

type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant PromQL query and returns its vector.
func query(t *testing.T, base, q string) []promResult {
	t.Helper()
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		t.Fatalf("query %s: %v", q, err)
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("query %s: decoding: %v", q, err)
	}
	if body.Status != "success" {
		t.Fatalf("query %s: %s", q, body.Error)
	}
	return body.Data.Result
}

func TestPrometheusScrapesTheDaemon(t *testing.T) {
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, testTargets))
	base := startPrometheus(t, d.addr)

	// Each assertion is a PromQL expression that must return exactly the
	// series named, as a dashboard or alert would see it.
	tests := []struct {
		name  string
		query string
		want  []map[string]string // label subsets, one per expected series
	}{
		{"healthy MX answers 220", `mx_smtp_reply_code{command="banner",domain="good.test"} == 220`,
			[]map[string]string{{"mx": "mx1.good.test", "ip": "127.0.1.1"}, {"mx": "mx2.good.test", "ip": "127.0.1.2"}}},
		{"open relay detected", `mx_smtp_open_relay == 1`,
			[]map[string]string{{"domain": "relay.test", "mx": "mx.relay.test"}}},
		{"554 banner fails with its reason", `mx_probe_success{domain="reject.test"} == 0 and on(domain, mx, ip) mx_probe_failure_info{reason="banner_rejected"} == 1`,
			[]map[string]string{{"mx": "mx.reject.test", "ip": "127.0.1.4"}}},
		{"dead address fails with its reason", `mx_probe_success{domain="partial.test"} == 0 and on(domain, mx, ip) mx_probe_failure_info{reason="connect_refused"} == 1`,
			[]map[string]string{{"mx": "dead.partial.test", "ip": env.DeadIP}}},
		{"the healthy MX behind the dead one succeeds", `mx_probe_success{domain="partial.test"} == 1`,
			[]map[string]string{{"mx": "mx1.good.test"}}},
		{"SIZE equals the configured value", fmt.Sprintf(`mx_smtp_size_limit_bytes == %d`, env.SizeLimit),
			[]map[string]string{{"domain": "good.test", "mx": "mx2.good.test"}}},
		{"null MX has no records", `mx_records{domain="nullmx.test"} == 0 and mx_null_mx == 1`,
			[]map[string]string{{"domain": "nullmx.test"}}},
		{"NXDOMAIN lookup fails", `mx_dns_lookup_success == 0`,
			[]map[string]string{{"domain": "missing.test"}}},
		{"the exporter is scraped", `up{job="mx_exporter"} == 1`,
			[]map[string]string{{"job": "mx_exporter"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []promResult
			waitFor(t, 30*time.Second, fmt.Sprintf("%s to return %d series", tt.query, len(tt.want)), func() bool {
				got = query(t, base, tt.query)
				return matches(got, tt.want)
			})
		})
	}
}

// matches reports whether got holds exactly one series per want, each
// carrying want's labels.
func matches(got []promResult, want []map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	used := make([]bool, len(got))
	for _, w := range want {
		found := false
		for i, g := range got {
			if used[i] {
				continue
			}
			ok := true
			for k, v := range w {
				if g.Metric[k] != v {
					ok = false
					break
				}
			}
			if ok {
				used[i], found = true, true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}
