package collector

import (
	"bytes"
	"flag"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/rdns"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/probe/tlsrpt"
	"github.com/mx-exporter/mx_exporter/collector/store"
)

var update = flag.Bool("update", false, "rewrite testdata/metrics.golden")

const golden = "testdata/metrics.golden"

func TestGolden(t *testing.T) {
	got := scrape(t, fastHandler(NewExporter(fixtureStore()), selfRegistry(t)))
	contentType, got, _ := strings.Cut(got, "\n")
	if want := "text/plain; version=0.0.4; charset=utf-8; escaping=underscores"; contentType != want {
		t.Fatalf("Content-Type: want %q, got %q", want, contentType)
	}
	if *update {
		if err := os.WriteFile(golden, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run go test -update once to create it)", err)
	}
	if got != string(want) {
		t.Fatalf("exposition differs from %s (go test -update rewrites it):\n%s", golden, lineDiff(string(want), got))
	}
	// The same series through testutil, against the registry path, which
	// orders a family's series otherwise.
	if err := testutil.GatherAndCompare(gathererOf(t, NewCollector(fixtureStore()), NewSelfCollector(fixtureStats)), bytes.NewReader(want)); err != nil {
		t.Fatalf("GatherAndCompare: %v", err)
	}
}

func TestLint(t *testing.T) {
	for _, tc := range []struct {
		name string
		c    prometheus.Collector
	}{
		{"collector", NewCollector(fixtureStore())},
		{"self", NewSelfCollector(fixtureStats)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			problems, err := testutil.CollectAndLint(tc.c)
			if err != nil {
				t.Fatalf("CollectAndLint: %v", err)
			}
			if len(problems) != 0 {
				t.Fatalf("want no lint problems, got %v", problems)
			}
		})
	}
}

func TestPromtool(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("promtool not found: %v", err)
		}
		t.Skipf("promtool not found: %v", err)
	}
	exposition, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = bytes.NewReader(exposition)
	out, err := cmd.CombinedOutput()
	if err != nil || len(bytes.TrimSpace(out)) != 0 {
		t.Fatalf("promtool check metrics: want no findings, got %v:\n%s", err, out)
	}
}

