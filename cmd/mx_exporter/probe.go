package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/report"
	"github.com/mx-exporter/mx_exporter/collector/wiring"
	"github.com/mx-exporter/mx_exporter/config"
)

// probeCommand is `mx_exporter probe TARGET`: one probe, a report, an exit
// status a script can use.
type probeCommand struct {
	cmd *kingpin.CmdClause

	target        *string
	configFile    *string
	module        *string
	resolver      *string
	trustAD       *bool
	checkName     *string
	dane          *string
	mtaSTS        *string
	reverseDNS    *bool
	pipelining    *bool
	dnsblZones    *[]string
	dnsblDomains  *[]string
	port          *uint16
	ehlo          *string
	mailFrom      *string
	rcpt          *[]string
	relayRcpt     *string
	vrfy          *string
	starttls      *string
	caFile        *string
	serverName    *string
	timeout       *time.Duration
	slowStep      *time.Duration
	ignoreSpecial *bool
	ipv4, ipv6    *bool
	asJSON        *bool
	colour        *string

	set map[string]*bool // which overriding flags the user gave

	// blocklists is the dnsbl section prepare settled on (the config's,
	// with the zone flags): run builds the probe's checker with its
	// cache_ttl and health_interval.
	blocklists config.DNSBL
}

func addProbeCommand(app *kingpin.Application) *probeCommand {
	c := &probeCommand{set: map[string]*bool{}}
	c.cmd = app.Command("probe", "Probe one domain (MX lookup, then every MX host and address) or one host[:port] now, and print the transcript and verdict. Exit status: 0 all good, 1 a probe failed, 2 usage or config error.")
	c.target = c.cmd.Arg("target", "A mail domain (example.com) or a host to probe directly (mx1.example.com:25, 192.0.2.1, [2001:db8::1]:587).").Required().String()
	c.configFile = c.cmd.Flag("config.file", "Configuration file to take the module (and DNS settings) from.").String()
	c.module = c.cmd.Flag("module", "Module of the configuration file to use.").Default(config.DefaultModuleName).String()
	c.resolver = c.cmd.Flag("resolver", "DNS server HOST[:PORT] to ask, instead of the config's or /etc/resolv.conf's.").String()
	c.trustAD = c.cmd.Flag("dns.trust-ad", "The resolvers validate DNSSEC and the path to them is trusted (a local unbound): believe their AD bit, so that DANE is checked. --no-… distrusts a config's dns.trust_ad.").
		IsSetByUser(c.flag("dns.trust-ad")).Bool()
	c.checkName = c.cmd.Flag("dns.validation-check-name", "Signed name whose SOA the resolvers must answer with the AD bit before it is believed (default: the config's, else the root zone \".\").").
		PlaceHolder("NAME").IsSetByUser(c.flag("dns.validation-check-name")).String()
	c.dane = c.cmd.Flag("dane", "DANE: enforce (a DANE failure fails the probe; the module's default), report (reported, never a failure) or off (no TLSA lookups). Checked only with --dns.trust-ad or the config's dns.trust_ad.").
		PlaceHolder(config.DANEEnforce).IsSetByUser(c.flag("dane")).Enum(config.DANEEnforce, config.DANEReport, config.DANEOff)
	c.mtaSTS = c.cmd.Flag("mta-sts", "MTA-STS of a domain target (RFC 8461; host targets have no policy): enforce (an enforce policy that does not cover an MX host, or whose covered MX fails its TLS, fails the probe; the module's default), report (reported, never a failure) or off (no _mta-sts or _smtp._tls lookup, no policy fetch). The policy is fetched from https://mta-sts.<domain>/ at every run, its certificate verified like the MX's (--tls.ca-file).").
		PlaceHolder(config.MTASTSEnforce).IsSetByUser(c.flag("mta-sts")).Enum(config.MTASTSEnforce, config.MTASTSReport, config.MTASTSOff)
	c.reverseDNS = c.cmd.Flag("reverse-dns", "Look up the PTR names of every probed address and whether they resolve back to it (forward-confirmed reverse DNS), and compare them with the MX name and the greeting; never a failure. On unless the module's reverse_dns is off; --no-reverse-dns skips it.").
		IsSetByUser(c.flag("reverse-dns")).Bool()
	c.pipelining = c.cmd.Flag("pipelining", "Send MAIL, every RCPT, the relay check, RSET and QUIT as one group (RFC 2920) when the server advertises PIPELINING after its last EHLO: fewer round trips; a missing or extra reply is a protocol_error. --no-… keeps the lock-step dialogue where the module pipelines.").
		IsSetByUser(c.flag("pipelining")).Bool()
	c.dnsblZones = c.cmd.Flag("dnsbl.zone", "DNS blocklist zone (RFC 5782) to look every probed address up in, IPv4 and IPv6 (repeatable; replaces the config's dnsbl.zones). None by default: many lists refuse queries through public resolvers (answering 127.255.255.x, reported as query_refused, never as a listing) and some need a key in the zone name (Spamhaus DQS: KEY.zen.dq.spamhaus.net), so ask through a resolver of your own (--resolver). Each zone's health (RFC 5782 section 5) is checked before its answers are trusted.").
		PlaceHolder("ZONE").IsSetByUser(c.flag("dnsbl.zone")).Strings()
	c.dnsblDomains = c.cmd.Flag("dnsbl.domain-zone", "DNS blocklist zone of host names (RFC 5782 section 2.3) to look every MX host name up in (repeatable; replaces the config's dnsbl.domain_zones). None by default, for the same reasons as --dnsbl.zone.").
		PlaceHolder("ZONE").IsSetByUser(c.flag("dnsbl.domain-zone")).Strings()
	c.port = c.cmd.Flag("port", "SMTP port.").PlaceHolder("25").IsSetByUser(c.flag("port")).Uint16()
	c.ehlo = c.cmd.Flag("ehlo", "Name to send in EHLO/HELO (default: this machine's host name).").IsSetByUser(c.flag("ehlo")).String()
	c.mailFrom = c.cmd.Flag("mail-from", "Reverse path for MAIL FROM; empty is the null sender <>.").IsSetByUser(c.flag("mail-from")).String()
	c.rcpt = c.cmd.Flag("rcpt", "Mailbox that must be accepted at RCPT TO (repeatable).").IsSetByUser(c.flag("rcpt")).Strings()
	c.relayRcpt = c.cmd.Flag("relay-rcpt", "Outside address that must be refused (open-relay check).").IsSetByUser(c.flag("relay-rcpt")).String()
	c.vrfy = c.cmd.Flag("vrfy", "Address to VRFY.").IsSetByUser(c.flag("vrfy")).String()
	c.starttls = c.cmd.Flag("starttls", "STARTTLS: off, opportunistic (when advertised) or required.").IsSetByUser(c.flag("starttls")).
		Enum(config.StartTLSOff, config.StartTLSOpportunistic, config.StartTLSRequired)
	c.caFile = c.cmd.Flag("tls.ca-file", "PEM bundle to verify server certificates with (default: system roots).").IsSetByUser(c.flag("tls.ca-file")).ExistingFile()
	c.serverName = c.cmd.Flag("tls.server-name", "Name the certificate must be valid for (default: the MX host name).").IsSetByUser(c.flag("tls.server-name")).String()
	c.timeout = c.cmd.Flag("timeout", "Timeout of the whole probe.").PlaceHolder("15s").IsSetByUser(c.flag("timeout")).Duration()
	c.slowStep = c.cmd.Flag("slow-step-threshold", "Report an SMTP step whose reply takes longer than this as slow (never a failure).").
		PlaceHolder("1s").IsSetByUser(c.flag("slow-step-threshold")).Duration()
	c.ignoreSpecial = c.cmd.Flag("ignore-special-addresses", "Do not report MX host addresses in special-purpose ranges (loopback, private, link-local, …), as for a lab; --no-… reports them where the module does not.").
		IsSetByUser(c.flag("ignore-special-addresses")).Bool()
	c.ipv4 = c.cmd.Flag("ipv4", "Probe IPv4 addresses only.").Short('4').Bool()
	c.ipv6 = c.cmd.Flag("ipv6", "Probe IPv6 addresses only.").Short('6').Bool()
	c.asJSON = c.cmd.Flag("json", "Print the report as one JSON document.").Bool()
	c.colour = c.cmd.Flag("color", "Colour the text report: auto (on a terminal), always, never.").Default("auto").Enum("auto", "always", "never")
	return c
}

