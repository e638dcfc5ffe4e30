package config

import (
	"fmt"
	"net/netip"
	pathpkg "path"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// validator checks a decoded config and normalises the few values that
// have a canonical form (target domains and hosts, the default module name,
// relative CA file paths).
type validator struct {
	*decoder
	dir string // directory of the config file
}

// errorf reports a problem with the value at path base.key ("" key: base
// itself), on the line of that key, else of base when the value is a default.
func (v *validator) errorf(base, key, format string, args ...any) {
	path := base
	if key != "" {
		path = joinKey(base, key)
	}
	if v.failed(path) {
		return
	}
	line, ok := v.pos[path]
	if !ok {
		line = v.pos[base]
	}
	v.decoder.errorf(line, path, format, args...)
}

// failed reports whether decoding already failed at or under path: the value
// there is a leftover default, and a second error about it would mislead.
func (v *validator) failed(path string) bool {
	return v.failedAt[path]
}

func (v *validator) set(path string) bool {
	_, ok := v.pos[path]
	return ok
}

func (v *validator) config(c *Config) {
	v.dns(&c.DNS)
	v.dnsbl(&c.DNSBL)
	names := make([]string, 0, len(c.Modules))
	for name := range c.Modules {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		v.module(joinKey("modules", name), name, c.Modules[name])
	}
	seen := map[targetKey]int{}
	for i, t := range c.Targets {
		v.target(joinIndex("targets", i), t, c, names, seen, i)
	}
	v.probeAllow("probe_endpoint.allow", &c.ProbeEndpoint.Allow)
}

func (v *validator) dns(d *DNS) {
	for i, r := range d.Resolvers {
		host, _, err := dnsname.SplitHostPort(r)
		switch {
		case err != nil:
			v.errorf(joinIndex("dns.resolvers", i), "", "%v", err)
		case !isIP(host):
			// Resolving the resolver would ask the system's DNS on every
			// query and blame its failures on ours.
			v.errorf(joinIndex("dns.resolvers", i), "", "must be an IP address, optionally with a port (192.0.2.53, [2001:db8::53]:53), got %q", r)
		}
	}
	if d.Timeout <= 0 {
		v.errorf("dns", "timeout", "must be positive, got %s", fmtDuration(d.Timeout))
	}
	if d.Attempts < 1 {
		v.errorf("dns", "attempts", "must be at least 1, got %d", d.Attempts)
	}
	if name, err := ParseValidationCheckName(d.ValidationCheckName); err != nil {
		v.errorf("dns", "validation_check_name", "%v", err)
	} else {
		d.ValidationCheckName = name
	}
}

// ParseValidationCheckName checks the name of the resolver self-check, as
// dns.validation_check_name and the probe command's flag give it, and
// returns its canonical form: "." for the root zone, else dnsname.Normalize.
// An IP address is refused although "192.0.2.1" is a valid DNS name: no
// signed zone is called that, and it would be a resolver put in the wrong
// key.
func ParseValidationCheckName(s string) (string, error) {
	if s == "." {
		return s, nil
	}
	// Normalize before checking, so that a fully qualified "example.com."
	// passes; ".." would become "." that way, and Valid refuses it.
	name := dnsname.Normalize(s)
	switch {
	case !isASCII(name):
		return "", fmt.Errorf("must be a DNS name in ASCII, got %q (write internationalised names as xn--… A-labels)", s)
	case !dnsname.Valid(name):
		return "", fmt.Errorf(`must be a DNS name like example.com, or "." for the root zone, got %q`, s)
	case isIP(name):
		return "", fmt.Errorf(`must be the name of a signed zone like example.com, or "." for the root zone, got the IP address %q`, s)
	}
	return name, nil
}

func (v *validator) dnsbl(d *DNSBL) {
	// A zone is one kind or the other: its name labels the series of its
	// listings and of its health, and the two kinds check their health
	// with different test entries.
	seen := map[string]string{} // zone name → path of its first entry
	for _, list := range []struct {
		key       string
		zones     []string
		addresses bool
	}{{"dnsbl.zones", d.Zones, true}, {"dnsbl.domain_zones", d.DomainZones, false}} {
		for i, z := range list.zones {
			path := joinIndex(list.key, i)
			name, err := ParseDNSBLZone(z, list.addresses)
			if err != nil {
				v.errorf(path, "", "%v", err)
				continue
			}
			list.zones[i] = name
			first, dup := seen[name]
			switch {
			case !dup:
				seen[name] = path
			case strings.HasPrefix(first, list.key+"["):
				v.errorf(path, "", "duplicate of %s", first)
			default:
				// Domain zones come second: the first entry is an address zone.
				v.errorf(path, "", "%q is an address zone too (%s); a zone lists addresses or host names, not both (its name labels its series)", name, first)
			}
		}
	}
	if d.CacheTTL < MinDNSBLCacheTTL || d.CacheTTL > MaxDNSBLCacheTTL {
		v.errorf("dnsbl", "cache_ttl", "must be between %s and %s, got %s",
			fmtDuration(MinDNSBLCacheTTL), fmtDuration(MaxDNSBLCacheTTL), fmtDuration(d.CacheTTL))
	}
	if d.HealthInterval < MinDNSBLHealthInterval || d.HealthInterval > MaxDNSBLHealthInterval {
		v.errorf("dnsbl", "health_interval", "must be between %s and %s, got %s",
			fmtDuration(MinDNSBLHealthInterval), fmtDuration(MaxDNSBLHealthInterval), fmtDuration(d.HealthInterval))
	}
}

// ParseDNSBLZone checks the name of a blocklist zone, as dnsbl.zones and
// dnsbl.domain_zones and the probe command's flags give it, and returns its
// canonical form (dnsname.Normalize). addresses says it is an address zone,
// whose IPv6 queries put 32 labels before it; a domain zone must leave room
// for its health entry. These are dnsbl.CheckZone's rules, which config
// cannot import; the wiring's tests hold the two in step. An IP address is
// refused
// although "127.0.0.2" is a valid DNS name: it would be a resolver put in
// the wrong key.
func ParseDNSBLZone(s string, addresses bool) (string, error) {
	name := dnsname.Normalize(s)
	switch {
	case !isASCII(name):
		return "", fmt.Errorf("must be a DNS zone name in ASCII, got %q (write internationalised names as xn--… A-labels)", s)
	case !dnsname.Valid(name):
		return "", fmt.Errorf("must be a DNS zone name like bl.example.org, got %q", s)
	case isIP(name):
		return "", fmt.Errorf("must be the name of a blocklist zone like bl.example.org, got the IP address %q (resolvers are dns.resolvers)", s)
	case addresses && len(name) > MaxDNSBLAddressZoneLen:
		return "", fmt.Errorf("must be at most %d characters, so that an IPv6 query (64 characters of address labels before the zone) is a DNS name, got %d", MaxDNSBLAddressZoneLen, len(name))
	case !addresses && len(name) > MaxDNSBLDomainZoneLen:
		return "", fmt.Errorf(`must be at most %d characters, so that its health check ("invalid" before the zone) is a DNS name, got %d`, MaxDNSBLDomainZoneLen, len(name))
	}
	return name, nil
}

func (v *validator) module(path, name string, m *Module) {
	if strings.TrimSpace(name) == "" {
		v.errorf(path, "", "module name must not be blank")
	}
	if m.Port < 1 || m.Port > 65535 {
		v.errorf(path, "port", "must be between 1 and 65535, got %d", m.Port)
	}
	timeoutOK, intervalOK := m.Timeout > 0, m.Interval >= time.Second
	if !timeoutOK {
		v.errorf(path, "timeout", "must be positive, got %s", fmtDuration(m.Timeout))
	}
	if !intervalOK {
		v.errorf(path, "interval", "must be at least 1s, got %s", fmtDuration(m.Interval))
	}
	if timeoutOK && intervalOK && m.Timeout > m.Interval && !v.failed(path+".timeout") && !v.failed(path+".interval") {
		// Blame whichever the file sets; the other is a default.
		if v.set(path + ".timeout") {
			v.errorf(path, "timeout", "%s is longer than the interval %s", fmtDuration(m.Timeout), fmtDuration(m.Interval))
		} else {
			v.errorf(path, "interval", "%s is shorter than the timeout %s", fmtDuration(m.Interval), fmtDuration(m.Timeout))
		}
	}
	// The SMTP-safety rules are dnsname's, shared with smtp.Options.Validate.
	if err := dnsname.CheckEHLO(m.EHLO); err != nil {
		v.errorf(path, "ehlo", "%v, got %q", err, m.EHLO)
	}
	if m.MailFrom != "" {
		if err := dnsname.CheckMailbox(m.MailFrom); err != nil {
			v.errorf(path, "mail_from", "%v (leave it empty for the null sender), got %q", err, m.MailFrom)
		}
	}
	seen := map[string]int{}
	for i, r := range m.Recipients {
		p := joinIndex(path+".recipients", i)
		if err := dnsname.CheckMailbox(r); err != nil {
			v.errorf(p, "", "%v, got %q", err, r)
			continue
		}
		if first, dup := seen[strings.ToLower(r)]; dup {
			v.errorf(p, "", "duplicate of recipients[%d]", first)
			continue
		}
		seen[strings.ToLower(r)] = i
	}
	if m.RelayCheck != "" {
		if err := dnsname.CheckMailbox(m.RelayCheck); err != nil {
			v.errorf(path, "relay_check", "%v, got %q", err, m.RelayCheck)
		}
	}
	if m.VRFY != "" {
		if err := dnsname.CheckVRFY(m.VRFY); err != nil {
			v.errorf(path, "vrfy", "%v, got %q", err, m.VRFY)
		}
	}
	switch m.StartTLS {
	case StartTLSOff, StartTLSOpportunistic, StartTLSRequired:
	default:
		v.errorf(path, "starttls", "must be one of %s, %s, %s, got %q", StartTLSOff, StartTLSOpportunistic, StartTLSRequired, m.StartTLS)
	}
	switch m.DANE {
	case DANEEnforce, DANEReport, DANEOff:
	default:
		v.errorf(path, "dane", "must be one of %s, %s, %s, got %q", DANEEnforce, DANEReport, DANEOff, m.DANE)
	}
	switch m.MTASTS {
	case MTASTSEnforce, MTASTSReport, MTASTSOff:
	default:
		v.errorf(path, "mta_sts", "must be one of %s, %s, %s, got %q", MTASTSEnforce, MTASTSReport, MTASTSOff, m.MTASTS)
	}
	if m.MTASTSRefresh < MinMTASTSRefresh || m.MTASTSRefresh > MaxMTASTSRefresh {
		v.errorf(path, "mta_sts_refresh", "must be between %s and %s, got %s",
			fmtDuration(MinMTASTSRefresh), fmtDuration(MaxMTASTSRefresh), fmtDuration(m.MTASTSRefresh))
	}
	v.tls(path+".tls", &m.TLS)
	v.families(path, m.AddressFamilies)
	if m.MaxMXHosts < 1 {
		v.errorf(path, "max_mx_hosts", "must be at least 1, got %d", m.MaxMXHosts)
	}
	if m.MaxAddressesPerHost < 1 {
		v.errorf(path, "max_addresses_per_host", "must be at least 1, got %d", m.MaxAddressesPerHost)
	}
	if m.SlowStepThreshold <= 0 {
		v.errorf(path, "slow_step_threshold", "must be positive, got %s", fmtDuration(m.SlowStepThreshold))
	}
}

func (v *validator) tls(path string, t *TLS) {
	if t.CAFile != "" {
		if !filepath.IsAbs(t.CAFile) {
			t.CAFile = filepath.Join(v.dir, t.CAFile)
		}
		if _, err := loadCertPool(t.CAFile); err != nil {
			v.errorf(path, "ca_file", "%v", err)
		}
	}
	if t.ServerName != "" && !dnsname.Valid(t.ServerName) {
		v.errorf(path, "server_name", "must be a host name, got %q", t.ServerName)
	}
}

func (v *validator) families(path string, fams []string) {
	if len(fams) == 0 {
		v.errorf(path, "address_families", "must list %s, %s or both", IPv4, IPv6)
		return
	}
	seen := map[string]bool{}
	for i, f := range fams {
		p := joinIndex(path+".address_families", i)
		switch {
		case f != IPv4 && f != IPv6:
			v.errorf(p, "", "must be %s or %s, got %q", IPv4, IPv6, f)
		case seen[f]:
			v.errorf(p, "", "%s is listed twice", f)
		}
		seen[f] = true
	}
}

// targetKey identifies a target. Its name is the `domain` label of every
// series it exports, so two targets of one name, even with different
// modules, would export the same series.
type targetKey struct{ kind, name string }

func (v *validator) target(path string, t *Target, c *Config, modules []string, seen map[targetKey]int, i int) {
	var key targetKey
	switch {
	case t.Domain == "" && t.Host == "":
		v.errorf(path, "", "needs a domain (to look up its MX hosts) or a host (to probe directly)")
	case t.Domain != "" && t.Host != "":
		v.errorf(path, "", "has both domain and host; a target is one or the other")
	case t.Domain != "":
		t.Domain = dnsname.Normalize(t.Domain)
		if msg := checkDomain(t.Domain); msg != "" {
			v.errorf(path, "domain", "%s", msg)
		}
		key = targetKey{"domain", t.Domain}
	default:
		// The reader /probe uses too: a plain host name or an IP
		// address, with an optional port.
		host, port, err := dnsname.SplitTarget(t.Host)
		if err != nil {
			v.errorf(path, "host", "%v", err)
		} else {
			t.Host = dnsname.JoinHostPort(host, port)
		}
		key = targetKey{"host", t.Host}
	}

	if t.Module == "" {
		t.Module = DefaultModuleName
	}
	_, ok := c.Modules[t.Module]
	if !ok {
		v.errorf(path, "module", "unknown module %q%s; known modules: %s", t.Module, suggest(t.Module, modules), strings.Join(modules, ", "))
	}

	timeoutOK := !v.set(path+".timeout") || t.Timeout > 0
	intervalOK := !v.set(path+".interval") || t.Interval >= time.Second
	if !timeoutOK {
		v.errorf(path, "timeout", "must be positive, got %s (leave it out to use the module's)", fmtDuration(t.Timeout))
	}
	if !intervalOK {
		v.errorf(path, "interval", "must be at least 1s, got %s", fmtDuration(t.Interval))
	}
	if ok && timeoutOK && intervalOK && (t.Timeout > 0 || t.Interval > 0) && !v.failed(path+".timeout") && !v.failed(path+".interval") {
		timeout, interval := c.TargetTimeout(t), c.TargetInterval(t)
		switch {
		case timeout <= interval:
		case t.Timeout > 0 && t.Interval > 0:
			v.errorf(path, "timeout", "%s is longer than the interval %s", fmtDuration(timeout), fmtDuration(interval))
		case t.Timeout > 0:
			v.errorf(path, "timeout", "%s is longer than the interval %s of module %q", fmtDuration(timeout), fmtDuration(interval), t.Module)
		default:
			v.errorf(path, "interval", "%s is shorter than the timeout %s of module %q", fmtDuration(interval), fmtDuration(timeout), t.Module)
		}
	}

	if key.kind != "" && !v.failed(path) {
		if first, dup := seen[key]; dup {
			v.errorf(path, "", "same %s %q as targets[%d]; a target is probed by one module (its name labels its series)", key.kind, key.name, first)
		} else {
			seen[key] = i
		}
	}
}

// checkDomain says what is wrong with a (lower-cased) mail domain, or "".
// A domain target is read as /probe reads one (dnsname.SplitTarget): a
// plain host name, whose last label is not all digits.
func checkDomain(d string) string {
	if _, err := netip.ParseAddr(d); err == nil {
		return fmt.Sprintf("%q is an IP address; use host to probe an address", d)
	}
	if !isASCII(d) {
		return fmt.Sprintf("must be a DNS name in ASCII, got %.64q (write internationalised names as xn--… A-labels)", d)
	}
	if err := dnsname.CheckHost(d); err != nil {
		return fmt.Sprintf("must be a DNS name like example.com, got %.64q: it %v", d, err)
	}
	if last := d[strings.LastIndexByte(d, '.')+1:]; strings.Trim(last, "0123456789") == "" {
		return fmt.Sprintf("must be a DNS name like example.com, got %q: its last label is all digits, as no host name's is", d)
	}
	return ""
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// fmtDuration prints 1m rather than time.Duration's 1m0s.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}

func isIP(s string) bool {
	_, err := netip.ParseAddr(s)
	return err == nil
}

// probeAllow checks the /probe allow-list and normalises its domains and
// host patterns to lower case without a trailing dot.
func (v *validator) probeAllow(base string, a *ProbeAllow) {
	for i, d := range a.Domains {
		d = dnsname.Normalize(d)
		a.Domains[i] = d
		if msg := checkDomain(d); msg != "" {
			v.errorf(joinIndex(base+".domains", i), "", "%s", msg)
		}
	}
	for i, h := range a.Hosts {
		h = dnsname.Normalize(h)
		a.Hosts[i] = h
		if _, err := pathpkg.Match(h, ""); err != nil || !dnsname.Valid(strings.ReplaceAll(h, "*", "x")) {
			v.errorf(joinIndex(base+".hosts", i), "", "must be a host name, with * for any part of a label, got %q", h)
		}
	}
	for i, n := range a.Networks {
		if _, err := netip.ParsePrefix(n); err != nil {
			v.errorf(joinIndex(base+".networks", i), "", "must be a CIDR prefix such as 192.0.2.0/24 or 2001:db8::/32, got %q", n)
		}
	}
	for i, p := range a.Ports {
		if p < 1 || p > 65535 {
			v.errorf(joinIndex(base+".ports", i), "", "must be a port from 1 to 65535, got %d", p)
		}
	}
	switch a.ResolvedAddresses {
	case "":
		a.ResolvedAddresses = ResolvedPublic
	case ResolvedPublic, ResolvedNetworks, ResolvedAny:
	default:
		v.errorf(base, "resolved_addresses", "must be %s, %s or %s, got %.64q", ResolvedPublic, ResolvedNetworks, ResolvedAny, a.ResolvedAddresses)
	}
}