// TestEndpointSeries checks the fixed per-endpoint set: series that exist
// for an endpoint exist from its first probe, 0 where nothing happened.
func TestEndpointSeries(t *testing.T) {
	got := seriesOf(t, scrape(t, fastHandler(NewExporter(fixtureStore()), nil)))
	const (
		refused = `domain="down.example",ip="203.0.113.25",mx="mx.down.example"`
		banned  = `domain="banned.example",ip="198.51.100.7",mx="mx.banned.example"`
		mx1     = `domain="example.org",ip="192.0.2.10",mx="mx1.example.org"`
		mx2     = `domain="example.org",ip="192.0.2.9",mx="mx2.example.org"`
		relay   = `domain="relay.example",ip="198.51.100.5",mx="mx.relay.example"`
		sub     = `domain="smtp.example.net:587",ip="203.0.113.7",mx="smtp.example.net"`
	)
	for _, tc := range []struct {
		series string
		want   float64 // -1: must be absent
	}{
		// connect_refused: everything there, at 0.
		{`mx_probe_success{` + refused + `}`, 0},
		{`mx_probe_failure_info{` + refused + `,reason="connect_refused"}`, 1},
		{`mx_smtp_reply_code{command="banner",` + refused + `}`, 0},
		{`mx_smtp_reply_code{command="rcpt",` + refused + `}`, 0},
		{`mx_smtp_reply_code{command="relay",` + refused + `}`, 0},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="connect"}`, 0.001},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="tls_handshake"}`, 0},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="helo"}`, -1},
		{`mx_smtp_step_duration_seconds{` + refused + `,step="vrfy"}`, -1},
		{`mx_smtp_recipient_accepted{` + refused + `,recipient="postmaster@example.org"}`, 0},
		{`mx_smtp_recipient_reply_code{` + refused + `,recipient="postmaster@example.org"}`, 0},
		{`mx_smtp_open_relay{` + refused + `}`, 0},
		{`mx_smtp_relay_check_conclusive{` + refused + `}`, 0},
		{`mx_smtp_extension{domain="down.example",extension="STARTTLS",ip="203.0.113.25",mx="mx.down.example",tls="false"}`, 0},
		{`mx_smtp_extension{domain="down.example",extension="STARTTLS",ip="203.0.113.25",mx="mx.down.example",tls="true"}`, -1},
		{`mx_tls_established{` + refused + `}`, 0},
		{`mx_tls_cert_verified{` + refused + `}`, -1},
		{`mx_smtp_banner_info{domain="down.example",hostname="",ip="203.0.113.25",mx="mx.down.example"}`, -1},
		{`mx_host_addresses{domain="down.example",mx="mx-noaddr.down.example"}`, 0},
		{`mx_host_addresses{domain="down.example",mx="mx.down.example"}`, 1},
		{`mx_target_success{domain="down.example"}`, 0},
		// 554 banner.
		{`mx_smtp_reply_code{command="banner",` + banned + `}`, 554},
		{`mx_smtp_enhanced_status_info{code="5.7.1",command="banner",` + banned + `}`, 1},
		{`mx_probe_failure_info{` + banned + `,reason="banner_rejected"}`, 1},
		{`mx_smtp_reply_code{command="quit",` + banned + `}`, 221},
		// healthy, with and without TLS.
		{`mx_probe_success{` + mx1 + `}`, 1},
		{`mx_probe_failure_info{` + mx1 + `,reason="connect_refused"}`, -1},
		{`mx_tls_established{` + mx1 + `}`, 1},
		{`mx_tls_cert_verified{` + mx1 + `}`, 1},
		{`mx_tls_cert_expiry_timestamp_seconds{` + mx1 + `}`, float64(time.Date(2025, 8, 30, 0, 0, 0, 0, time.UTC).Unix())},
		{`mx_tls_info{cipher="TLS_AES_128_GCM_SHA256",` + mx1 + `,version="TLS 1.3"}`, 1},
		{`mx_smtp_size_limit_bytes{` + mx1 + `}`, 52428800},
		// The default module: STARTTLS as the plaintext EHLO offered it, the
		// extensions senders act on as the last EHLO did; the rest of the
		// matrix, enhanced status codes and housekeeping steps are opt-in.
		{`mx_smtp_extension{domain="example.org",extension="STARTTLS",ip="192.0.2.10",mx="mx1.example.org",tls="false"}`, 1},
		{`mx_smtp_extension{domain="example.org",extension="STARTTLS",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, -1},
		{`mx_smtp_extension{domain="example.org",extension="SMTPUTF8",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, 1},
		{`mx_smtp_extension{domain="example.org",extension="REQUIRETLS",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, 0},
		{`mx_smtp_extension{domain="example.org",extension="SMTPUTF8",ip="192.0.2.10",mx="mx1.example.org",tls="false"}`, -1},
		{`mx_smtp_extension{domain="example.org",extension="AUTH",ip="192.0.2.10",mx="mx1.example.org",tls="false"}`, -1},
		{`mx_smtp_extension{domain="example.org",extension="AUTH",ip="192.0.2.10",mx="mx1.example.org",tls="true"}`, -1},
		{`mx_smtp_enhanced_status_info{code="2.1.5",command="rcpt",` + mx1 + `}`, -1},
		{`mx_smtp_reply_code{command="rset",` + mx1 + `}`, -1},
		{`mx_smtp_reply_code{command="starttls",` + mx1 + `}`, -1},
		{`mx_smtp_reply_code{command="mail",` + mx1 + `}`, 250},
		{`mx_smtp_step_duration_seconds{` + mx1 + `,step="tls_handshake"}`, 0.015},
		{`mx_smtp_step_duration_seconds{` + mx1 + `,step="ehlo_tls"}`, -1},
		{`mx_smtp_step_duration_seconds{` + mx1 + `,step="mail"}`, -1},
		{`mx_smtp_step_duration_seconds{` + mx1 + `,step="pipeline"}`, -1},
		{`mx_smtp_banner_info{domain="example.org",hostname="mx1.example.org",ip="192.0.2.10",mx="mx1.example.org"}`, 1},
		{`mx_smtp_relay_check_conclusive{` + mx1 + `}`, 1},
		{`mx_smtp_open_relay{` + mx1 + `}`, 0},
		{`mx_tls_established{` + mx2 + `}`, 0},
		{`mx_smtp_step_duration_seconds{` + mx2 + `,step="tls_handshake"}`, 0},
		{`mx_smtp_step_duration_seconds{` + mx2 + `,step="starttls"}`, -1},
		{`mx_smtp_extension{domain="example.org",extension="8BITMIME",ip="192.0.2.9",mx="mx2.example.org",tls="false"}`, 1},
		{`mx_smtp_extension{domain="example.org",extension="REQUIRETLS",ip="192.0.2.9",mx="mx2.example.org",tls="false"}`, 0},
		{`mx_smtp_size_limit_bytes{` + mx2 + `}`, 0},
		{`mx_record_info{domain="example.org",mx="mx2.example.org",preference="20"}`, 1},
		{`mx_records{domain="example.org"}`, 2},
		{`mx_probe_last_run_timestamp_seconds{` + mx2 + `}`, float64(t0.Add(131*ms).UnixMilli()) / 1e3},
		// open relay.
		{`mx_smtp_open_relay{` + relay + `}`, 1},
		{`mx_smtp_relay_check_conclusive{` + relay + `}`, 1},
		{`mx_smtp_reply_code{command="relay",` + relay + `}`, 250},
		{`mx_probe_failure_info{` + relay + `,reason="relay_open"}`, 1},
		// Every detail opted in (metrics) and pipelining asked: the whole
		// extension matrix, every step, enhanced status codes, and the
		// pipeline step at 0 when the dialogue was not pipelined.
		{`mx_smtp_extension{domain="relay.example",extension="AUTH",ip="198.51.100.5",mx="mx.relay.example",tls="false"}`, 0},
		{`mx_smtp_enhanced_status_info{code="2.1.5",command="relay",` + relay + `}`, 1},
		{`mx_smtp_reply_code{command="starttls",` + relay + `}`, 0},
		{`mx_smtp_step_duration_seconds{` + relay + `,step="rset"}`, 0.001},
		{`mx_smtp_step_duration_seconds{` + relay + `,step="pipeline"}`, 0},
		// host target, STARTTLS off, HELO, VRFY, no recipients, no relay check.
		{`mx_smtp_step_duration_seconds{` + sub + `,step="helo"}`, 0.001},
		{`mx_smtp_reply_code{command="ehlo",` + sub + `}`, 502},
		{`mx_smtp_reply_code{command="vrfy",` + sub + `}`, 252},
		{`mx_smtp_reply_code{command="starttls",` + sub + `}`, -1},
		{`mx_smtp_reply_code{command="rcpt",` + sub + `}`, -1},
		{`mx_smtp_open_relay{` + sub + `}`, -1},
		{`mx_tls_established{` + sub + `}`, -1},
		{`mx_dns_lookup_success{domain="smtp.example.net:587"}`, -1},
		{`mx_host_addresses{domain="smtp.example.net:587",mx="smtp.example.net"}`, 1},
		{`mx_target_success{domain="smtp.example.net:587"}`, 1},
		// DNS outcomes.
		{`mx_dns_lookup_success{domain="nomail.example"}`, 1},
		{`mx_null_mx{domain="nomail.example"}`, 1},
		{`mx_records{domain="nomail.example"}`, 0},
		{`mx_target_success{domain="nomail.example"}`, 1},
		{`mx_dns_lookup_success{domain="gone.example"}`, 0},
		{`mx_dns_lookup_outcome_info{domain="gone.example",outcome="nxdomain"}`, 1},
		{`mx_target_success{domain="gone.example"}`, 0},
		// Named findings and facts (issue 9): present while they hold.
		{`mx_smtp_finding_info{domain="grey.example",finding="greylisted",ip="198.51.100.20",mx="alias.grey.example"}`, 1},
		{`mx_smtp_finding_info{domain="grey.example",finding="slow_step",ip="198.51.100.20",mx="alias.grey.example"}`, 1},
		{`mx_smtp_finding_info{domain="example.org",finding="greylisted",ip="192.0.2.9",mx="mx2.example.org"}`, -1},
		{`mx_probe_failure_info{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",reason="rcpt_deferred"}`, 1},
		{`mx_smtp_recipient_reply_code{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",recipient="postmaster@example.org"}`, 450},
		{`mx_smtp_relay_check_conclusive{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example"}`, 0},
		{`mx_smtp_open_relay{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example"}`, 0},
		{`mx_tls_starttls_failure_info{domain="grey.example",ip="198.51.100.20",mx="alias.grey.example",stage="refused"}`, 1},
		{`mx_tls_starttls_failure_info{domain="example.org",ip="192.0.2.10",mx="mx1.example.org",stage="refused"}`, -1},
		{`mx_smtp_greeting_first_line_seconds{domain="example.org",ip="192.0.2.10",mx="mx1.example.org"}`, 0.005},
		{`mx_smtp_greeting_first_line_seconds{domain="down.example",ip="203.0.113.25",mx="mx.down.example"}`, -1},
		{`mx_dns_finding_info{domain="grey.example",finding="null_mx_mixed"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="mx_cname",mx="alias.grey.example"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="special_address",mx="alias.grey.example"}`, 1},
		{`mx_host_finding_info{domain="grey.example",finding="mx_ip_literal",mx="192.0.2.1"}`, 1},
		// An implicit MX is no MX record: mx_records and mx_record_info agree.
		{`mx_records{domain="implicit.example"}`, 0},
		{`mx_implicit_mx{domain="implicit.example"}`, 1},
		{`mx_record_info{domain="implicit.example",mx="implicit.example",preference="0"}`, -1},
		{`mx_probe_success{domain="implicit.example",ip="192.0.2.44",mx="implicit.example"}`, 1},
		// DNSSEC and DANE (issue 11): the verdict for every address of a
		// DANE module, the counts where a secure TLSA RRset exists, the
		// matches and rollover where a chain was judged.
		{`mx_dns_dnssec_info{domain="dane.example",state="secure"}`, 1},
		{`mx_dns_dnssec_info{domain="example.org",state="unchecked"}`, -1},
		{`mx_dnssec_resolver_validating{domain="dane.example"}`, 1},
		{`mx_dnssec_resolver_validating{domain="example.org"}`, -1},
		{`mx_host_dnssec_info{domain="dane.example",mx="mx2.dane.example",state="secure"}`, 1},
		{`mx_dane_verdict_info{domain="dane.example",ip="192.0.2.61",mx="mx1.dane.example",verdict="pass"}`, 1},
		{`mx_dane_verdict_info{domain="dane.example",ip="192.0.2.62",mx="mx2.dane.example",verdict="mismatch"}`, 1},
		{`mx_probe_failure_info{domain="dane.example",ip="192.0.2.62",mx="mx2.dane.example",reason="dane_mismatch"}`, 1},
		{`mx_dane_verdict_info{domain="dane.example",ip="192.0.2.63",mx="mx3.dane.example",verdict="no_tlsa"}`, 1},
		{`mx_dane_verdict_info{` + mx1 + `,verdict="not_checked"}`, -1},
		{`mx_dane_tlsa_records{domain="dane.example",ip="192.0.2.61",mx="mx1.dane.example"}`, 2},
		{`mx_dane_tlsa_usable_records{domain="dane.example",ip="192.0.2.61",mx="mx1.dane.example"}`, 2},
		{`mx_dane_tlsa_matched_records{domain="dane.example",ip="192.0.2.61",mx="mx1.dane.example"}`, 1},
		{`mx_dane_rollover_ready{domain="dane.example",ip="192.0.2.61",mx="mx1.dane.example"}`, 1},
		{`mx_dane_tlsa_matched_records{domain="dane.example",ip="192.0.2.62",mx="mx2.dane.example"}`, 0},
		{`mx_dane_rollover_ready{domain="dane.example",ip="192.0.2.62",mx="mx2.dane.example"}`, 0},
		{`mx_dane_tlsa_records{domain="dane.example",ip="192.0.2.63",mx="mx3.dane.example"}`, -1},
		{`mx_dane_rollover_ready{domain="dane.example",ip="192.0.2.63",mx="mx3.dane.example"}`, -1},
		// MTA-STS and TLS-RPT (issue 12): per domain, per MX host of a
		// policy that covers hosts, per covered address.
		{`mx_mta_sts_status_info{domain="sts.example",status="pass"}`, 1},
		{`mx_mta_sts_failure{domain="sts.example"}`, 0},
		{`mx_mta_sts_txt_records{domain="sts.example"}`, 1},
		{`mx_mta_sts_txt_valid{domain="sts.example"}`, 1},
		{`mx_mta_sts_policy_fetch_success{domain="sts.example"}`, 1},
		{`mx_mta_sts_policy_http_status{domain="sts.example"}`, 200},
		{`mx_mta_sts_policy_valid{domain="sts.example"}`, 1},
		{`mx_mta_sts_policy_mode_info{domain="sts.example",mode="enforce"}`, 1},
		{`mx_mta_sts_policy_mode_info{domain="sts.example",mode="testing"}`, -1},
		{`mx_mta_sts_policy_max_age_seconds{domain="sts.example"}`, 604800},
		{`mx_mta_sts_policy_fetch_timestamp_seconds{domain="sts.example"}`, float64(t0.Add(-30*time.Minute+25*ms).UnixMilli()) / 1e3},
		{`mx_mta_sts_policy_host_cert_expiry_timestamp_seconds{domain="sts.example"}`, float64(time.Date(2025, 7, 30, 0, 0, 0, 0, time.UTC).Unix())},
		{`mx_mta_sts_policy_host_cert_verified{domain="sts.example"}`, 1},
		{`mx_mta_sts_mx_covered{domain="sts.example",mx="mx2.sts.example"}`, 1},
		{`mx_mta_sts_tls_status_info{domain="sts.example",ip="2001:db8::71",mx="mx1.sts.example",status="valid"}`, 1},
		{`mx_tlsrpt_records{domain="sts.example"}`, 1},
		{`mx_tlsrpt_valid{domain="sts.example"}`, 1},
		{`mx_mta_sts_status_info{domain="refused.example",status="mx_uncovered"}`, 1},
		{`mx_mta_sts_failure{domain="refused.example"}`, 1},
		{`mx_mta_sts_policy_defect_info{defect="max_age_short",domain="refused.example"}`, 1},
		{`mx_mta_sts_mx_covered{domain="refused.example",mx="mx2.refused.example"}`, 0},
		{`mx_mta_sts_tls_status_info{domain="refused.example",ip="192.0.2.82",mx="mx1.refused.example",status="certificate_invalid"}`, 1},
		{`mx_mta_sts_tls_status_info{domain="refused.example",ip="192.0.2.83",mx="mx2.refused.example",status="not_reached"}`, -1},
		{`mx_probe_failure_info{domain="refused.example",ip="192.0.2.82",mx="mx1.refused.example",reason="mta_sts_tls_invalid"}`, 1},
		{`mx_probe_failure_info{domain="refused.example",ip="192.0.2.83",mx="mx2.refused.example",reason="mta_sts_mx_uncovered"}`, 1},
		{`mx_tlsrpt_defect_info{defect="duplicate",domain="refused.example"}`, 1},
		{`mx_tlsrpt_valid{domain="refused.example"}`, 0},
		{`mx_mta_sts_status_info{domain="dup.example",status="txt_invalid"}`, 1},
		{`mx_mta_sts_txt_records{domain="dup.example"}`, 2},
		{`mx_mta_sts_txt_defect_info{defect="duplicate",domain="dup.example"}`, 1},
		{`mx_mta_sts_policy_fetch_success{domain="dup.example"}`, 0},
		{`mx_mta_sts_policy_fetch_error_info{domain="dup.example",error="http_status"}`, 1},
		{`mx_mta_sts_policy_http_status{domain="dup.example"}`, 404},
		{`mx_mta_sts_policy_valid{domain="dup.example"}`, 0},
		{`mx_mta_sts_policy_max_age_seconds{domain="dup.example"}`, -1},
		{`mx_mta_sts_mx_covered{domain="dup.example",mx="mx.dup.example"}`, -1},
		{`mx_tlsrpt_records{domain="dup.example"}`, 0},
		{`mx_tlsrpt_valid{domain="dup.example"}`, 0},
		// No MTA-STS looked up (a host target, or mta_sts off): no series.
		{`mx_mta_sts_failure{domain="smtp.example.net:587"}`, -1},
		{`mx_mta_sts_failure{domain="example.org"}`, -1},
		{`mx_tlsrpt_records{domain="example.org"}`, -1},
		// Reverse DNS, names, blocklists and IPv6 parity (issue 13).
		{`mx_ptr_info{domain="who.example",ip="2001:db8::31",mx="mx.who.example",ptr="mx.who.example",status="confirmed"}`, 1},
		{`mx_names_agree{domain="who.example",ip="192.0.2.31",mx="mx.who.example"}`, 1},
		{`mx_dnsbl_listed{domain="who.example",ip="2001:db8::31",mx="mx.who.example",zone="bl.example.net"}`, 0},
		{`mx_dnsbl_listed{domain="who.example",ip="192.0.2.31",mx="mx.who.example",zone="broken.example.net"}`, -1},
		{`mx_dnsbl_error_info{domain="who.example",error="zone_unhealthy",ip="192.0.2.31",mx="mx.who.example",zone="broken.example.net"}`, 1},
		{`mx_dnsbl_host_listed{domain="who.example",mx="mx.who.example",zone="dbl.example.net"}`, 0},
		{`mx_ip_parity_info{domain="who.example",mx="mx.who.example",parity="both_pass"}`, 1},
		{`mx_ipv6_mx_hosts{domain="who.example"}`, 1},
		{`mx_ptr_info{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",ptr="mail.other.example",status="confirmed"}`, 1},
		{`mx_names_agree{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example"}`, 0},
		{`mx_name_mismatch_info{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",pair="banner_ptr"}`, 1},
		{`mx_name_mismatch_info{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",pair="ptr_mx"}`, 1},
		{`mx_name_mismatch_info{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",pair="banner_mx"}`, -1},
		{`mx_dnsbl_listed{domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",zone="bl.example.net"}`, 1},
		{`mx_dnsbl_return_code_info{code="127.0.0.4",domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",zone="bl.example.net"}`, 1},
		{`mx_dnsbl_return_code_info{code="127.0.0.10",domain="listed.example",ip="198.51.100.31",mx="mx1.listed.example",zone="bl.example.net"}`, 1},
		// An error of the list is no verdict: no mx_dnsbl_listed, 0 or 1.
		{`mx_dnsbl_listed{domain="listed.example",ip="2001:db8::33",mx="mx2.listed.example",zone="bl.example.net"}`, -1},
		{`mx_dnsbl_error_info{domain="listed.example",error="query_refused",ip="2001:db8::33",mx="mx2.listed.example",zone="bl.example.net"}`, 1},
		{`mx_ptr_info{domain="listed.example",ip="2001:db8::32",mx="mx1.listed.example",ptr="",status="no_ptr"}`, 1},
		{`mx_names_agree{domain="listed.example",ip="2001:db8::32",mx="mx1.listed.example"}`, -1},
		{`mx_dnsbl_listed{domain="listed.example",ip="2001:db8::32",mx="mx1.listed.example",zone="bl.example.net"}`, -1},
		{`mx_dnsbl_error_info{domain="listed.example",error="timeout",ip="2001:db8::32",mx="mx1.listed.example",zone="bl.example.net"}`, 1},
		{`mx_dnsbl_error_info{domain="listed.example",error="zone_unhealthy",ip="2001:db8::32",mx="mx1.listed.example",zone="broken.example.net"}`, 1},
		{`mx_dnsbl_host_listed{domain="listed.example",mx="mx1.listed.example",zone="dbl.example.net"}`, 1},
		{`mx_dnsbl_host_return_code_info{code="127.0.1.2",domain="listed.example",mx="mx1.listed.example",zone="dbl.example.net"}`, 1},
		{`mx_dnsbl_host_listed{domain="listed.example",mx="mx2.listed.example",zone="dbl.example.net"}`, -1},
		{`mx_dnsbl_host_error_info{domain="listed.example",error="lookup_failed",mx="mx2.listed.example",zone="dbl.example.net"}`, 1},
		{`mx_ip_parity_info{domain="listed.example",mx="mx1.listed.example",parity="ipv6_failing"}`, 1},
		{`mx_ip_parity_info{domain="listed.example",mx="mx2.listed.example",parity="ipv6_only"}`, 1},
		{`mx_ptr_info{domain="listed.example",ip="2001:db8::33",mx="mx2.listed.example",ptr="",status="lookup_failed"}`, 1},
		{`mx_ipv6_mx_hosts{domain="listed.example"}`, 2},
		{`mx_ipv6_mx_hosts{domain="example.org"}`, 1},
		{`mx_ipv6_mx_hosts{domain="relay.example"}`, 0},
		// Reports without them (reverse_dns off, no zones configured, a
		// host target): no series, and none per domain for a host target.
		{`mx_ptr_info{domain="example.org",ip="192.0.2.10",mx="mx1.example.org",ptr="",status="lookup_failed"}`, -1},
		{`mx_ip_parity_info{domain="example.org",mx="mx1.example.org",parity="ipv4_only"}`, -1},
		{`mx_ipv6_mx_hosts{domain="smtp.example.net:587"}`, -1},
		{`mx_exporter_endpoints{}`, 24},
		{`mx_exporter_duplicate_targets{}`, 0},
	} {
		v, ok := got[tc.series]
		switch {
		case tc.want < 0 && ok:
			t.Fatalf("%s: want absent, got %v", tc.series, v)
		case tc.want >= 0 && !ok:
			t.Fatalf("%s: want %v, got no such series", tc.series, tc.want)
		case tc.want >= 0 && v != tc.want:
			t.Fatalf("%s: want %v, got %v", tc.series, tc.want, v)
		}
	}
	// Remote-controlled text never becomes a label.
	for s := range got {
		for _, text := range []string{"not welcome", "Relay access denied", "greets you", "ESMTP", "CN=", "spam source", "https://", "resolves back", "says"} {
			if strings.Contains(s, text) {
				t.Fatalf("series %s carries server text %q", s, text)
			}
		}
	}
}