func (c *probeCommand) flag(name string) *bool {
	b := new(bool)
	c.set[name] = b
	return b
}

func (c *probeCommand) given(name string) bool { return *c.set[name] }

func (c *probeCommand) run(ctx context.Context, logger *slog.Logger, stdout, stderr io.Writer) int {
	target, settings, err := c.prepare()
	if err != nil {
		fmt.Fprintf(stderr, "mx_exporter probe: %v\n", err)
		return exitUsage
	}
	// No daemon keeps a checker for this probe: it gets its own, which
	// checks each zone's health before trusting its answers and asks a
	// name shared by several MX hosts once.
	p := &probe.Prober{Logger: logger, Blocklists: dnsbl.NewChecker(c.blocklists.CacheTTL, c.blocklists.HealthInterval)}
	rep := p.Probe(ctx, target, settings)

	if *c.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(report.NewDocument(rep))
	} else {
		colour := *c.colour == "always" || (*c.colour == "auto" && isTerminal(stdout))
		err = report.WriteText(stdout, rep, colour)
	}
	if err != nil {
		fmt.Fprintf(stderr, "mx_exporter probe: writing report: %v\n", err)
		return exitFailure
	}
	if !rep.Success() {
		return exitFailure
	}
	return exitOK
}

// prepare resolves the target and the settings: the module (from the config
// file or built in) with the command-line overrides, and the resolver.
func (c *probeCommand) prepare() (probe.Target, probe.Settings, error) {
	var (
		cfg *config.Config
		err error
	)
	if *c.configFile != "" {
		cfg, err = config.Load(*c.configFile)
	} else {
		cfg, err = config.Parse(nil, "(built-in)")
	}
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	mod, ok := cfg.Module(*c.module)
	if !ok {
		return probe.Target{}, probe.Settings{}, fmt.Errorf("--module: no module %q in %s", *c.module, *c.configFile)
	}
	m := *mod
	c.override(&m)
	if m.SlowStepThreshold <= 0 {
		// The config rejects it; the flag must too, rather than fall
		// back to the default silently.
		return probe.Target{}, probe.Settings{}, fmt.Errorf("--slow-step-threshold must be positive, got %s", m.SlowStepThreshold)
	}

	target, err := probe.ParseTarget(*c.target)
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	settings, err := wiring.ModuleSettings(&m)
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	// The flags bypass the config's checks: a bad --rcpt is a usage error
	// here, not a failed dialogue with every address.
	if err := settings.SMTP.Validate(); err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	dns, err := c.overrideDNS(cfg.DNS)
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	settings.Resolver, err = wiring.Resolver(dns)
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	c.blocklists, err = c.overrideDNSBL(cfg.DNSBL)
	if err != nil {
		return probe.Target{}, probe.Settings{}, err
	}
	settings.DNSBLZones = wiring.DNSBLZones(c.blocklists)
	return target, settings, nil
}

