package collector

import (
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	versioncollector "github.com/prometheus/client_golang/prometheus/collectors/version"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
	"github.com/mx-exporter/mx_exporter/collector/scheduler"
)

// SelfStats is the daemon's view of its own work, read at scrape time. The
// daemon fills it from its scheduler and config loader.
type SelfStats struct {
	ProbesSucceeded uint64 // target probes that succeeded, since start
	ProbesFailed    uint64 // target probes that failed, since start
	ProbesInFlight  int    // target probes running now
	Targets         int    // targets in the current config

	// SchedulerLag is how late probes started versus their planned time.
	SchedulerLag scheduler.LagSnapshot

	ConfigReloadSuccessful bool
	ConfigReloadSuccess    time.Time // last successful load; zero exports 0

	// BlocklistZones is the health of each configured blocklist zone
	// checked so far (dnsbl.Checker.Zones, of the zones the config in
	// force names). A zone's name comes from the config only, so it may
	// be a label value; a zone listed twice is exported once.
	BlocklistZones []dnsbl.Health
}

var (
	descProbes = prometheus.NewDesc("mx_exporter_probes_total",
		"Target probes run since start, by result (success or failure).", []string{"result"}, nil)
	descInFlight = prometheus.NewDesc("mx_exporter_probes_in_flight",
		"Target probes running now.", nil, nil)
	descTargets = prometheus.NewDesc("mx_exporter_targets",
		"Targets in the current configuration.", nil, nil)
	descLag = prometheus.NewDesc("mx_exporter_scheduler_lag_seconds",
		"How late target probes started versus their planned time.", nil, nil)
	descReloadOK = prometheus.NewDesc("mx_exporter_config_last_reload_successful",
		"1 when the last configuration load succeeded, else 0.", nil, nil)
	descReloadTime = prometheus.NewDesc("mx_exporter_config_last_reload_success_timestamp_seconds",
		"Unix time of the last successful configuration load.", nil, nil)
	descZoneHealthy = prometheus.NewDesc("mx_dnsbl_zone_healthy",
		"1 when the configured blocklist zone passed its last health check (RFC 5782 section 5: an address zone lists 127.0.0.2 and not 127.0.0.1, a domain zone lists test and not invalid), else 0: its answers are then not trusted and every look-up in it is the error zone_unhealthy (a list that shut down or lists everything, a resolver it refuses, a typo or a wrong key in the zone name). Checked at start, at each config load and every dnsbl.health_interval; absent until the zone's first check.", []string{labelZone}, nil)
	descZoneChecked = prometheus.NewDesc("mx_dnsbl_zone_check_timestamp_seconds",
		"Unix time of the configured blocklist zone's last health check (see mx_dnsbl_zone_healthy).", []string{labelZone}, nil)
)

// SelfCollector exports SelfStats.
type SelfCollector struct {
	stats func() SelfStats
}

// NewSelfCollector returns a collector that calls stats at each scrape.
func NewSelfCollector(stats func() SelfStats) *SelfCollector {
	return &SelfCollector{stats: stats}
}

// Describe implements prometheus.Collector.
func (c *SelfCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descProbes, descInFlight, descTargets, descLag, descReloadOK, descReloadTime, descZoneHealthy, descZoneChecked} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c *SelfCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.stats()
	ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(s.ProbesSucceeded), "success")
	ch <- prometheus.MustNewConstMetric(descProbes, prometheus.CounterValue, float64(s.ProbesFailed), "failure")
	ch <- prometheus.MustNewConstMetric(descInFlight, prometheus.GaugeValue, float64(s.ProbesInFlight))
	ch <- prometheus.MustNewConstMetric(descTargets, prometheus.GaugeValue, float64(s.Targets))
	ch <- lagHistogram(s.SchedulerLag)
	ch <- prometheus.MustNewConstMetric(descReloadOK, prometheus.GaugeValue, bool01(s.ConfigReloadSuccessful))
	ch <- prometheus.MustNewConstMetric(descReloadTime, prometheus.GaugeValue, unixSeconds(s.ConfigReloadSuccess))
	seen := make(map[string]bool, len(s.BlocklistZones))
	for _, h := range s.BlocklistZones {
		// Never checked has no verdict yet; a name twice would be a
		// duplicate series, which fails the whole scrape.
		zone := clean(h.Zone.Name)
		if h.Checked.IsZero() || zone == "" || seen[zone] {
			continue
		}
		seen[zone] = true
		ch <- prometheus.MustNewConstMetric(descZoneHealthy, prometheus.GaugeValue, bool01(h.Healthy), zone)
		ch <- prometheus.MustNewConstMetric(descZoneChecked, prometheus.GaugeValue, unixSeconds(h.Checked), zone)
	}
}

func lagHistogram(h scheduler.LagSnapshot) prometheus.Metric {
	if len(h.UpperBounds) != len(h.Cumulative) {
		return prometheus.NewInvalidMetric(descLag, fmt.Errorf("scheduler lag: %d bounds, %d counts", len(h.UpperBounds), len(h.Cumulative)))
	}
	buckets := make(map[float64]uint64, len(h.UpperBounds))
	for i, ub := range h.UpperBounds {
		if math.IsInf(ub, +1) {
			continue // implied by Count
		}
		buckets[ub] = h.Cumulative[i]
	}
	m, err := prometheus.NewConstHistogram(descLag, h.Count, h.Sum, buckets)
	if err != nil {
		return prometheus.NewInvalidMetric(descLag, err)
	}
	return m
}

// NewSelfRegistry returns a registry with mx_exporter_build_info, the
// process and Go runtime metrics and, when stats is not nil, the
// self-monitoring metrics of SelfStats. The daemon serves it merged with
// the Exporter's series: exp.Handler(reg, logger).
func NewSelfRegistry(stats func() SelfStats) (*prometheus.Registry, error) {
	reg := prometheus.NewRegistry()
	cs := []prometheus.Collector{
		versioncollector.NewCollector("mx_exporter"),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		collectors.NewGoCollector(),
	}
	if stats != nil {
		cs = append(cs, NewSelfCollector(stats))
	}
	var errs []error
	for _, c := range cs {
		errs = append(errs, reg.Register(c))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return reg, nil
}