// TestMTASTSLookupFailures: while a TXT lookup fails, what is published is
// unknown: the record counts are absent rather than 0, and the status says
// why. A policy that could not be fetched has no mode, max_age or
// certificate series.
func TestMTASTSLookupFailures(t *testing.T) {
	r := domainReport("flaky.example", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
		host("mx.flaky.example", 10, healthy("mx.flaky.example", "192.0.2.95", t0, true)))
	r.MTASTS = &probe.MTASTSReport{
		Mode:      mtasts.ModeEnforce,
		TXTLookup: dnsmx.TXTLookup{Name: "_mta-sts.flaky.example", Outcome: dnsmx.OutcomeServFail, Rcode: "SERVFAIL"},
		Status:    mtasts.StatusTXTLookupFailed,
	}
	r.TLSRPT = &probe.TLSRPTReport{Lookup: dnsmx.TXTLookup{Name: "_smtp._tls.flaky.example", Outcome: dnsmx.OutcomeTimeout}}
	unfetchable := domainReport("nopolicy.example", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
		host("mx.nopolicy.example", 10, healthy("mx.nopolicy.example", "192.0.2.96", t0, true)))
	unfetchable.MTASTS = &probe.MTASTSReport{
		Mode:      mtasts.ModeReport,
		TXTLookup: txtLookup("_mta-sts.nopolicy.example", "v=STSv1; id=1"),
		TXT:       mtasts.TXT{Records: 1, Valid: true, ID: "1"},
		Policy: &mtasts.State{
			Fetch: mtasts.Fetch{Start: t0, Duration: 2 * time.Second, Err: mtasts.FetchTimeout, Detail: "no answer within 2s"},
			ID:    "1",
		},
		Status: mtasts.StatusUnfetchable,
	}
	entries := StaticEntries{
		entry("flaky.example", "default", fullModule, r),
		entry("nopolicy.example", "default", fullModule, unfetchable),
	}
	fast := scrape(t, fastHandler(NewExporter(entries), nil))
	got := seriesOf(t, fast)
	for _, tc := range []struct {
		series string
		want   float64 // -1: must be absent
	}{
		{`mx_mta_sts_status_info{domain="flaky.example",status="txt_lookup_failed"}`, 1},
		{`mx_mta_sts_failure{domain="flaky.example"}`, 0},
		{`mx_mta_sts_txt_records{domain="flaky.example"}`, -1},
		{`mx_mta_sts_txt_valid{domain="flaky.example"}`, -1},
		{`mx_mta_sts_policy_fetch_success{domain="flaky.example"}`, -1},
		{`mx_tlsrpt_records{domain="flaky.example"}`, -1},
		{`mx_tlsrpt_valid{domain="flaky.example"}`, -1},
		{`mx_mta_sts_status_info{domain="nopolicy.example",status="policy_unfetchable"}`, 1},
		{`mx_mta_sts_txt_records{domain="nopolicy.example"}`, 1},
		{`mx_mta_sts_policy_fetch_success{domain="nopolicy.example"}`, 0},
		{`mx_mta_sts_policy_fetch_error_info{domain="nopolicy.example",error="timeout"}`, 1},
		{`mx_mta_sts_policy_http_status{domain="nopolicy.example"}`, 0},
		{`mx_mta_sts_policy_valid{domain="nopolicy.example"}`, 0},
		{`mx_mta_sts_policy_fetch_timestamp_seconds{domain="nopolicy.example"}`, float64(t0.Add(2 * time.Second).Unix())},
		{`mx_mta_sts_policy_max_age_seconds{domain="nopolicy.example"}`, -1},
		{`mx_mta_sts_policy_host_cert_verified{domain="nopolicy.example"}`, -1},
		{`mx_mta_sts_policy_host_cert_expiry_timestamp_seconds{domain="nopolicy.example"}`, -1},
	} {
		v, ok := got[tc.series]
		switch {
		case tc.want < 0 && ok:
			t.Fatalf("%s: want absent, got %v", tc.series, v)
		case tc.want >= 0 && !ok:
			t.Fatalf("%s: want %v, got no such series", tc.series, tc.want)
		case tc.want >= 0 && v != tc.want:
			t.Fatalf("%s: want %v, got %v", tc.series, tc.want, v)
		}
	}
	for s := range got {
		if strings.Contains(s, "mode=") {
			t.Fatalf("want no mx_mta_sts_policy_mode_info without a policy, got %s", s)
		}
	}
	sameSeries(t, "MTA-STS lookup failures", scrape(t, registryHandler(t, entries)), fast)
}

