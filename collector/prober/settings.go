package prober

import (
	"fmt"

	"github.com/mx-exporter/mx_exporter/collector/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/smtp"
	"github.com/mx-exporter/mx_exporter/config"
)

// FromModule turns a validated config module into probe settings. It reads
// the module's CA file, so callers do it once per config load, not per probe.
func FromModule(m *config.Module) (Settings, error) {
	s := Settings{
		Timeout: m.Timeout,
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
	pool, err := m.LoadRootCAs()
	if err != nil {
		return Settings{}, fmt.Errorf("tls.ca_file: %w", err)
	}
	s.SMTP.RootCAs = pool
	return s, nil
}

// SettingsByModule builds the settings of every module of cfg once, with
// resolver for all of them.
func SettingsByModule(cfg *config.Config, resolver *dnsmx.Resolver) (map[string]Settings, error) {
	out := make(map[string]Settings, len(cfg.Modules))
	for name, m := range cfg.Modules {
		s, err := FromModule(m)
		if err != nil {
			return nil, fmt.Errorf("module %s: %w", name, err)
		}
		s.Resolver = resolver
		out[name] = s
	}
	return out, nil
}
