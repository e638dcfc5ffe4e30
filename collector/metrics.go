package collector

import (
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Label names. The exposition writes a series' labels in name order, as
// the registry does.
const (
	labelCipher     = "cipher"
	labelCode       = "code"
	labelCommand    = "command"
	labelCoverage   = "coverage"
	labelDefect     = "defect"
	labelDomain     = "domain"
	labelError      = "error"
	labelExtension  = "extension"
	labelFinding    = "finding"
	labelHostname   = "hostname"
	labelIP         = "ip"
	labelMode       = "mode"
	labelMX         = "mx"
	labelOutcome    = "outcome"
	labelPair       = "pair"
	labelParity     = "parity"
	labelPreference = "preference"
	labelPTR        = "ptr"
	labelReason     = "reason"
	labelRecipient  = "recipient"
	labelStage      = "stage"
	labelState      = "state"
	labelStatus     = "status"
	labelStep       = "step"
	labelTLS        = "tls"
	labelVerdict    = "verdict"
	labelVersion    = "version"
	labelZone       = "zone"
)

// fam identifies a family of the catalogue: its index in families.
type fam uint16

const (
	cachedTarget   = " from the last probe (cached; see mx_target_last_run_timestamp_seconds)."
	cachedEndpoint = " from the last probe (cached; see mx_probe_last_run_timestamp_seconds)."
	// A domain's MTA-STS policy is fetched at most once per mta_sts_refresh
	// and kept in the policy cache between probes.
	cachedPolicy = " from the policy cache as the last probe found it (cached; see mx_mta_sts_policy_fetch_timestamp_seconds)."
	// Blocklist answers are shared by every target whose MX hosts have the
	// address or name, and kept for dnsbl.cache_ttl.
	cachedBlocklist = " from the blocklist cache as the last probe found it (answers are kept for dnsbl.cache_ttl; see mx_probe_last_run_timestamp_seconds)."
)

// family is one row of the catalogue: a gauge and its labels. Adding a
// metric is a row below and one call in emit.
type family struct {
	name   string
	help   string
	labels []string

	// Derived from the row by derive.
	desc   *prometheus.Desc
	header []byte // the HELP and TYPE lines
	// A series line is lit[0] value[0] lit[1] value[1] … end v, the
	// values taken from where slots say (see appendFamily).
	slots  []slot
	lit    []string
	end    string
	others int // labels other than the subject's
}

// slot says where the value of a label comes from: the subject of the
// series (the domain, an MX host, an address), or its other label values,
// which emit gives in label-name order.
type slot uint8

const (
	slotDomain slot = iota
	slotMX
	slotIP
	slotOther
)

// The catalogue: one row per family. Label values come in label-name order
// from emit, the subject's (domain, mx, ip) aside.
var (
	famTargetSuccess  = gauge("mx_target_success", "1 when every MX host and address of the target met the module's expectations (a null MX domain succeeds), else 0,"+cachedTarget, labelDomain)
	famTargetDuration = gauge("mx_target_probe_duration_seconds", "Wall time of the whole target probe: DNS and every dialogue,"+cachedTarget, labelDomain)
	famTargetLastRun  = gauge("mx_target_last_run_timestamp_seconds", "Unix time when the target's cached probe finished.", labelDomain)
	famTargetInterval = gauge("mx_target_interval_seconds", "How often the daemon probes the target, from the configuration: staleness is time() - mx_target_last_run_timestamp_seconds against this.", labelDomain)

	famDNSSuccess    = gauge("mx_dns_lookup_success", "1 when the MX lookup answered (MX records, a null MX, or no MX with the domain's own address as implicit MX), 0 on NXDOMAIN, SERVFAIL, timeout and other errors,"+cachedTarget, labelDomain)
	famDNSDuration   = gauge("mx_dns_lookup_duration_seconds", "Time the MX lookup took, retries included,"+cachedTarget, labelDomain)
	famDNSOutcome    = gauge("mx_dns_lookup_outcome_info", "Outcome of the MX lookup (answer, nxdomain, nodata, servfail, refused, timeout, error), always 1,"+cachedTarget, labelDomain, labelOutcome)
	famRecords       = gauge("mx_records", "Number of MX records found (0 for a null MX or an implicit MX),"+cachedTarget, labelDomain)
	famNullMX        = gauge("mx_null_mx", "1 when the domain publishes a null MX (RFC 7505: it accepts no mail), else 0,"+cachedTarget, labelDomain)
	famImplicitMX    = gauge("mx_implicit_mx", "1 when the domain has no MX record and its own address stands in as implicit MX (RFC 5321 5.1), else 0,"+cachedTarget, labelDomain)
	famRecordInfo    = gauge("mx_record_info", "One series per MX host with its preference, always 1,"+cachedTarget, labelDomain, labelMX, labelPreference)
	famHostAddresses = gauge("mx_host_addresses", "Addresses probed for the MX host (0: the host has no usable address),"+cachedTarget, labelDomain, labelMX)
	famDNSFinding    = gauge("mx_dns_finding_info", "A fact about the domain's MX records that is not by itself a failure (null_mx_mixed: a null MX among other MX records), 1 while it holds,"+cachedTarget, labelDomain, labelFinding)
	famDNSSEC        = gauge("mx_dns_dnssec_info", "DNSSEC state of the MX RRset as the trusted validating resolver tells it (secure, insecure, bogus, unknown; unchecked without dns.trust_ad or while the resolver self-check fails), always 1,"+cachedTarget, labelDomain, labelState)
	famHostDNSSEC    = gauge("mx_host_dnssec_info", "DNSSEC state of the MX host's address records (secure, insecure, bogus, unknown, unchecked), always 1,"+cachedTarget, labelDomain, labelMX, labelState)
	famValidating    = gauge("mx_dnssec_resolver_validating", "1 when the resolvers, trusted with dns.trust_ad, answered the self-check name with the AD bit, else 0; absent without dns.trust_ad,"+cachedTarget, labelDomain)
	famHostFinding   = gauge("mx_host_finding_info", "A fact about the MX host that is not by itself a failure (mx_cname, mx_ip_literal, special_address), 1 while it holds,"+cachedTarget, labelDomain, labelFinding, labelMX)

	famProbeSuccess       = gauge("mx_probe_success", "1 when the SMTP dialogue with the address met the module's expectations, else 0,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famProbeDuration      = gauge("mx_probe_duration_seconds", "Wall time of the SMTP dialogue with the address,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famProbeLastRun       = gauge("mx_probe_last_run_timestamp_seconds", "Unix time when the cached dialogue with the address finished.", labelDomain, labelIP, labelMX)
	famProbeFailure       = gauge("mx_probe_failure_info", "Why the dialogue with the address failed (bounded set of reasons), 1 while it fails,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelReason)
	famFinding            = gauge("mx_smtp_finding_info", "A named fact about the dialogue that is not by itself a failure (greeting_delayed, greylisted, slow_step, middlebox_*, size_invalid), 1 while it holds,"+cachedEndpoint, labelDomain, labelFinding, labelIP, labelMX)
	famGreetingFirstLine  = gauge("mx_smtp_greeting_first_line_seconds", "Time from connect to the first line of the greeting (the banner step runs to its final line; postscreen holds that back),"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famStepDuration       = gauge("mx_smtp_step_duration_seconds", "Time each dialogue step took (0 when not reached; rcpt is the first configured recipient): connect, banner, ehlo or helo, tls_handshake, rcpt, vrfy and pipeline, every step with the module's metrics.all_steps,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelStep)
	famReplyCode          = gauge("mx_smtp_reply_code", "Basic SMTP reply code per command (0: no reply; rcpt is the first configured recipient): banner, ehlo or helo, mail, rcpt, relay and vrfy, every command with the module's metrics.all_steps,"+cachedEndpoint, labelCommand, labelDomain, labelIP, labelMX)
	famEnhancedStatus     = gauge("mx_smtp_enhanced_status_info", "RFC 3463 enhanced status code of the reply per command of mx_smtp_reply_code where one was sent, with the module's metrics.enhanced_status, always 1,"+cachedEndpoint, labelCode, labelCommand, labelDomain, labelIP, labelMX)
	famRecipientAccepted  = gauge("mx_smtp_recipient_accepted", "1 when RCPT TO of the configured recipient was accepted (2xx), else 0,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelRecipient)
	famRecipientReplyCode = gauge("mx_smtp_recipient_reply_code", "Basic reply code to RCPT TO of the configured recipient (0: not reached),"+cachedEndpoint, labelDomain, labelIP, labelMX, labelRecipient)
	famOpenRelay          = gauge("mx_smtp_open_relay", "1 when the relay-check recipient was accepted (open relay), else 0,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famRelayConclusive    = gauge("mx_smtp_relay_check_conclusive", "1 when the relay check gave a verdict (refused or open), 0 when inconclusive or not reached,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famBannerInfo         = gauge("mx_smtp_banner_info", "Validated host name the server announces in its banner, always 1,"+cachedEndpoint, labelDomain, labelHostname, labelIP, labelMX)
	famExtension          = gauge("mx_smtp_extension", "1 when the ESMTP extension was advertised in EHLO before (tls=\"false\") or after STARTTLS (tls=\"true\"), else 0: STARTTLS before, 8BITMIME, CHUNKING, PIPELINING, REQUIRETLS and SMTPUTF8 in the last EHLO; every known extension before and after with the module's metrics.all_extensions,"+cachedEndpoint, labelDomain, labelExtension, labelIP, labelMX, labelTLS)
	famSizeLimit          = gauge("mx_smtp_size_limit_bytes", "Message size limit advertised with SIZE, after STARTTLS when that EHLO reply advertised it (0: not advertised, no fixed limit, or a value that is no byte count, which mx_smtp_finding_info{finding=\"size_invalid\"} tells apart),"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSEstablished     = gauge("mx_tls_established", "1 when a TLS session was established with STARTTLS, else 0,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSCertExpiry      = gauge("mx_tls_cert_expiry_timestamp_seconds", "Unix time when the first certificate of the presented chain expires,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSCertVerified    = gauge("mx_tls_cert_verified", "1 when the certificate chain verified for the MX host name, else 0,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSInfo            = gauge("mx_tls_info", "TLS version and cipher suite of the STARTTLS session, always 1,"+cachedEndpoint, labelCipher, labelDomain, labelIP, labelMX, labelVersion)
	famTLSFailure         = gauge("mx_tls_starttls_failure_info", "STARTTLS was offered and attempted but gave no TLS session (stage refused: 4xx/5xx reply; handshake: the handshake failed); mail would travel in clear, 1 while it fails,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelStage)
	famDANEVerdict        = gauge("mx_dane_verdict_info", "DANE verdict for the address (RFC 7672) as a DANE-validating sender reaches it: pass, mismatch, ta_not_sent, digest_mismatch, tlsa_bogus, tlsa_lookup_failed, starttls_missing, tls_failed (failures), or not_checked, insecure, no_tlsa, no_usable_records, not_reached; absent with dane: off, always 1,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelVerdict)
	famTLSARecords        = gauge("mx_dane_tlsa_records", "TLSA records of the MX host in its secure RRset, malformed and PKIX ones included; absent when no secure TLSA RRset was found,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSAUsable         = gauge("mx_dane_tlsa_usable_records", "TLSA records usable on port 25 (DANE-TA or DANE-EE, well formed); absent when no secure TLSA RRset was found,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famTLSAMatched        = gauge("mx_dane_tlsa_matched_records", "Usable TLSA records that match the chain the address presented; absent when no chain was judged,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famDANERollover       = gauge("mx_dane_rollover_ready", "1 when every published TLSA parameter combination matches the current chain and a record for the next key or trust anchor is published (RFC 7671 section 8), else 0; absent when no chain was judged against usable records,"+cachedEndpoint, labelDomain, labelIP, labelMX)

	// MTA-STS (RFC 8461) and TLS-RPT (RFC 8460): domain targets only, with
	// the module's mta_sts not off. The TXT id is not a label: the status
	// page and the report show it, and changed_without_id_change is the
	// defect it takes to act on it.
	famMTASTSTXTRecords   = gauge("mx_mta_sts_txt_records", "Number of TXT records at _mta-sts.<domain> that start with v=STSv1: 0 none (no MTA-STS), more than 1 a duplicate that makes senders ignore the policy; absent while the TXT lookup fails (status txt_lookup_failed),"+cachedTarget, labelDomain)
	famMTASTSTXTValid     = gauge("mx_mta_sts_txt_valid", "1 when exactly one well-formed v=STSv1 TXT record with a valid id is published, else 0; absent while the TXT lookup fails,"+cachedTarget, labelDomain)
	famMTASTSTXTDefect    = gauge("mx_mta_sts_txt_defect_info", "What makes senders ignore the _mta-sts TXT record (duplicate, id_missing, id_invalid, syntax), 1 while it holds,"+cachedTarget, labelDefect, labelDomain)
	famMTASTSFetchSuccess = gauge("mx_mta_sts_policy_fetch_success", "1 when the policy came from https://mta-sts.<domain>/.well-known/mta-sts.txt with status 200 and a body within 64 KiB, else 0; present when a v=STSv1 TXT record exists,"+cachedPolicy, labelDomain)
	famMTASTSHTTPStatus   = gauge("mx_mta_sts_policy_http_status", "HTTP status of the policy fetch (0: no HTTP answer); present when a v=STSv1 TXT record exists,"+cachedPolicy, labelDomain)
	famMTASTSFetchError   = gauge("mx_mta_sts_policy_fetch_error_info", "Why the policy fetch gave no policy (no_address, connect_failed, tls_failed, tls_verify_failed, http_error, redirect, http_status, body_too_large, timeout), 1 while it fails,"+cachedPolicy, labelDomain, labelError)
	famMTASTSFetched      = gauge("mx_mta_sts_policy_fetch_timestamp_seconds", "Unix time when the policy in hand was fetched (successfully or not); the cache reuses a fetched policy for the module's mta_sts_refresh and retries a failed fetch after a minute, so it is older than the probe: time() - this is its age.", labelDomain)
	famMTASTSPolicyValid  = gauge("mx_mta_sts_policy_valid", "1 when the policy was fetched and has no fatal defect (senders apply it), else 0; present when a v=STSv1 TXT record exists,"+cachedPolicy, labelDomain)
	famMTASTSMode         = gauge("mx_mta_sts_policy_mode_info", "Mode the policy declares (enforce, testing, none), always 1; absent when no policy with a valid mode was fetched,"+cachedPolicy, labelDomain, labelMode)
	famMTASTSMaxAge       = gauge("mx_mta_sts_policy_max_age_seconds", "max_age the policy declares: how long senders keep it; absent when no policy with a valid max_age was fetched,"+cachedPolicy, labelDomain)
	famMTASTSDefect       = gauge("mx_mta_sts_policy_defect_info", "A defect of the policy, one series each: fatal (version_missing, version_invalid, mode_missing, mode_invalid, max_age_missing, max_age_invalid, mx_missing, mx_invalid, line_invalid: senders ignore the policy) or a warning (max_age_short, content_type, changed_without_id_change), 1 while it holds,"+cachedPolicy, labelDefect, labelDomain)
	famMTASTSHostExpiry   = gauge("mx_mta_sts_policy_host_cert_expiry_timestamp_seconds", "Unix time when the certificate chain of the policy host mta-sts.<domain> expires (the earliest expiry in it); absent when no TLS handshake completed,"+cachedPolicy, labelDomain)
	famMTASTSHostVerified = gauge("mx_mta_sts_policy_host_cert_verified", "1 when the policy host's certificate verified for mta-sts.<domain> against the module's CA pool, else 0 (senders then fetch no policy); absent when no TLS handshake completed,"+cachedPolicy, labelDomain)
	famMTASTSCovered      = gauge("mx_mta_sts_mx_covered", "1 when the MX host matches an mx pattern of the policy, 0 when it matches none (MTA-STS senders refuse to deliver to it under mode enforce); present for the MX hosts of a valid policy in mode enforce or testing,"+cachedTarget, labelDomain, labelMX)
	famMTASTSMXHosts      = gauge("mx_mta_sts_mx_hosts", "Number of MX hosts the policy covers (coverage covered) and leaves out (coverage uncovered: MTA-STS senders refuse to deliver to them under mode enforce), one series each; present for a valid policy in mode enforce or testing,"+cachedTarget, labelCoverage, labelDomain)
	famMTASTSTLS          = gauge("mx_mta_sts_tls_status_info", "Whether the TLS of a covered MX address satisfies the policy (valid; starttls_missing, starttls_failed, certificate_invalid, tls_version_too_old: MTA-STS senders refuse it under mode enforce; not_reached: the dialogue ended before STARTTLS), always 1,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelStatus)
	famMTASTSStatus       = gauge("mx_mta_sts_status_info", "The domain's MTA-STS verdict as a sender reaches it (no_policy, txt_lookup_failed, txt_invalid, policy_unfetchable, policy_invalid, mode_none, pass, mx_uncovered, mx_tls_invalid), always 1,"+cachedTarget, labelDomain, labelStatus)
	famMTASTSFailure      = gauge("mx_mta_sts_failure", "1 when MTA-STS senders refuse mail to some MX of the domain (an enforce policy with status mx_uncovered or mx_tls_invalid), else 0,"+cachedTarget, labelDomain)
	famTLSRPTRecords      = gauge("mx_tlsrpt_records", "Number of TXT records at _smtp._tls.<domain> that start with v=TLSRPTv1 (0: no TLS reporting); absent while the lookup fails,"+cachedTarget, labelDomain)
	famTLSRPTValid        = gauge("mx_tlsrpt_valid", "1 when exactly one well-formed TLS-RPT record with mailto: or https: report addresses is published, else 0; absent while the lookup fails,"+cachedTarget, labelDomain)
	famTLSRPTDefect       = gauge("mx_tlsrpt_defect_info", "What is wrong with the TLS-RPT record (duplicate, rua_missing, rua_invalid, syntax), 1 while it holds,"+cachedTarget, labelDefect, labelDomain)

	// Who each address is (issue 13): reverse DNS, the names it goes by,
	// blocklist listings, and whether a host's IPv6 addresses work as well
	// as its IPv4 ones. None of it fails a probe. Names that a remote
	// server or zone controls become a label only as a validated host name
	// (dnsname.Valid: 253 bytes at most), in one series per address; a
	// blocklist's TXT reason never does (the probe report and the status
	// page show it). The zone is a label value from the config.
	famPTR             = gauge("mx_ptr_info", "Reverse DNS of the address, status confirmed (a PTR name resolves back to the address: forward-confirmed reverse DNS), not_confirmed (PTR names exist, none resolves back to it), no_ptr (NXDOMAIN or NODATA: no reverse name) or lookup_failed (SERVFAIL, timeout, refused: nothing known); ptr is the confirmed PTR name, else the first, \"\" when none; absent with the module's reverse_dns off, always 1,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelPTR, labelStatus)
	famNamesAgree      = gauge("mx_names_agree", "1 when the names the address goes by agree (MX host name, PTR names, the host names of its greeting and of its EHLO reply; each pair of present names), else 0; absent where no names were compared,"+cachedEndpoint, labelDomain, labelIP, labelMX)
	famNameMismatch    = gauge("mx_name_mismatch_info", "A pair of the address's names that disagree, one series each: banner_ptr (the greeting's host name is no PTR name), banner_mx (it is not the MX host name), ptr_mx (the MX host name is no PTR name), ehlo_banner (the EHLO reply names another host than the greeting); a fact, not a failure: the probe report and the status page name the names, 1 while it holds,"+cachedEndpoint, labelDomain, labelIP, labelMX, labelPair)
	famDNSBLListed     = gauge("mx_dnsbl_listed", "1 when the address is listed in the configured blocklist zone (RFC 5782: an A record in 127.0.0.0/8 outside 127.255.255.0/24), 0 when it is not; absent while the zone gives no verdict (mx_dnsbl_error_info says why),"+cachedBlocklist, labelDomain, labelIP, labelMX, labelZone)
	famDNSBLCode       = gauge("mx_dnsbl_return_code_info", "Return code (A record) of the address's listing in the zone, one series each: lists name the sub-list or reason by it (see the list's documentation); the TXT reason is in the probe report and on the status page, 1 while listed,"+cachedBlocklist, labelCode, labelDomain, labelIP, labelMX, labelZone)
	famDNSBLError      = gauge("mx_dnsbl_error_info", "Why the blocklist zone gave no verdict for the address: query_refused (an answer in 127.255.255.0/24: the list refuses queries through public or open resolvers, too many queries, or a typo in the zone), answer_invalid (an answer outside 127.0.0.0/8), lookup_failed (SERVFAIL, refused, malformed), timeout, zone_unhealthy (the zone fails its RFC 5782 section 5 health check, see mx_dnsbl_zone_healthy); never a listing, 1 while it holds,"+cachedBlocklist, labelDomain, labelError, labelIP, labelMX, labelZone)
	famDNSBLHostListed = gauge("mx_dnsbl_host_listed", "1 when the MX host name is listed in the configured domain blocklist zone (RFC 5782 section 2.3), 0 when it is not; absent while the zone gives no verdict (mx_dnsbl_host_error_info says why),"+cachedBlocklist, labelDomain, labelMX, labelZone)
	famDNSBLHostCode   = gauge("mx_dnsbl_host_return_code_info", "Return code (A record) of the MX host name's listing in the domain zone, one series each, 1 while listed,"+cachedBlocklist, labelCode, labelDomain, labelMX, labelZone)
	famDNSBLHostError  = gauge("mx_dnsbl_host_error_info", "Why the domain blocklist zone gave no verdict for the MX host name (query_refused, answer_invalid, lookup_failed, timeout, zone_unhealthy, as mx_dnsbl_error_info), 1 while it holds,"+cachedBlocklist, labelDomain, labelError, labelMX, labelZone)
	famIPParity        = gauge("mx_ip_parity_info", "Whether the MX host's IPv6 addresses pass their dialogues as its IPv4 ones do (an IPv4-mapped IPv6 address counts as IPv4): both_pass, ipv6_failing (IPv4 passes, no IPv6 address does), ipv4_failing, both_failing, ipv4_only, ipv6_only; absent for a host without address, always 1,"+cachedTarget, labelDomain, labelMX, labelParity)
	famIPv6MXHosts     = gauge("mx_ipv6_mx_hosts", "MX hosts of the domain with an IPv6 address probed (compare mx_records),"+cachedTarget, labelDomain)

	famEndpoints        = gauge("mx_exporter_endpoints", "Endpoints (domain, MX host, address) with a cached probe result in /metrics.")
	famDuplicateTargets = gauge("mx_exporter_duplicate_targets", "Cached targets not exported because another module's target has the same domain label.")
)

// families holds the rows in the order of their declaration.
var families []*family

// gauge adds a row to the catalogue: a gauge family with its labels.
func gauge(name, help string, labels ...string) fam {
	f := &family{name: name, help: help, labels: labels}
	f.derive()
	families = append(families, f)
	return fam(len(families) - 1)
}

// byName lists the families in name order, the order of the exposition;
// famIndex finds a family by name.
var (
	byName   []fam
	famIndex map[string]fam
)

// init runs once every row is in families.
func init() {
	famIndex = make(map[string]fam, len(families))
	for i, f := range families {
		byName = append(byName, fam(i))
		famIndex[f.name] = fam(i)
	}
	slices.SortFunc(byName, func(a, b fam) int { return strings.Compare(families[a].name, families[b].name) })
}

// derive fills in what the row implies. Any label set will do: the values
// of domain, mx and ip come from the series' subject, the others from its
// tuple.
func (f *family) derive() {
	f.labels = slices.Sorted(slices.Values(f.labels))
	f.desc = prometheus.NewDesc(f.name, f.help, f.labels, nil)
	f.header = header(f.name, f.help)
	f.end = f.name + " "
	if len(f.labels) > 0 {
		f.end = `"} `
	}
	sep := f.name + "{"
	for _, l := range f.labels {
		f.lit = append(f.lit, sep+l+`="`)
		sep = `",`
		s := slotOf(l)
		if s == slotOther {
			f.others++
		}
		f.slots = append(f.slots, s)
	}
}

// slotOf says where the value of label l comes from.
func slotOf(l string) slot {
	switch l {
	case labelDomain:
		return slotDomain
	case labelMX:
		return slotMX
	case labelIP:
		return slotIP
	}
	return slotOther
}