// TestFastPathEqualsRegistry: the Handler serves the series a registry of
// the Collector serves, for every kind of store, cache warm or cold.
func TestFastPathEqualsRegistry(t *testing.T) {
	dup := fixtureEntries()
	other := *dup[0]
	other.Key, other.Module = store.Key(other.Target, "zzz"), "zzz"
	dup = append(dup, &other)

	for _, tc := range []struct {
		name    string
		entries []*store.Entry
	}{
		{"empty", nil},
		{"fixture", fixtureEntries()},
		{"duplicate target in two modules", dup},
		{"synthetic 150 domains (parallel build)", syntheticEntries(150, 2, 2)},
		{"label values to escape", oddEntries()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store.New()
			for _, e := range tc.entries {
				s.Put(e)
			}
			exp := NewExporter(s)
			self := selfRegistry(t)
			reg := registryHandler(t, s, NewSelfCollector(fixtureStats))
			for _, h := range []struct {
				name    string
				headers map[string]string
			}{
				{"text", nil},
				{"text, gzip", map[string]string{"Accept-Encoding": "gzip"}},
				{"as Prometheus asks", map[string]string{
					"Accept":          "application/openmetrics-text;version=1.0.0;escaping=allow-utf-8;q=0.5,application/openmetrics-text;version=0.0.1;q=0.4,text/plain;version=1.0.0;escaping=allow-utf-8;q=0.3,text/plain;version=0.0.4;q=0.2,*/*;q=0.1",
					"Accept-Encoding": "gzip",
				}},
			} {
				for _, target := range []string{
					"/metrics",
					// name[] picks families of ours and of self, once each
					// however often named; an unknown name picks nothing.
					"/metrics?name[]=mx_probe_success&name[]=mx_exporter_probes_total&name[]=mx_probe_success&name[]=mx_tls_info",
					"/metrics?name[]=no_such_metric",
				} {
					want := scrapeTarget(t, reg, target, h.headers)
					for _, path := range []struct {
						name string
						h    http.Handler
					}{
						{"warm", fastHandler(exp, self)},
						{"cold", fastHandler(NewExporter(s), self)},
					} {
						sameSeries(t, h.name+", "+target+", "+path.name, want, scrapeTarget(t, path.h, target, h.headers))
					}
				}
			}
		})
	}
}

