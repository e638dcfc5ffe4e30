// Package config loads and validates mx_exporter's YAML configuration.
//
// Every error names the file, the line and the key it is about; unknown keys
// are rejected, so a typo never silently falls back to a default.
package config

import (
	"time"
)

// StartTLS modes of a module.
const (
	StartTLSOff           = "off"           // never send STARTTLS
	StartTLSOpportunistic = "opportunistic" // use it when advertised (default)
	StartTLSRequired      = "required"      // fail the probe when it is not advertised or fails
)

// DANE modes of a module: what a DANE failure does. They are the probe
// engine's (dane.Modes); config keeps its own copy because it imports no
// engine package, and the wiring's tests hold the two lists equal.
const (
	DANEEnforce = "enforce" // a DANE failure fails the probe (default), as DANE senders defer
	DANEReport  = "report"  // every DANE fact is reported; the probe does not fail for it
	DANEOff     = "off"     // no TLSA lookups
)

// MTA-STS modes of a module: what an MTA-STS failure of a domain target
// does. They are the probe engine's (mtasts.Modes); config keeps its own
// copy because it imports no engine package, and the wiring's tests hold
// the two lists equal.
const (
	MTASTSEnforce = "enforce" // an enforce policy the MX hosts do not satisfy fails the probe (default)
	MTASTSReport  = "report"  // every MTA-STS fact is reported; the probe does not fail for it
	MTASTSOff     = "off"     // no _mta-sts or _smtp._tls lookups, no policy fetch
)

// Address families.
const (
	IPv4 = "ipv4"
	IPv6 = "ipv6"
)

// DefaultModuleName is the module a target uses when it names none. A
// built-in module of that name exists even when the file defines none.
const DefaultModuleName = "default"

// Defaults. They are documented in the README's configuration section; keep
// the two in step.
const (
	DefaultPort                = 25
	DefaultTimeout             = 15 * time.Second
	DefaultInterval            = 60 * time.Second
	DefaultMaxMXHosts          = 10
	DefaultMaxAddressesPerHost = 4
	DefaultDNSTimeout          = 2 * time.Second
	DefaultDNSAttempts         = 2
	DefaultSlowStepThreshold   = time.Second
	DefaultResolvConf          = "/etc/resolv.conf"

	// DefaultMTASTSRefresh is how long a fetched MTA-STS policy is used
	// before it is fetched again while the TXT id stays the same: a
	// policy changes rarely, and a change that follows RFC 8461 changes
	// the id too, which is asked at every probe and refetches at once.
	DefaultMTASTSRefresh = time.Hour
	// MinMTASTSRefresh and MaxMTASTSRefresh bound mta_sts_refresh: more
	// often than once a minute would have every probe of a busy exporter
	// knock on the policy host; less often than once a day would hide for
	// days a policy changed without a new id, which senders fetching it
	// afresh do see.
	MinMTASTSRefresh = time.Minute
	MaxMTASTSRefresh = 24 * time.Hour

	// DefaultDNSBLCacheTTL is how long a blocklist answer is used before
	// the zone is asked again: thousands of domains sharing an MX farm then
	// cost one query per address and zone in that time, well within the
	// free-use limits of public lists, and a new listing shows within it.
	DefaultDNSBLCacheTTL = 15 * time.Minute
	// MinDNSBLCacheTTL and MaxDNSBLCacheTTL bound dnsbl.cache_ttl: less
	// than a minute would ask the lists at nearly every probe, which is
	// what gets a resolver refused (127.255.255.x); more than a day would
	// hide a listing, or a delisting, for days.
	MinDNSBLCacheTTL = time.Minute
	MaxDNSBLCacheTTL = 24 * time.Hour
	// DefaultDNSBLHealthInterval is how often each zone's health is checked
	// (RFC 5782 section 5): a list that shuts down, or starts refusing
	// the resolver, shows within the hour.
	DefaultDNSBLHealthInterval = time.Hour
	// MinDNSBLHealthInterval and MaxDNSBLHealthInterval bound
	// dnsbl.health_interval, for the same reasons as the cache's bounds.
	MinDNSBLHealthInterval = time.Minute
	MaxDNSBLHealthInterval = 24 * time.Hour
	// MaxDNSBLAddressZoneLen is the longest name of an address zone: an
	// IPv6 address is asked as 32 one-character labels (64 characters
	// with their dots) before the zone, and a DNS name has at most 253.
	MaxDNSBLAddressZoneLen = 253 - 64
	// MaxDNSBLDomainZoneLen is the longest name of a domain zone: its
	// health check (RFC 5782 section 5) asks "invalid" before the zone.
	MaxDNSBLDomainZoneLen = 253 - len("invalid.")

	// DefaultValidationCheckName is the resolver self-check's name: the
	// root zone, signed and answered by every validating resolver that has
	// the root trust anchor.
	DefaultValidationCheckName = "."

	// DefaultEHLOFallback is the EHLO name when this machine's host name is
	// unknown or not a valid host name (see DefaultEHLO). A name under
	// .invalid (RFC 6761) is an FQDN, which many MTAs insist on, that no one
	// can own, and it tells the remote postmaster who is knocking.
	DefaultEHLOFallback = "mx-exporter.invalid"
)

