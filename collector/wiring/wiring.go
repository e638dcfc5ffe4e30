// Package wiring is the one place where the configuration becomes what the
// probe engine and the scheduler run: config → probe settings → scheduler
// jobs. Neither the engine nor the scheduler knows the config package.
package wiring

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/probe/dane"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/config"
)

// ModuleSettings turns a validated config module into probe settings. It reads
// the module's CA file, so callers do it once per config load, not per probe.
func ModuleSettings(m *config.Module) (probe.Settings, error) {
	s := probe.Settings{
		Timeout:       m.Timeout,
		DANE:          dane.Mode(m.DANE),
		MTASTS:        mtasts.Mode(m.MTASTS),
		MTASTSRefresh: m.MTASTSRefresh,
		// Not the target's timeout, which Jobs sets: a shared fetch is
		// the module's, whichever target's probe starts it.
		MTASTSFetchTimeout: m.Timeout,
		ReverseDNS:         m.ReverseDNS,
		Detail: probe.Detail{
			AllExtensions:  m.Metrics.AllExtensions,
			EnhancedStatus: m.Metrics.EnhancedStatus,
			AllSteps:       m.Metrics.AllSteps,
		},
		SMTP: smtp.Options{
			Port:               m.Port,
			EHLOName:           m.EHLO,
			MailFrom:           m.MailFrom,
			Recipients:         append([]string(nil), m.Recipients...),
			RelayCheck:         m.RelayCheck,
			VRFY:               m.VRFY,
			StartTLS:           smtp.StartTLS(m.StartTLS),
			TLSServerName:      m.TLS.ServerName,
			RequireVerifiedTLS: m.TLS.RequireVerified,
			SlowStepThreshold:  m.SlowStepThreshold,
			Pipelining:         m.Pipelining,
		},
		DNS: dnsmx.Options{
			MaxMXHosts:             m.MaxMXHosts,
			MaxAddressesPerHost:    m.MaxAddressesPerHost,
			IgnoreSpecialAddresses: m.IgnoreSpecialAddresses,
		},
	}
	for _, f := range m.AddressFamilies {
		s.DNS.Families = append(s.DNS.Families, dnsmx.Family(f))
	}
	pool, id, err := m.LoadRootCAs()
	if err != nil {
		return probe.Settings{}, fmt.Errorf("tls.ca_file: %w", err)
	}
	s.SMTP.RootCAs, s.RootCAsID = pool, id
	return s, nil
}

// Resolver builds the resolver of a config's dns section: its servers, else
// the nameservers of /etc/resolv.conf. With trust_ad it believes their AD
// bit once they pass the self-check on validation_check_name; without it
// every DNSSEC state is unchecked and DANE is not checked. The daemon builds
// one per config load, so a reload that changes trust_ad or the check name
// brings a resolver that does what the new config says, with its own
// self-check.
func Resolver(dns config.DNS) (*dnsmx.Resolver, error) {
	servers := dns.Resolvers
	if len(servers) == 0 {
		var err error
		servers, err = dnsmx.ServersFromResolvConf(config.DefaultResolvConf)
		if err != nil {
			return nil, fmt.Errorf("no resolver configured and %w", err)
		}
	}
	r, err := dnsmx.NewResolver(servers, dns.Timeout, dns.Attempts)
	if err != nil {
		return nil, err
	}
	if dns.TrustAD {
		r.EnableValidation(dns.ValidationCheckName)
	}
	return r, nil
}

// DNSBLZones are the blocklists of a config's dnsbl section, the address
// zones first, each in its config order; nil when none is configured. The
// section is global, like dns: every module looks up the same zones.
func DNSBLZones(d config.DNSBL) []dnsbl.Zone {
	var zones []dnsbl.Zone
	for _, z := range d.Zones {
		zones = append(zones, dnsbl.Zone{Name: z, Kind: dnsbl.KindAddress})
	}
	for _, z := range d.DomainZones {
		zones = append(zones, dnsbl.Zone{Name: z, Kind: dnsbl.KindDomain})
	}
	return zones
}

// Settings builds the settings of every module of cfg once, with
// resolver and the blocklists of the dnsbl section for all of them.
func Settings(cfg *config.Config, resolver *dnsmx.Resolver) (map[string]probe.Settings, error) {
	out := make(map[string]probe.Settings, len(cfg.Modules))
	zones := DNSBLZones(cfg.DNSBL) // shared and never written: read-only for the engine
	for name, m := range cfg.Modules {
		s, err := ModuleSettings(m)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", name, err)
		}
		s.Resolver = resolver
		s.DNSBLZones = zones
		out[name] = s
	}
	return out, nil
}

// Jobs turns a validated config into scheduler jobs, with the
// settings of each module as built by Settings.
func Jobs(cfg *config.Config, settings map[string]probe.Settings) ([]scheduler.Job, error) {
	jobs := make([]scheduler.Job, 0, len(cfg.Targets))
	for _, t := range cfg.Targets {
		modName := t.Module
		if modName == "" {
			modName = config.DefaultModuleName
		}
		mod, ok := cfg.Module(modName)
		s, ok2 := settings[modName]
		if !ok || !ok2 {
			return nil, fmt.Errorf("target %s: no module %q", t.Name(), modName)
		}
		s.Timeout = cfg.TargetTimeout(t)

		target := probe.Target{Domain: t.Domain}
		if t.Host != "" {
			host, port := t.HostPort()
			target = probe.Target{Host: host, Port: port}
		}
		// The fingerprint is a digest, not the JSON itself: it is kept
		// for every job, and a copy of the module per job would count in
		// the daemon's memory (see BenchmarkScale10k). Of the dnsbl
		// section only the zones are the job's (as its settings have
		// them: an empty list is none): cache_ttl and health_interval
		// are the daemon's blocklist checker's, and a change of theirs
		// need not restart every job.
		spec, err := json.Marshal(struct {
			Target     *config.Target
			Module     *config.Module
			DNS        config.DNS
			DNSBLZones []dnsbl.Zone
		}{t, mod, cfg.DNS, s.DNSBLZones})
		if err != nil {
			return nil, err
		}
		fp := sha256.Sum256(spec)
		jobs = append(jobs, scheduler.Job{
			Key:         store.Key(target.Name(), modName),
			Name:        target.Name(),
			Module:      modName,
			Target:      target,
			Settings:    s,
			Interval:    cfg.TargetInterval(t),
			Fingerprint: string(fp[:]),
		})
	}
	return jobs, nil
}