func TestDuplicateTargets(t *testing.T) {
	entries := fixtureEntries()
	other := *entries[0]
	other.Key, other.Module = store.Key(other.Target, "zzz"), "zzz"
	other.Report = domainReport("example.org", t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeServFail})
	got := seriesOf(t, scrape(t, fastHandler(NewExporter(StaticEntries(append(entries, &other))), nil)))
	for _, tc := range []struct {
		series string
		want   float64
	}{
		{`mx_exporter_duplicate_targets{}`, 1},
		{`mx_dns_lookup_success{domain="example.org"}`, 1}, // module "default" wins over "zzz"
	} {
		if v, ok := got[tc.series]; !ok || v != tc.want {
			t.Fatalf("%s: want %v, got %v (present %v)", tc.series, tc.want, v, ok)
		}
	}
}

// TestSeriesVanish: series follow the store, never linger.
func TestSeriesVanish(t *testing.T) {
	entries := fixtureEntries()
	example := entries[0]
	// A newer report of example.org: mx2 gone from DNS, mx1 lost its IPv6 address.
	newer := *example
	newer.Report = domainReport("example.org", t0.Add(time.Minute), &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
		host("mx1.example.org", 10, healthy("mx1.example.org", "192.0.2.10", t0.Add(time.Minute), true)))
	newer.Taken = t0.Add(time.Minute + time.Second)

	for _, tc := range []struct {
		name   string
		change func(s *store.Store)
		gone   []string // substrings no series may contain any more
		kept   []string // series that must still be there
	}{
		{
			name:   "entry removed",
			change: func(s *store.Store) { s.Retain(func(k string) bool { return k != example.Key }) },
			gone:   []string{`domain="example.org"`},
			kept:   []string{`mx_target_success{domain="relay.example"}`},
		},
		{
			name:   "MX host and address vanish",
			change: func(s *store.Store) { s.Put(&newer) },
			gone:   []string{`mx="mx2.example.org"`, `ip="2001:db8::10"`},
			kept: []string{
				`mx_probe_success{domain="example.org",ip="192.0.2.10",mx="mx1.example.org"}`,
				`mx_records{domain="example.org"}`,
			},
		},
		{
			name:   "all removed",
			change: func(s *store.Store) { s.Retain(func(string) bool { return false }) },
			gone:   []string{`domain=`},
			kept:   []string{`mx_exporter_endpoints{}`},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := store.New()
			for _, e := range entries {
				s.Put(e)
			}
			exp := NewExporter(s)
			before := seriesOf(t, scrape(t, fastHandler(exp, nil)))
			for _, sub := range tc.gone {
				if !hasSeries(before, sub) {
					t.Fatalf("before the change: want a series with %s, got none", sub)
				}
			}
			tc.change(s)
			after := seriesOf(t, scrape(t, fastHandler(exp, nil)))
			for _, sub := range tc.gone {
				if hasSeries(after, sub) {
					t.Fatalf("after the change: want no series with %s, got some", sub)
				}
			}
			for _, k := range tc.kept {
				if _, ok := after[k]; !ok {
					t.Fatalf("after the change: want %s, got none", k)
				}
			}
			exp.mu.Lock()
			cached := len(exp.cache)
			exp.mu.Unlock()
			if want := s.Len(); cached != want {
				t.Fatalf("cache: want %d reports (one per entry), got %d", want, cached)
			}
			// The registry path agrees.
			sameSeries(t, "after the change", scrape(t, registryHandler(t, s)), scrape(t, fastHandler(exp, nil)))
		})
	}
}