// Config is the whole file.
type Config struct {
	DNS           DNS                `yaml:"dns"`
	DNSBL         DNSBL              `yaml:"dnsbl"`
	Modules       map[string]*Module `yaml:"modules"`
	Targets       []*Target          `yaml:"targets"`
	ProbeEndpoint ProbeEndpoint      `yaml:"probe_endpoint"`

	// File is the path the config was loaded from ("" when built in code).
	File string `yaml:"-"`
	// TargetsListed is set by Parse when the file has a targets list, an
	// empty one ("targets: []") included: a reload may remove every
	// target only when the file says so.
	TargetsListed bool `yaml:"-"`
}

// DNS configures the resolver used for MX and address lookups.
type DNS struct {
	// Resolvers are IP addresses with an optional port ("192.0.2.53",
	// "[2001:db8::53]:53"); empty means the nameservers of /etc/resolv.conf.
	Resolvers []string `yaml:"resolvers"`
	// Timeout bounds one query attempt to one server.
	Timeout time.Duration `yaml:"timeout"`
	// Attempts is how many times each server is asked before the next one.
	Attempts int `yaml:"attempts"`
	// TrustAD says the resolvers validate DNSSEC and the path to them is
	// trusted (a local unbound on loopback), like Postfix's
	// smtp_dns_support_level = dnssec: only then is their AD bit believed.
	// Without it every DNSSEC state is unchecked and DANE "not checked",
	// never passed: anyone between an untrusted resolver and us could set
	// the bit.
	TrustAD bool `yaml:"trust_ad"`
	// ValidationCheckName is the signed name whose SOA every resolver must
	// answer with the AD bit before its AD bits count (the self-check).
	// Parse leaves it normalised (dnsname.Normalize), "." being the root.
	ValidationCheckName string `yaml:"validation_check_name"`
}

// DNSBL configures the DNS blocklists (RFC 5782) every probed address and
// MX host name is looked up in, through the dns section's resolvers. None
// by default: many lists refuse queries that come through public resolvers
// (answering 127.255.255.x, which is never taken for a listing), some need
// a key in the zone name, and each zone name is a label value. The section
// is global, like dns: every module looks up the same zones, so that an
// address shared by many targets is asked once per zone.
type DNSBL struct {
	// Zones list IP addresses (zen.spamhaus.org, bl.spamcop.net): each
	// probed address, IPv4 and IPv6, is asked there. Parse leaves them
	// normalised (dnsname.Normalize).
	Zones []string `yaml:"zones"`
	// DomainZones list host names (RFC 5782 section 2.3, dbl.spamhaus.org):
	// each MX host name is asked there. Normalised like Zones.
	DomainZones []string `yaml:"domain_zones"`
	// CacheTTL is how long an answer is used, whatever probes need it.
	CacheTTL time.Duration `yaml:"cache_ttl"`
	// HealthInterval is how often each zone's health is checked: its
	// test entry must be listed and its "not listed" entry must not.
	HealthInterval time.Duration `yaml:"health_interval"`
}

