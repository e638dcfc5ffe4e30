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
	labelDomain     = "domain"
	labelExtension  = "extension"
	labelFinding    = "finding"
	labelHostname   = "hostname"
	labelIP         = "ip"
	labelMX         = "mx"
	labelOutcome    = "outcome"
	labelPreference = "preference"
	labelReason     = "reason"
	labelRecipient  = "recipient"
	labelStage      = "stage"
	labelStep       = "step"
	labelTLS        = "tls"
	labelVersion    = "version"
)

// fam identifies a family of the catalogue.
type fam uint8

// The families fed from the store, plus the Exporter's own gauges.
const (
	famTargetSuccess fam = iota
	famTargetDuration
	famTargetLastRun
	famTargetInterval

	famDNSSuccess
	famDNSDuration
	famDNSOutcome
	famRecords
	famNullMX
	famImplicitMX
	famRecordInfo
	famHostAddresses
	famDNSFinding
	famHostFinding

	famProbeSuccess
	famProbeDuration
	famProbeLastRun
	famProbeFailure
	famFinding
	famGreetingFirstLine
	famStepDuration
	famReplyCode
	famEnhancedStatus
	famRecipientAccepted
	famRecipientReplyCode
	famOpenRelay
	famRelayConclusive
	famBannerInfo
	famExtension
	famSizeLimit
	famTLSEstablished
	famTLSCertExpiry
	famTLSCertVerified
	famTLSInfo
	famTLSFailure

	famEndpoints
	famDuplicateTargets

	numFams
)

const (
	cachedTarget   = " from the last probe (cached; see mx_target_last_run_timestamp_seconds)."
	cachedEndpoint = " from the last probe (cached; see mx_probe_last_run_timestamp_seconds)."
)