// overrideDNSBL applies the zone flags to the config's dnsbl section: a
// flag given replaces the config's list. The flags bypass the config's
// checks, so they get the same ones here: a zone name is a label value of
// every listing series, and a zone lists addresses or host names.
func (c *probeCommand) overrideDNSBL(d config.DNSBL) (config.DNSBL, error) {
	var err error
	if c.given("dnsbl.zone") {
		if d.Zones, err = parseZoneFlags("--dnsbl.zone", *c.dnsblZones, true); err != nil {
			return config.DNSBL{}, err
		}
	}
	if c.given("dnsbl.domain-zone") {
		if d.DomainZones, err = parseZoneFlags("--dnsbl.domain-zone", *c.dnsblDomains, false); err != nil {
			return config.DNSBL{}, err
		}
	}
	for _, z := range d.DomainZones {
		if slices.Contains(d.Zones, z) {
			return config.DNSBL{}, fmt.Errorf("--dnsbl.domain-zone: %q is an address zone too (--dnsbl.zone or the config's dnsbl.zones); a zone lists addresses or host names, not both", z)
		}
	}
	return d, nil
}

// parseZoneFlags checks the zones of one repeatable flag and returns them
// in canonical form.
func parseZoneFlags(flag string, zones []string, addresses bool) ([]string, error) {
	out := make([]string, 0, len(zones))
	for _, z := range zones {
		name, err := config.ParseDNSBLZone(z, addresses)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", flag, err)
		}
		if slices.Contains(out, name) {
			return nil, fmt.Errorf("%s: %q is given twice", flag, name)
		}
		out = append(out, name)
	}
	return out, nil
}