// Module says how to probe: which port, what to say, what to expect.
type Module struct {
	Port     int           `yaml:"port"`
	Timeout  time.Duration `yaml:"timeout"`  // whole probe of one target, all addresses
	Interval time.Duration `yaml:"interval"` // how often the daemon probes

	EHLO       string   `yaml:"ehlo"`        // name sent in EHLO/HELO; default: this machine's host name
	MailFrom   string   `yaml:"mail_from"`   // reverse path; "" is the null sender <>
	Recipients []string `yaml:"recipients"`  // mailboxes that must be accepted
	RelayCheck string   `yaml:"relay_check"` // an outside address that must be refused; "" skips the check
	VRFY       string   `yaml:"vrfy"`        // address to VRFY; "" skips VRFY

	StartTLS string `yaml:"starttls"` // off, opportunistic, required
	TLS      TLS    `yaml:"tls"`
	// DANE is what a DANE failure does: enforce, report or off. It only
	// matters with dns.trust_ad; without it DANE is never checked.
	DANE string `yaml:"dane"`
	// MTASTS is what an MTA-STS failure does: enforce, report or off. Only
	// domain targets have a policy (RFC 8461: the policy domain is the
	// recipient domain); host targets are never checked.
	MTASTS string `yaml:"mta_sts"`
	// MTASTSRefresh is how long a fetched policy is used before it is
	// fetched again, once per domain whatever probes it; a new TXT id
	// refetches at once.
	MTASTSRefresh time.Duration `yaml:"mta_sts_refresh"`
	// ReverseDNS turns on the PTR lookup of every probed address and the
	// forward confirmation of its names (FCrDNS), which receivers judge a
	// sending gateway by. Never a failure; on by default.
	ReverseDNS bool `yaml:"reverse_dns"`

	// Pipelining sends MAIL, every RCPT, the relay check, RSET and QUIT
	// as one group (RFC 2920) when the server advertises PIPELINING after
	// its last EHLO: 11 round trips instead of 19 for a STARTTLS dialogue.
	// Off by default: the lock-step dialogue shows which command a slow or
	// failing server stalls on.
	Pipelining bool `yaml:"pipelining"`

	// Metrics opts in to series that most users never query: each costs
	// its share at every probed address (the series budget, issue 14).
	Metrics Metrics `yaml:"metrics"`

	AddressFamilies     []string `yaml:"address_families"` // ipv4, ipv6; default both
	MaxMXHosts          int      `yaml:"max_mx_hosts"`
	MaxAddressesPerHost int      `yaml:"max_addresses_per_host"`

	// SlowStepThreshold: an SMTP step whose reply takes longer is reported
	// as slow (a tarpit, a busy server); the probe does not fail for it.
	SlowStepThreshold time.Duration `yaml:"slow_step_threshold"`
	// IgnoreSpecialAddresses stops reporting MX host addresses in
	// special-purpose ranges (loopback, private, link-local, …), which
	// senders on the internet cannot reach: for labs and test environments,
	// whose gateways live there on purpose. Such addresses are probed
	// either way; the finding never fails a probe.
	IgnoreSpecialAddresses bool `yaml:"ignore_special_addresses"`
}