func hasSeries(m map[string]float64, sub string) bool {
	for k := range m {
		if strings.Contains(k, sub) {
			return true
		}
	}
	return false
}

// TestConcurrentScrapes runs scrapes of both paths while the store changes;
// run it with -race.
func TestConcurrentScrapes(t *testing.T) {
	s := store.New()
	entries := syntheticEntries(50, 2, 1)
	for _, e := range entries {
		s.Put(e)
	}
	exp := NewExporter(s)
	handlers := []http.Handler{fastHandler(exp, selfRegistry(t)), fastHandler(exp, nil), registryHandler(t, s)}

	var wg sync.WaitGroup
	stop := make(chan struct{})
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			e := *entries[i%len(entries)]
			r := *e.Report
			r.Start = r.Start.Add(time.Duration(i) * time.Second)
			e.Report = &r
			s.Put(&e)
			if i%7 == 0 {
				s.Retain(func(k string) bool { return k != entries[(i/7)%len(entries)].Key })
			}
		}
	})
	errs := make(chan error, 9)
	var scrapers sync.WaitGroup
	for i := range 9 {
		h := handlers[i%len(handlers)]
		scrapers.Go(func() {
			for range 10 {
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
				if rec.Code != http.StatusOK {
					errs <- fmt.Errorf("scrape: want 200, got %d: %s", rec.Code, rec.Body)
					return
				}
			}
		})
	}
	scrapers.Wait()
	close(stop)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

