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
	"net"
	"net/netip"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/mx-exporter/mx_exporter/collector/dnsname"
	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/config"
)

// Allowlist decides which targets /probe may probe.
type Allowlist struct {
	configured map[string]bool // target names of the config
	domains    []string        // suffixes, lower case
	hosts      []string        // path.Match patterns, lower case
	networks   []netip.Prefix
	ports      []int
}

// NewAllowlist compiles the config's allow-list. The config is validated,
// so nothing fails to parse here.
func NewAllowlist(cfg *config.Config) *Allowlist {
	a := &Allowlist{configured: make(map[string]bool, len(cfg.Targets))}
	for _, t := range cfg.Targets {
		a.configured[t.Name()] = true
	}
	allow := cfg.ProbeEndpoint.Allow
	a.domains = slices.Clone(allow.Domains)
	a.hosts = slices.Clone(allow.Hosts)
	a.ports = slices.Clone(allow.Ports)
	for _, n := range allow.Networks {
		if p, err := netip.ParsePrefix(n); err == nil {
			a.networks = append(a.networks, p.Masked())
		}
	}
	return a
}

// Check returns nil when t may be probed with a module whose port is
// modulePort, else an error that says why not (shown to the requester).
func (a *Allowlist) Check(t probe.Target, modulePort int) error {
	if a.configured[targetName(t)] {
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
	host := dnsname.Normalize(t.Host)
	if ip, err := netip.ParseAddr(host); err == nil {
		for _, n := range a.networks {
			if n.Contains(ip.Unmap()) {
				return nil
			}
		}
		return fmt.Errorf("address %s is neither a configured target nor in probe_endpoint.allow.networks", host)
	}
	for _, pattern := range a.hosts {
		if matchHost(pattern, host) {
			return nil
		}
	}
	return fmt.Errorf("host %q is neither a configured target nor matched by probe_endpoint.allow.hosts", host)
}

// targetName is the name a configured target would have: the domain, or the
// host with its port as config writes it.
func targetName(t probe.Target) string {
	if t.Domain != "" {
		return t.Domain
	}
	if t.Port == 0 {
		return t.Host
	}
	return net.JoinHostPort(t.Host, strconv.Itoa(t.Port))
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