// family is one row of the catalogue: a gauge and its labels. Adding a
// metric is a row here and one call in emit.
type family struct {
	name   string
	help   string
	labels []string

	// Derived by init.
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

var families = [numFams]*family{
	famTargetSuccess:  {name: "mx_target_success", help: "1 when every MX host and address of the target met the module's expectations (a null MX domain succeeds), else 0," + cachedTarget, labels: []string{labelDomain}},
	famTargetDuration: {name: "mx_target_probe_duration_seconds", help: "Wall time of the whole target probe: DNS and every dialogue," + cachedTarget, labels: []string{labelDomain}},
	famTargetLastRun:  {name: "mx_target_last_run_timestamp_seconds", help: "Unix time when the target's cached probe finished.", labels: []string{labelDomain}},
	famTargetInterval: {name: "mx_target_interval_seconds", help: "How often the daemon probes the target, from the configuration: staleness is time() - mx_target_last_run_timestamp_seconds against this.", labels: []string{labelDomain}},

	famDNSSuccess:    {name: "mx_dns_lookup_success", help: "1 when the MX lookup answered (MX records, a null MX, or no MX with the domain's own address as implicit MX), 0 on NXDOMAIN, SERVFAIL, timeout and other errors," + cachedTarget, labels: []string{labelDomain}},
	famDNSDuration:   {name: "mx_dns_lookup_duration_seconds", help: "Time the MX lookup took, retries included," + cachedTarget, labels: []string{labelDomain}},
	famDNSOutcome:    {name: "mx_dns_lookup_outcome_info", help: "Outcome of the MX lookup (answer, nxdomain, nodata, servfail, refused, timeout, error), always 1," + cachedTarget, labels: []string{labelDomain, labelOutcome}},
	famRecords:       {name: "mx_records", help: "Number of MX records found (0 for a null MX or an implicit MX)," + cachedTarget, labels: []string{labelDomain}},
	famNullMX:        {name: "mx_null_mx", help: "1 when the domain publishes a null MX (RFC 7505: it accepts no mail), else 0," + cachedTarget, labels: []string{labelDomain}},
	famImplicitMX:    {name: "mx_implicit_mx", help: "1 when the domain has no MX record and its own address stands in as implicit MX (RFC 5321 5.1), else 0," + cachedTarget, labels: []string{labelDomain}},
	famRecordInfo:    {name: "mx_record_info", help: "One series per MX host with its preference, always 1," + cachedTarget, labels: []string{labelDomain, labelMX, labelPreference}},
	famHostAddresses: {name: "mx_host_addresses", help: "Addresses probed for the MX host (0: the host has no usable address)," + cachedTarget, labels: []string{labelDomain, labelMX}},
	famDNSFinding:    {name: "mx_dns_finding_info", help: "A fact about the domain's MX records that is not by itself a failure (null_mx_mixed: a null MX among other MX records), 1 while it holds," + cachedTarget, labels: []string{labelDomain, labelFinding}},
	famHostFinding:   {name: "mx_host_finding_info", help: "A fact about the MX host that is not by itself a failure (mx_cname, mx_ip_literal, special_address), 1 while it holds," + cachedTarget, labels: []string{labelDomain, labelFinding, labelMX}},

	famProbeSuccess:       {name: "mx_probe_success", help: "1 when the SMTP dialogue with the address met the module's expectations, else 0," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famProbeDuration:      {name: "mx_probe_duration_seconds", help: "Wall time of the SMTP dialogue with the address," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famProbeLastRun:       {name: "mx_probe_last_run_timestamp_seconds", help: "Unix time when the cached dialogue with the address finished.", labels: []string{labelDomain, labelIP, labelMX}},
	famProbeFailure:       {name: "mx_probe_failure_info", help: "Why the dialogue with the address failed (bounded set of reasons), 1 while it fails," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX, labelReason}},
	famFinding:            {name: "mx_smtp_finding_info", help: "A named fact about the dialogue that is not by itself a failure (greeting_delayed, greylisted, slow_step, middlebox_*), 1 while it holds," + cachedEndpoint, labels: []string{labelDomain, labelFinding, labelIP, labelMX}},
	famGreetingFirstLine:  {name: "mx_smtp_greeting_first_line_seconds", help: "Time from connect to the first line of the greeting (the banner step runs to its final line; postscreen holds that back)," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famStepDuration:       {name: "mx_smtp_step_duration_seconds", help: "Time each dialogue step took (0 when not reached; rcpt is the first configured recipient)," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX, labelStep}},
	famReplyCode:          {name: "mx_smtp_reply_code", help: "Basic SMTP reply code per command (0: no reply; rcpt is the first configured recipient)," + cachedEndpoint, labels: []string{labelCommand, labelDomain, labelIP, labelMX}},
	famEnhancedStatus:     {name: "mx_smtp_enhanced_status_info", help: "RFC 3463 enhanced status code of the reply per command where one was sent, always 1," + cachedEndpoint, labels: []string{labelCode, labelCommand, labelDomain, labelIP, labelMX}},
	famRecipientAccepted:  {name: "mx_smtp_recipient_accepted", help: "1 when RCPT TO of the configured recipient was accepted (2xx), else 0," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX, labelRecipient}},
	famRecipientReplyCode: {name: "mx_smtp_recipient_reply_code", help: "Basic reply code to RCPT TO of the configured recipient (0: not reached)," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX, labelRecipient}},
	famOpenRelay:          {name: "mx_smtp_open_relay", help: "1 when the relay-check recipient was accepted (open relay), else 0," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famRelayConclusive:    {name: "mx_smtp_relay_check_conclusive", help: "1 when the relay check gave a verdict (refused or open), 0 when inconclusive or not reached," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famBannerInfo:         {name: "mx_smtp_banner_info", help: "Validated host name the server announces in its banner, always 1," + cachedEndpoint, labels: []string{labelDomain, labelHostname, labelIP, labelMX}},
	famExtension:          {name: "mx_smtp_extension", help: "1 when the known ESMTP extension was advertised in EHLO before (tls=\"false\") or after STARTTLS (tls=\"true\"), else 0," + cachedEndpoint, labels: []string{labelDomain, labelExtension, labelIP, labelMX, labelTLS}},
	famSizeLimit:          {name: "mx_smtp_size_limit_bytes", help: "Message size limit advertised with SIZE, after STARTTLS when available (0: none or no fixed limit)," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famTLSEstablished:     {name: "mx_tls_established", help: "1 when a TLS session was established with STARTTLS, else 0," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famTLSCertExpiry:      {name: "mx_tls_cert_expiry_timestamp_seconds", help: "Unix time when the first certificate of the presented chain expires," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famTLSCertVerified:    {name: "mx_tls_cert_verified", help: "1 when the certificate chain verified for the MX host name, else 0," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX}},
	famTLSInfo:            {name: "mx_tls_info", help: "TLS version and cipher suite of the STARTTLS session, always 1," + cachedEndpoint, labels: []string{labelCipher, labelDomain, labelIP, labelMX, labelVersion}},
	famTLSFailure:         {name: "mx_tls_starttls_failure_info", help: "STARTTLS was offered and attempted but gave no TLS session (stage refused: 4xx/5xx reply; handshake: the handshake failed); mail would travel in clear, 1 while it fails," + cachedEndpoint, labels: []string{labelDomain, labelIP, labelMX, labelStage}},

	famEndpoints:        {name: "mx_exporter_endpoints", help: "Endpoints (domain, MX host, address) with a cached probe result in /metrics."},
	famDuplicateTargets: {name: "mx_exporter_duplicate_targets", help: "Cached targets not exported because another module's target has the same domain label."},
}

// byName lists the families in name order, the order of the exposition.
var byName []fam

func init() {
	for i, f := range families {
		f.derive()
		byName = append(byName, fam(i))
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
