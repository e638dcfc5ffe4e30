package config

import (
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// Load reads, parses and validates the config file at path. A file that
// cannot be read gives the *fs.PathError; a file that is wrong gives Errors.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Parse(data, path)
}

// Parse parses and validates a config. file names it in errors, and relative
// tls.ca_file paths are taken from its directory (and stored resolved), so
// that a config and its CA bundle can move together.
//
// An empty document is a valid config: the built-in default module, no
// targets. The error, if any, is an Errors holding every problem found
// (a YAML syntax error is reported alone).
func Parse(data []byte, file string) (*Config, error) {
	c := &Config{
		File: file,
		DNS: DNS{
			Timeout:             DefaultDNSTimeout,
			Attempts:            DefaultDNSAttempts,
			ValidationCheckName: DefaultValidationCheckName,
		},
		DNSBL: DNSBL{
			CacheTTL:       DefaultDNSBLCacheTTL,
			HealthInterval: DefaultDNSBLHealthInterval,
		},
	}
	d := newDecoder(file)
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	if root != nil {
		d.decode(root, "", reflect.ValueOf(c).Elem())
	}
	if _, ok := c.Modules[DefaultModuleName]; !ok {
		if c.Modules == nil {
			c.Modules = map[string]*Module{}
		}
		m := &Module{}
		m.setDefaults()
		c.Modules[DefaultModuleName] = m
	}
	v := &validator{decoder: d, decodeErrs: len(d.errs), dir: filepath.Dir(file)}
	v.config(c)
	if len(d.errs) > 0 {
		d.errs.sort()
		return nil, d.errs
	}
	return c, nil
}

// setDefaults gives every module, the file's "default" included, the
// built-in defaults for the keys it leaves out.
func (m *Module) setDefaults() {
	*m = Module{
		Port:                DefaultPort,
		Timeout:             DefaultTimeout,
		Interval:            DefaultInterval,
		EHLO:                DefaultEHLO(),
		StartTLS:            StartTLSOpportunistic,
		DANE:                DANEEnforce,
		MTASTS:              MTASTSEnforce,
		MTASTSRefresh:       DefaultMTASTSRefresh,
		ReverseDNS:          true,
		AddressFamilies:     []string{IPv4, IPv6},
		MaxMXHosts:          DefaultMaxMXHosts,
		MaxAddressesPerHost: DefaultMaxAddressesPerHost,
		SlowStepThreshold:   DefaultSlowStepThreshold,
	}
}

// DefaultEHLO is the EHLO name of a module that sets none: this machine's
// host name, or DefaultEHLOFallback when it has none that is a valid host
// name.
func DefaultEHLO() string {
	if h, err := os.Hostname(); err == nil && dnsname.Valid(h) {
		return h
	}
	return DefaultEHLOFallback
}

// Module returns the named module; "" is DefaultModuleName.
func (c *Config) Module(name string) (*Module, bool) {
	if name == "" {
		name = DefaultModuleName
	}
	m, ok := c.Modules[name]
	return m, ok
}

// TargetTimeout is the target's own timeout, else its module's.
func (c *Config) TargetTimeout(t *Target) time.Duration {
	if t.Timeout > 0 {
		return t.Timeout
	}
	if m, ok := c.Module(t.Module); ok {
		return m.Timeout
	}
	return DefaultTimeout
}

// TargetInterval is the target's own interval, else its module's.
func (c *Config) TargetInterval(t *Target) time.Duration {
	if t.Interval > 0 {
		return t.Interval
	}
	if m, ok := c.Module(t.Module); ok {
		return m.Interval
	}
	return DefaultInterval
}

// HostPort splits a host target into host name or IP (brackets removed) and
// port. port is 0 when the target gives none: use the module's.
func (t *Target) HostPort() (host string, port int) {
	host, port, _ = dnsname.SplitHostPort(t.Host)
	return host, port
}

// LoadRootCAs reads tls.ca_file. It returns nil and no error when none is
// set: a nil pool in tls.Config means the system roots. Parse has checked
// the file already; the pool is not kept in the Module so that a config
// stays plain data. Call it once per loaded config, not once per probe.
func (m *Module) LoadRootCAs() (*x509.CertPool, error) {
	if m.TLS.CAFile == "" {
		return nil, nil
	}
	return loadCertPool(m.TLS.CAFile)
}

// loadCertPool parses every certificate of a PEM bundle. Unlike
// CertPool.AppendCertsFromPEM it fails on a broken certificate instead of
// skipping it, and on a file without any.
func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		n++
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", path, n, err)
		}
		pool.AddCert(cert)
	}
	if n == 0 {
		return nil, fmt.Errorf("%s: no PEM certificates found", path)
	}
	return pool, nil
}
