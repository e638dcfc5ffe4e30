package config

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
)

// MaxFileSize is the largest config file Load reads. A config of ten
// thousand targets is about half a megabyte. The YAML parser holds a node
// of some 160 bytes for every few bytes of text, so the cap is what bounds
// the memory a wrong file costs before it is refused (a file of a million
// duplicate targets is refused unread).
const MaxFileSize = 4 << 20

// Load reads, parses and validates the config file at path. A file that
// cannot be read gives the *fs.PathError; a file that is wrong gives Errors.
func Load(path string) (*Config, error) {
	return LoadContext(context.Background(), path)
}

// LoadContext is Load that gives up, with ctx's error, when ctx ends while
// the file is decoded. Parsing the YAML text itself cannot be interrupted:
// a caller that must not wait for it runs LoadContext in a goroutine of its
// own.
//
// Only a regular file of at most MaxFileSize bytes is read: a named pipe
// that nobody writes would block the read forever, and a device could be
// endless.
func LoadContext(ctx context.Context, path string) (*Config, error) {
	data, err := readConfigFile(path)
	if err != nil {
		return nil, err
	}
	return parse(ctx, data, path)
}

// readConfigFile opens path without blocking (opening a named pipe for
// reading otherwise waits for a writer) and checks what it opened, not what
// the name pointed to a moment before, so that no swap of the file between
// the check and the read can make it block.
func readConfigFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !fi.Mode().IsRegular() {
		return nil, Errors{{File: path, Msg: fmt.Sprintf("not a regular file (%s); the config must be a plain file", fileKind(fi.Mode()))}}
	}
	if fi.Size() > MaxFileSize {
		return nil, fileTooLarge(path, fi.Size())
	}
	// The file may grow between Stat and the read: read one byte past
	// the cap to tell.
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fileTooLarge(path, int64(len(data)))
	}
	return data, nil
}

func fileTooLarge(path string, size int64) error {
	return Errors{{File: path, Msg: fmt.Sprintf("the file is %d bytes, more than the limit of %d (%d MiB)", size, MaxFileSize, MaxFileSize>>20)}}
}

// fileKind names what a non-regular file is, for the error.
func fileKind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a named pipe"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.Type().String()
}

// Parse parses and validates a config. file names it in errors, and relative
// tls.ca_file paths are taken from its directory (and stored resolved), so
// that a config and its CA bundle can move together.
//
// An empty document is a valid config: the built-in default module, no
// targets. The error, if any, is an Errors holding the problems found, at
// most MaxErrors of them and a count of the rest (a YAML syntax error is
// reported alone).
func Parse(data []byte, file string) (*Config, error) {
	return parse(context.Background(), data, file)
}

func parse(ctx context.Context, data []byte, file string) (*Config, error) {
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
	d := newDecoder(ctx, file)
	root, err := d.document(data)
	if err != nil {
		return nil, err
	}
	if root != nil {
		d.decode(root, "", reflect.ValueOf(c).Elem())
		c.TargetsListed = hasListKey(root, "targets")
	}
	if d.cancelled() {
		return nil, ctx.Err()
	}
	d.merged = nil // the YAML tree is no longer needed: let it go
	if _, ok := c.Modules[DefaultModuleName]; !ok {
		if c.Modules == nil {
			c.Modules = map[string]*Module{}
		}
		m := &Module{}
		m.setDefaults()
		c.Modules[DefaultModuleName] = m
	}
	d.validating = true
	v := &validator{decoder: d, dir: filepath.Dir(file)}
	v.config(c)
	if es := d.errs.result(file); es != nil {
		return nil, es
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

// LoadRootCAs reads tls.ca_file once: the pool, and id, which names the
// file by its path and the SHA-256 of the content the pool was made from
// (the MTA-STS policy cache keys on it, so that a file replaced before a
// reload does not find the policies judged under the old one). It returns
// nil, "" and no error when none is set: a nil pool in tls.Config means the
// system roots. Parse has checked the file already; the pool is not kept in
// the Module so that a config stays plain data. Call it once per loaded
// config, not once per probe.
func (m *Module) LoadRootCAs() (pool *x509.CertPool, id string, err error) {
	if m.TLS.CAFile == "" {
		return nil, "", nil
	}
	data, err := os.ReadFile(m.TLS.CAFile)
	if err != nil {
		return nil, "", err
	}
	if pool, err = parseCertPool(m.TLS.CAFile, data); err != nil {
		return nil, "", err
	}
	sum := sha256.Sum256(data)
	return pool, m.TLS.CAFile + " sha256:" + hex.EncodeToString(sum[:]), nil
}

// loadCertPool parses every certificate of a PEM bundle. Unlike
// CertPool.AppendCertsFromPEM it fails on a broken certificate instead of
// skipping it, and on a file without any.
func loadCertPool(path string) (*x509.CertPool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseCertPool(path, data)
}

// parseCertPool is loadCertPool of data already read from path.
func parseCertPool(path string, data []byte) (*x509.CertPool, error) {
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