func TestSelfRegistry(t *testing.T) {
	reg, err := NewSelfRegistry(fixtureStats)
	if err != nil {
		t.Fatalf("NewSelfRegistry: %v", err)
	}
	got := scrape(t, fastHandler(NewExporter(fixtureStore()), reg))
	for _, want := range []string{"mx_exporter_build_info{", "go_goroutines ", "mx_exporter_probes_total{result=\"failure\"} 7", "mx_probe_success{"} {
		if !strings.Contains(got, want) {
			t.Fatalf("want a line with %q in the exposition, got none", want)
		}
	}
}

// TestSelfConflict: a family exported twice is an error, not a broken
// exposition.
func TestSelfConflict(t *testing.T) {
	self := prometheus.NewRegistry()
	self.MustRegister(prometheus.NewGauge(prometheus.GaugeOpts{Name: "mx_exporter_endpoints", Help: "twice"}))
	rec := httptest.NewRecorder()
	fastHandler(NewExporter(fixtureStore()), self).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "mx_exporter_endpoints") {
		t.Fatalf("want status 500 naming mx_exporter_endpoints, got %d: %s", rec.Code, rec.Body)
	}
}

// TestHostileText: label values stay bounded and valid whatever a server sends.
func TestHostileText(t *testing.T) {
	r := healthy("mx.hostile.example", "192.0.2.66", t0, true)
	r.BannerHostname = "evil\" name{}"
	r.Steps[1].Reply.Enhanced = "5.7.1 owned"
	r.TLS.Version = "TLS \xff"
	hr := host("mx.hostile.example", 10, r)
	hr.MTASTS = &probe.MXPolicy{Pattern: "evil.pattern", Covered: true, TLS: []mtasts.TLSStatus{"evil tls"}}
	// Reverse DNS, names and blocklists: remote text in the PTR name, the
	// TXT reason and the details, values outside the bounded sets, return
	// codes that are no listing.
	hr.Reverse = []*rdns.Check{{Name: "evil\x00ptr.example", Status: rdns.StatusNotConfirmed, Detail: "evil \x1b[31m detail"}}
	hr.Names = []*rdns.Names{{MX: "mx.hostile.example", Banner: "evil.banner", Mismatches: []rdns.Pair{"evil pair", rdns.PairBannerMX, rdns.PairBannerMX}, Detail: "evil\r\nnames"}}
	hr.Listings = [][]dnsbl.Result{{
		{Zone: "bl.example.net", Verdict: dnsbl.VerdictListed, Reason: "evil\x00reason\n", Detail: "evil detail",
			Codes: []netip.Addr{netip.MustParseAddr("192.0.2.66"), netip.MustParseAddr("127.255.255.254"), netip.MustParseAddr("::1"), netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.2")}},
		{Zone: "bl.example.net", Verdict: dnsbl.VerdictNotListed}, // the zone twice: its first result counts
		{Zone: "err.example.net", Verdict: dnsbl.VerdictError, Error: "evil error"},
		{Zone: "odd.example.net", Verdict: "evil verdict"},
		{Zone: "", Verdict: dnsbl.VerdictListed},
	}}
	hr.NameListings = []dnsbl.Result{{Zone: "dbl.example.net", Verdict: dnsbl.VerdictListed, Reason: "evil", Codes: []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4"), netip.MustParseAddr("127.0.0.5"), netip.MustParseAddr("127.0.0.6")}}}
	hr.Parity = "evil parity"
	report := domainReport("hostile.example", t0, &dnsmx.Domain{Outcome: "weird"}, hr)
	// Values outside the bounded sets never become labels.
	report.MTASTS = &probe.MTASTSReport{
		TXT: mtasts.TXT{Records: 1, Defect: "evil defect"},
		Policy: &mtasts.State{
			Fetch:   mtasts.Fetch{Err: "evil error"},
			Policy:  &mtasts.Policy{Mode: "evil mode", MaxAge: 1},
			Defects: []mtasts.Defect{"evil defect", mtasts.DefectContentType, mtasts.DefectContentType},
		},
		Status: "evil status",
	}
	report.TLSRPT = &probe.TLSRPTReport{Lookup: txtLookup("_smtp._tls.hostile.example", "v=TLSRPTv1"), Record: tlsrpt.Record{Records: 1, Defect: "evil rpt"}}
	e := entry("hostile.example", "default", fullModule, report)
	exp := NewExporter(StaticEntries{e})
	fast := scrape(t, fastHandler(exp, nil))
	got := seriesOf(t, fast)
	for s := range got {
		if strings.Contains(s, "evil") || strings.Contains(s, "owned") {
			t.Fatalf("hostile text in series %s", s)
		}
	}
	if v := got[`mx_mta_sts_policy_defect_info{defect="content_type",domain="hostile.example"}`]; v != 1 {
		t.Fatalf("a defect listed twice: want one series content_type 1, got %v", v)
	}
	if _, ok := got[`mx_dns_lookup_outcome_info{domain="hostile.example",outcome="error"}`]; !ok {
		t.Fatalf("unknown DNS outcome: want outcome=\"error\", got %v", got)
	}
	const addr = `domain="hostile.example",ip="192.0.2.66",mx="mx.hostile.example"`
	for _, tc := range []struct {
		series string
		want   float64 // -1: must be absent
	}{
		// A PTR name that is no host name is no label; the status stays.
		{`mx_ptr_info{` + addr + `,ptr="",status="not_confirmed"}`, 1},
		{`mx_name_mismatch_info{` + addr + `,pair="banner_mx"}`, 1},
		{`mx_names_agree{` + addr + `}`, 0},
		{`mx_dnsbl_listed{` + addr + `,zone="bl.example.net"}`, 1},
		{`mx_dnsbl_return_code_info{code="127.0.0.2",` + addr + `,zone="bl.example.net"}`, 1},
		{`mx_dnsbl_return_code_info{code="127.255.255.254",` + addr + `,zone="bl.example.net"}`, -1},
		{`mx_dnsbl_return_code_info{code="192.0.2.66",` + addr + `,zone="bl.example.net"}`, -1},
		{`mx_dnsbl_return_code_info{code="::1",` + addr + `,zone="bl.example.net"}`, -1},
		{`mx_dnsbl_listed{` + addr + `,zone="err.example.net"}`, -1},
		{`mx_dnsbl_listed{` + addr + `,zone="odd.example.net"}`, -1},
		{`mx_dnsbl_host_listed{domain="hostile.example",mx="mx.hostile.example",zone="dbl.example.net"}`, 1},
	} {
		v, ok := got[tc.series]
		switch {
		case tc.want < 0 && ok:
			t.Fatalf("%s: want absent, got %v", tc.series, v)
		case tc.want >= 0 && !ok:
			t.Fatalf("%s: want %v, got no such series", tc.series, tc.want)
		case tc.want >= 0 && v != tc.want:
			t.Fatalf("%s: want %v, got %v", tc.series, tc.want, v)
		}
	}
	counts := map[string]int{}
	for s := range got {
		name, _, _ := strings.Cut(s, "{")
		counts[name]++
		if strings.Contains(s, `zone=""`) {
			t.Fatalf("a result without zone became series %s", s)
		}
	}
	for name, want := range map[string]int{
		"mx_dnsbl_return_code_info":      1,              // 127.0.0.2 once
		"mx_dnsbl_host_return_code_info": maxReturnCodes, // of five
		"mx_name_mismatch_info":          1,              // banner_mx once
		"mx_dnsbl_listed":                1,              // bl.example.net once
		"mx_dnsbl_error_info":            0,
		"mx_ip_parity_info":              0,
	} {
		if counts[name] != want {
			t.Fatalf("%s: want %d series, got %d", name, want, counts[name])
		}
	}
	sameSeries(t, "hostile text", scrape(t, registryHandler(t, StaticEntries{e})), fast)
}

// syntheticEntries makes n domains with hosts MX hosts of perHost
// addresses; every third MX host has TLS, every fifth address fails.
func syntheticEntries(n, hosts, perHost int) []*store.Entry {
	out := make([]*store.Entry, 0, n)
	for d := range n {
		domain := fmt.Sprintf("d%05d.example", d)
		var hrs []probe.HostReport
		for h := range hosts {
			name := fmt.Sprintf("mx%d.%s", h+1, domain)
			var rs []*smtp.Result
			for a := range perHost {
				i := (d*hosts+h)*perHost + a
				ip := fmt.Sprintf("10.%d.%d.%d", i>>16&255, i>>8&255, i&255)
				r := healthy(name, ip, t0.Add(time.Duration(i)*ms), (d+h)%3 == 0)
				if i%5 == 4 {
					r.Success, r.Reason = false, smtp.ReasonRcptRejected
					r.Recipients[0].Accepted, r.Recipients[0].Reply = false, reply(550, "5.1.1", "User unknown")
				}
				rs = append(rs, r)
			}
			hrs = append(hrs, host(name, uint16(10*(h+1)), rs...))
		}
		out = append(out, entry(domain, "default", fullModule, domainReport(domain, t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer}, hrs...)))
	}
	return out
}

// oddEntries have label values the exposition escapes, and values whose
// order changes when escaped (a quote sorts before '#', its escape after).
func oddEntries() []*store.Entry {
	mod := fullModule
	mod.Recipients = []string{`x#y@example.org`, `x"y@example.org`, `x\y@example.org`, "x\ny@example.org"}
	var out []*store.Entry
	for _, target := range []string{`we"ird.example`, `we#ird.example`, `we\ird.example`, "we\nird.example", "we\xffird.example"} {
		r := healthy(`mx"1.example`, "192.0.2.1", t0, true)
		r.Recipients = append(r.Recipients, smtp.Recipient{Address: `x"y@example.org`, Reply: reply(550, "5.1.1", "no"), Accepted: false})
		r2 := healthy(`mx#1.example`, "192.0.2.2", t0, false)
		out = append(out, entry(target, "default", mod, domainReport(target, t0, &dnsmx.Domain{Outcome: dnsmx.OutcomeAnswer},
			host(`mx"1.example`, 10, r), host(`mx#1.example`, 20, r2), host(`mx\\1.example`, 30))))
	}
	return out
}
