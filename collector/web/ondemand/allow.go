// Package ondemand serves GET /probe: one probe now, of what the request
// names, answered with the metrics of that probe only (or its transcript with
// debug=true). Prometheus then decides what is probed and when, and can shard
// targets across replicas with hashmod relabelling, the way
// blackbox_exporter's multi-target pattern works.
//
// Because a request names the target, an allow-list decides what may be
// probed: by default only the configured targets, so the exporter is never
// an open port scanner or a hop for somebody else's traffic.
package ondemand

import (
	"fmt"
	"net/netip"
	"path"
	"slices"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/config"
)

// Allowlist decides which targets /probe may probe.
type Allowlist struct {
	configured map[string]bool // the config's targets, by Target.Name
	domains    []string        // suffixes, lower case
	hosts      []string        // path.Match patterns, lower case
	networks   []netip.Prefix
	ports      []int
	resolved   string // config.Resolved*: which addresses DNS gives are dialled (DialAllowed)
}

// NewAllowlist compiles the config's allow-list. The config is validated,
// so nothing fails to parse here.
func NewAllowlist(cfg *config.Config) *Allowlist {
	a := &Allowlist{configured: make(map[string]bool, len(cfg.Targets))}
	for _, t := range cfg.Targets {
		// config names targets as probe.Target.Name does.
		a.configured[t.Name()] = true
	}
	allow := cfg.ProbeEndpoint.Allow
	a.domains = slices.Clone(allow.Domains)
	a.hosts = slices.Clone(allow.Hosts)
	a.ports = slices.Clone(allow.Ports)
	a.resolved = allow.ResolvedAddresses
	for _, n := range allow.Networks {
		if p, err := netip.ParsePrefix(n); err == nil {
			a.networks = append(a.networks, p.Masked())
		}
	}
	return a
}

// Check returns nil when t (in canonical form, as ParseTarget gives it) may
// be probed with a module whose port is modulePort, else an error that says
// why not (shown to the requester).
func (a *Allowlist) Check(t probe.Target, modulePort int) error {
	if a.configured[t.Name()] {
		return nil
	}
	if t.Domain != "" {
		for _, d := range a.domains {
			if t.Domain == d || strings.HasSuffix(t.Domain, "."+d) {
				return nil
			}
		}
		return fmt.Errorf("domain %q is neither a configured target nor under probe_endpoint.allow.domains", t.Domain)
	}
	if t.Port != 0 && t.Port != modulePort && !slices.Contains(a.ports, t.Port) {
		return fmt.Errorf("port %d is neither the module's port %d nor in probe_endpoint.allow.ports", t.Port, modulePort)
	}
	if ip, err := netip.ParseAddr(t.Host); err == nil {
		for _, n := range a.networks {
			if n.Contains(ip.Unmap()) {
				return nil
			}
		}
		return fmt.Errorf("address %s is neither a configured target nor in probe_endpoint.allow.networks", t.Host)
	}
	for _, pattern := range a.hosts {
		if matchHost(pattern, t.Host) {
			return nil
		}
	}
	return fmt.Errorf("host %q is neither a configured target nor matched by probe_endpoint.allow.hosts", t.Host)
}

// matchHost matches a host name against a pattern label by label, so that
// * never spans a dot: "*.example.org" allows mx.example.org, not
// a.b.example.org.
func matchHost(pattern, host string) bool {
	pl, hl := strings.Split(pattern, "."), strings.Split(host, ".")
	if len(pl) != len(hl) {
		return false
	}
	for i := range pl {
		if ok, err := path.Match(pl[i], hl[i]); err != nil || !ok {
			return false
		}
	}
	return true
}