// Metrics says which details of each dialogue a module exports besides
// the default series. The probe report and the status page show them all
// either way.
type Metrics struct {
	// AllExtensions exports every known ESMTP extension before and after
	// STARTTLS. By default: STARTTLS as the plaintext EHLO offers it, and
	// 8BITMIME, CHUNKING, PIPELINING, REQUIRETLS and SMTPUTF8 as the last
	// EHLO offers them (SIZE has mx_smtp_size_limit_bytes).
	AllExtensions bool `yaml:"all_extensions"`
	// EnhancedStatus exports the RFC 3463 status code of each command's
	// reply (mx_smtp_enhanced_status_info).
	EnhancedStatus bool `yaml:"enhanced_status"`
	// AllSteps exports every step's time and reply code. By default: the
	// times of connect, banner, EHLO (or HELO), the TLS handshake, RCPT,
	// VRFY and a pipelined group; the reply codes of the banner, EHLO (or
	// HELO), MAIL, RCPT, the relay check and VRFY.
	AllSteps bool `yaml:"all_steps"`
}

// TLS configures certificate verification after STARTTLS.
type TLS struct {
	CAFile     string `yaml:"ca_file"`     // PEM bundle; default: the system roots
	ServerName string `yaml:"server_name"` // verify against this name instead of the MX host name
	// RequireVerified fails the probe (tls_verify_failed) when the chain does
	// not verify. Off by default: SMTP between MTAs is opportunistic, and an
	// unverified certificate is reported, not fatal.
	RequireVerified bool `yaml:"require_verified"`
}

// ProbeEndpoint configures GET /probe, which probes what a request names.
// Without an allow-list it probes only the configured targets: the exporter
// must never become an open port scanner or a hop for someone else's traffic.
type ProbeEndpoint struct {
	Allow ProbeAllow `yaml:"allow"`
}

// ProbeAllow lists what /probe may probe besides the configured targets.
type ProbeAllow struct {
	// Domains are mail domains, each allowing itself and its subdomains
	// ("example.com" allows example.com and mx1.example.com).
	Domains []string `yaml:"domains"`
	// Hosts are host-name patterns for host targets, with * standing for
	// one label or part of one ("mx*.example.net", "*.example.org").
	Hosts []string `yaml:"hosts"`
	// Networks are CIDR prefixes for host targets given as IP addresses,
	// and, as ResolvedAddresses says, for the addresses DNS gives.
	Networks []string `yaml:"networks"`
	// Ports a host target may name besides its module's port.
	Ports []int `yaml:"ports"`
	// ResolvedAddresses says which addresses /probe dials when a target
	// it probes is a name looked up in DNS (an allowed domain's MX hosts,
	// an allowed host name) and not a configured target: whoever controls
	// that DNS would otherwise choose what the exporter connects to.
	// Parse sets the default, ResolvedPublic.
	ResolvedAddresses string `yaml:"resolved_addresses"`
}

// The values of probe_endpoint.allow.resolved_addresses.
const (
	// ResolvedPublic dials public addresses, and addresses in a
	// special-purpose range (loopback, private, link-local, shared,
	// documentation, …) only when they lie in allow.networks.
	ResolvedPublic = "public"
	// ResolvedNetworks dials only addresses in allow.networks.
	ResolvedNetworks = "networks"
	// ResolvedAny dials whatever DNS says, as before 0.2.0.
	ResolvedAny = "any"
)

// Target is one thing to probe: a mail domain (MX lookup) or a host.
type Target struct {
	Domain string `yaml:"domain"` // resolve MX records, probe every MX host
	Host   string `yaml:"host"`   // "host" or "host:port" (dnsname.SplitHostPort): probe directly, no MX lookup
	Module string `yaml:"module"` // default "default"

	Interval time.Duration `yaml:"interval"` // overrides the module's
	Timeout  time.Duration `yaml:"timeout"`  // overrides the module's
}

// Name is what identifies the target in logs, store keys and labels: the
// domain, or the host with its port when it names one. Parse leaves both in
// canonical form (dnsname.Normalize, dnsname.JoinHostPort), so this is the
// name the probe engine gives the same target (probe.Target.Name).
func (t *Target) Name() string {
	if t.Domain != "" {
		return t.Domain
	}
	return t.Host
}
