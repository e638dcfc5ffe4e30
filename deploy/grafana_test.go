package deploy

// The Grafana dashboard: well-formed, every panel on the datasource
// variable, every metric one the exporter exposes; and the variable
// substitution that DashboardQueries uses. cmd/mx_exporter runs the queries
// against a real Prometheus.

import (
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

func TestDashboardIsWellFormed(t *testing.T) {
	d, err := readDashboard(testenv.RepoFile("deploy", "grafana", "mx_exporter.json"))
	if err != nil {
		t.Fatal(err)
	}
	known := knownMetrics(t)
	if d.UID == "" || d.Title == "" {
		t.Errorf("uid %q, title %q: both must be set", d.UID, d.Title)
	}
	if d.SchemaVersion < 36 {
		t.Errorf("schemaVersion %d, want 36 or later (Grafana 9+)", d.SchemaVersion)
	}

	vars := map[string]dashVariable{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v
	}
	if v, ok := vars["datasource"]; !ok || v.Type != "datasource" || string(v.Query) != `"prometheus"` {
		t.Errorf("want a datasource variable named datasource of type prometheus, got %+v", v)
	}
	for _, name := range []string{"domain", "mx"} {
		v, ok := vars[name]
		if !ok || v.Type != "query" {
			t.Errorf("want a query variable %s, got %+v", name, v)
			continue
		}
		if !strings.HasPrefix(v.variableQuery(), "label_values(") {
			t.Errorf("variable %s: query %q, want label_values(...)", name, v.variableQuery())
		}
		if v.Datasource == nil || v.Datasource.UID != "${datasource}" {
			t.Errorf("variable %s: datasource %+v, want uid ${datasource}", name, v.Datasource)
		}
	}

	ids := map[int]string{}
	titles := map[string]bool{}
	var grid [][24]string // grid[y][x] = panel title
	cover := func(p dashPanel) {
		for y := p.GridPos.Y; y < p.GridPos.Y+p.GridPos.H; y++ {
			for len(grid) <= y {
				grid = append(grid, [24]string{})
			}
			for x := p.GridPos.X; x < p.GridPos.X+p.GridPos.W && x < 24; x++ {
				if other := grid[y][x]; other != "" {
					t.Errorf("panel %q overlaps %q at x=%d y=%d", p.Title, other, x, y)
					return
				}
				grid[y][x] = p.Title
			}
		}
	}
	for _, p := range d.Panels {
		if p.Type == "row" {
			cover(p)
		}
	}
	usedMetrics := map[string]bool{}
	for _, p := range d.panels() {
		if p.Title == "" || titles[p.Title] {
			t.Errorf("panel id %d: title %q is empty or not unique", p.ID, p.Title)
		}
		titles[p.Title] = true
		if other, dup := ids[p.ID]; dup || p.ID == 0 {
			t.Errorf("panel %q: id %d is zero or also used by %q", p.Title, p.ID, other)
		}
		ids[p.ID] = p.Title
		if p.GridPos.W <= 0 || p.GridPos.H <= 0 || p.GridPos.X < 0 || p.GridPos.X+p.GridPos.W > 24 {
			t.Errorf("panel %q: gridPos %+v outside the 24 columns", p.Title, p.GridPos)
		}
		cover(p)
		if p.Datasource == nil || p.Datasource.UID != "${datasource}" || p.Datasource.Type != "prometheus" {
			t.Errorf("panel %q: datasource %+v, want prometheus ${datasource}", p.Title, p.Datasource)
		}
		if len(p.Targets) == 0 {
			t.Errorf("panel %q has no query", p.Title)
		}
		refs := map[string]bool{}
		for _, tg := range p.Targets {
			if strings.TrimSpace(tg.Expr) == "" || tg.RefID == "" || refs[tg.RefID] {
				t.Errorf("panel %q: target %q has no expr, no refId or a duplicate refId", p.Title, tg.RefID)
			}
			refs[tg.RefID] = true
			if tg.Datasource == nil || tg.Datasource.UID != "${datasource}" {
				t.Errorf("panel %q/%s: datasource %+v, want uid ${datasource}", p.Title, tg.RefID, tg.Datasource)
			}
			if bad := unknownMetrics(known, tg.Expr); len(bad) > 0 {
				t.Errorf("panel %q/%s: %s uses metrics the exporter does not expose: %v", p.Title, tg.RefID, tg.Expr, bad)
			}
			for _, m := range metricNames(tg.Expr) {
				usedMetrics[m] = true
			}
		}
	}
	// What issue 5 asks the dashboard to show, ...
	for _, m := range []string{
		"mx_smtp_reply_code", "mx_probe_success", "mx_smtp_step_duration_seconds", "mx_smtp_size_limit_bytes",
		"mx_smtp_open_relay", "mx_tls_cert_expiry_timestamp_seconds", "mx_dns_lookup_success", "mx_probe_failure_info",
		"mx_exporter_probes_total", "mx_exporter_probes_in_flight", "mx_exporter_scheduler_lag_seconds_bucket",
		"mx_exporter_config_last_reload_successful",
		// and issue 11: DNSSEC and DANE.
		"mx_dane_verdict_info", "mx_dane_tlsa_records", "mx_dane_tlsa_usable_records", "mx_dane_tlsa_matched_records",
		"mx_dane_rollover_ready", "mx_dns_dnssec_info", "mx_host_dnssec_info", "mx_dnssec_resolver_validating",
		// and issue 12: MTA-STS and TLS-RPT.
		"mx_mta_sts_status_info", "mx_mta_sts_failure", "mx_mta_sts_policy_mode_info", "mx_mta_sts_policy_fetch_timestamp_seconds",
		"mx_mta_sts_policy_max_age_seconds", "mx_mta_sts_policy_host_cert_expiry_timestamp_seconds", "mx_mta_sts_mx_covered",
		"mx_mta_sts_tls_status_info", "mx_mta_sts_policy_fetch_error_info", "mx_mta_sts_policy_defect_info",
		"mx_mta_sts_txt_defect_info", "mx_tlsrpt_records", "mx_tlsrpt_valid", "mx_tlsrpt_defect_info",
		// and issue 13: reverse DNS, names, blocklists and IPv6 parity.
		"mx_ptr_info", "mx_names_agree", "mx_name_mismatch_info", "mx_dnsbl_listed", "mx_dnsbl_return_code_info",
		"mx_dnsbl_error_info", "mx_dnsbl_host_listed", "mx_dnsbl_host_return_code_info", "mx_dnsbl_host_error_info",
		"mx_dnsbl_zone_healthy", "mx_dnsbl_zone_check_timestamp_seconds", "mx_ip_parity_info", "mx_ipv6_mx_hosts",
	} {
		if !usedMetrics[m] {
			t.Errorf("no panel shows %s", m)
		}
	}
	qs, err := d.queries()
	if err != nil {
		t.Error(err)
	}
	if len(qs) < len(d.panels()) {
		t.Errorf("extracted %d queries from %d panels", len(qs), len(d.panels()))
	}
}

func TestDashboardVariableSubstitution(t *testing.T) {
	vars := map[string]string{"domain": ".*", "mx": "mx1.good.test"}
	for _, tt := range []struct{ in, want string }{
		{`x{domain=~"$domain", mx=~"$mx"}`, `x{domain=~".*", mx=~"mx1.good.test"}`},
		{`x{domain=~"${domain}"}[$__rate_interval]`, `x{domain=~".*"}[10s]`},
		{`x{domain=~"${domain:regex}"}`, `x{domain=~".*"}`},
		{`x{domain=~"[[domain]]"}`, `x{domain=~".*"}`},
	} {
		got, err := substitute(tt.in, vars)
		if err != nil || got != tt.want {
			t.Errorf("substitute(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
	if _, err := substitute(`x{a="$nope"}`, vars); err == nil {
		t.Errorf("an undefined variable was substituted silently")
	}
	for in, want := range map[string]string{
		`label_values(mx_target_success, domain)`:                   `group by (domain) (mx_target_success)`,
		`label_values(mx_probe_success{domain=~"$domain"}, mx)`:     `group by (mx) (mx_probe_success{domain=~"$domain"})`,
		`label_values(domain)`:                                      `group by (domain) ({domain!=""})`,
		` label_values( rate(x[5m]) , le ) `:                        `group by (le) (rate(x[5m]))`,
		`label_values(mx_probe_success{domain=~"a,b"}, mx)`:         `group by (mx) (mx_probe_success{domain=~"a,b"})`,
		`label_values(mx_smtp_extension{extension="SIZE"}, domain)`: `group by (domain) (mx_smtp_extension{extension="SIZE"})`,
	} {
		if got, ok := labelValuesToPromQL(in); !ok || got != want {
			t.Errorf("labelValuesToPromQL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

func TestQueryWithoutFallback(t *testing.T) {
	for _, tt := range []struct {
		in, want string
		had      bool
	}{
		{`count(x == 1) or vector(0)`, `count(x == 1)`, true},
		{"(count(a == 1) or vector(0))\n+\n(count(b == 1) OR vector( 0 ))", "(count(a == 1))\n+\n(count(b == 1))", true},
		{`count(a == 1 or b == 1) or vector(0)`, `count(a == 1 or b == 1)`, true},
		{`count(x) or vector(1)`, `count(x) or vector(1)`, false},
		{`sum(mx_probe_success)`, `sum(mx_probe_success)`, false},
	} {
		got, had := Query{Expr: tt.in}.WithoutFallback()
		if got != tt.want || had != tt.had {
			t.Errorf("WithoutFallback(%q) = %q, %v; want %q, %v", tt.in, got, had, tt.want, tt.had)
		}
	}
}