// overrideDNS applies the DNS flags to the config's dns section. The check
// name bypasses the config's checks, so it gets the same one here.
func (c *probeCommand) overrideDNS(dns config.DNS) (config.DNS, error) {
	if *c.resolver != "" {
		dns.Resolvers = []string{*c.resolver}
	}
	if c.given("dns.trust-ad") {
		dns.TrustAD = *c.trustAD
	}
	if c.given("dns.validation-check-name") {
		name, err := config.ParseValidationCheckName(*c.checkName)
		if err != nil {
			return config.DNS{}, fmt.Errorf("--dns.validation-check-name: %w", err)
		}
		dns.ValidationCheckName = name
	}
	return dns, nil
}

func (c *probeCommand) override(m *config.Module) {
	if c.given("port") {
		m.Port = int(*c.port)
	}
	if c.given("ehlo") {
		m.EHLO = *c.ehlo
	}
	if c.given("mail-from") {
		m.MailFrom = *c.mailFrom
	}
	if c.given("rcpt") {
		m.Recipients = *c.rcpt
	}
	if c.given("relay-rcpt") {
		m.RelayCheck = *c.relayRcpt
	}
	if c.given("vrfy") {
		m.VRFY = *c.vrfy
	}
	if c.given("starttls") {
		m.StartTLS = *c.starttls
	}
	if c.given("dane") {
		m.DANE = *c.dane
	}
	if c.given("mta-sts") {
		m.MTASTS = *c.mtaSTS
	}
	if c.given("reverse-dns") {
		m.ReverseDNS = *c.reverseDNS
	}
	if c.given("pipelining") {
		m.Pipelining = *c.pipelining
	}
	if c.given("tls.ca-file") {
		m.TLS.CAFile = *c.caFile
	}
	if c.given("tls.server-name") {
		m.TLS.ServerName = *c.serverName
	}
	if c.given("timeout") {
		m.Timeout = *c.timeout
	}
	if c.given("slow-step-threshold") {
		m.SlowStepThreshold = *c.slowStep
	}
	if c.given("ignore-special-addresses") {
		m.IgnoreSpecialAddresses = *c.ignoreSpecial
	}
	switch {
	case *c.ipv4 && !*c.ipv6:
		m.AddressFamilies = []string{config.IPv4}
	case *c.ipv6 && !*c.ipv4:
		m.AddressFamilies = []string{config.IPv6}
	}
}
