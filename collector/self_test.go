package collector

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsbl"
)

// TestSelfBlocklistZones: each blocklist zone the daemon has checked gives
// one mx_dnsbl_zone_healthy and one mx_dnsbl_zone_check_timestamp_seconds,
// labelled by its configured name; a zone never checked has no verdict
// yet, and a name given twice is exported once (a duplicate series would
// fail the whole scrape).
func TestSelfBlocklistZones(t *testing.T) {
	checked := time.Unix(1_700_000_000, 250_000_000)
	stats := func() SelfStats {
		return SelfStats{BlocklistZones: []dnsbl.Health{
			{Zone: dnsbl.Zone{Name: "bl.test", Kind: dnsbl.KindAddress}, Healthy: true, Checked: checked},
			{Zone: dnsbl.Zone{Name: "brokenbl.test", Kind: dnsbl.KindAddress}, Healthy: false, Checked: checked.Add(time.Second), Detail: "lists 127.0.0.1"},
			{Zone: dnsbl.Zone{Name: "dbl.test", Kind: dnsbl.KindDomain}, Healthy: true, Checked: checked.Add(2 * time.Second)},
			{Zone: dnsbl.Zone{Name: "bl.test", Kind: dnsbl.KindDomain}, Healthy: false, Checked: checked}, // twice: the first counts
			{Zone: dnsbl.Zone{Name: "new.test", Kind: dnsbl.KindAddress}},                                 // not checked yet
			{Zone: dnsbl.Zone{Name: "", Kind: dnsbl.KindAddress}, Checked: checked},                       // no name, no label
		}}
	}
	const want = `
# HELP mx_dnsbl_zone_check_timestamp_seconds Unix time of the configured blocklist zone's last health check (see mx_dnsbl_zone_healthy).
# TYPE mx_dnsbl_zone_check_timestamp_seconds gauge
mx_dnsbl_zone_check_timestamp_seconds{zone="bl.test"} 1.70000000025e+09
mx_dnsbl_zone_check_timestamp_seconds{zone="brokenbl.test"} 1.70000000125e+09
mx_dnsbl_zone_check_timestamp_seconds{zone="dbl.test"} 1.70000000225e+09
`
	c := NewSelfCollector(stats)
	if err := testutil.CollectAndCompare(c, strings.NewReader(want), "mx_dnsbl_zone_check_timestamp_seconds"); err != nil {
		t.Fatalf("check timestamps: %v", err)
	}
	healthy := map[string]float64{}
	for _, m := range collectGauges(t, c, "mx_dnsbl_zone_healthy") {
		healthy[m.zone] = m.value
	}
	wantHealthy := map[string]float64{"bl.test": 1, "brokenbl.test": 0, "dbl.test": 1}
	if len(healthy) != len(wantHealthy) {
		t.Fatalf("mx_dnsbl_zone_healthy: got %v, want %v", healthy, wantHealthy)
	}
	for zone, v := range wantHealthy {
		if got, ok := healthy[zone]; !ok || got != v {
			t.Fatalf("mx_dnsbl_zone_healthy{zone=%q}: got %v (present %v), want %v", zone, got, ok, v)
		}
	}
	problems, err := testutil.CollectAndLint(c)
	if err != nil || len(problems) != 0 {
		t.Fatalf("CollectAndLint: %v, %v", problems, err)
	}

	// No zone configured, or none checked yet: no series, and the HELP
	// says what the family means all the same (Describe).
	empty := NewSelfCollector(func() SelfStats { return SelfStats{} })
	if n := testutil.CollectAndCount(empty, "mx_dnsbl_zone_healthy", "mx_dnsbl_zone_check_timestamp_seconds"); n != 0 {
		t.Fatalf("no zones: %d series, want none", n)
	}
	descs := make(chan *prometheus.Desc, 16)
	empty.Describe(descs)
	close(descs)
	var described []string
	for d := range descs {
		described = append(described, d.String())
	}
	for _, want := range []string{`fqName: "mx_dnsbl_zone_healthy"`, "RFC 5782 section 5", "zone_unhealthy", "dnsbl.health_interval", `fqName: "mx_dnsbl_zone_check_timestamp_seconds"`} {
		if !strings.Contains(strings.Join(described, "\n"), want) {
			t.Errorf("Describe lacks %q:\n%s", want, strings.Join(described, "\n"))
		}
	}
}

type zoneGauge struct {
	zone  string
	value float64
}

// collectGauges collects c and returns the zone label and value of each
// series of the family name.
func collectGauges(t *testing.T, c prometheus.Collector, name string) []zoneGauge {
	t.Helper()
	reg := prometheus.NewPedanticRegistry()
	reg.MustRegister(c)
	families, err := reg.Gather()
	if err != nil {
		t.Fatalf("gather: %v", err)
	}
	var out []zoneGauge
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, m := range f.GetMetric() {
			g := zoneGauge{value: m.GetGauge().GetValue()}
			for _, l := range m.GetLabel() {
				if l.GetName() == labelZone {
					g.zone = l.GetValue()
				}
			}
			out = append(out, g)
		}
	}
	return out
}
