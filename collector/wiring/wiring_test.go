package wiring

import (
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe"
	"github.com/mx-exporter/mx_exporter/collector/store"
	"github.com/mx-exporter/mx_exporter/config"
)

// TestJobsName: a configured target has one name, however the file spells
// it, and the store key, the scheduler, the report and /probe all use it.
func TestJobsName(t *testing.T) {
	cfg, err := config.Parse([]byte(`
modules:
  submission: {port: 587}
targets:
  - domain: Example.COM.
  - host: MX1.Example.NET.:2525
  - host: "[2001:DB8:0::25]:25"
  - host: "[192.0.2.25]"
    module: submission
`), "wiring.yml")
	if err != nil {
		t.Fatal(err)
	}
	settings, err := Settings(cfg, nil)
	if err != nil {
		t.Fatal(err)
	}
	jobs, err := Jobs(cfg, settings)
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		name, module string
		target       probe.Target
	}{
		{"example.com", "default", probe.Target{Domain: "example.com"}},
		{"mx1.example.net:2525", "default", probe.Target{Host: "mx1.example.net", Port: 2525}},
		{"[2001:db8::25]:25", "default", probe.Target{Host: "2001:db8::25", Port: 25}},
		{"192.0.2.25", "submission", probe.Target{Host: "192.0.2.25"}},
	}
	if len(jobs) != len(want) {
		t.Fatalf("%d jobs, want %d", len(jobs), len(want))
	}
	for i, w := range want {
		j := jobs[i]
		if j.Name != w.name || j.Target != w.target || j.Target.Name() != w.name || cfg.Targets[i].Name() != w.name ||
			j.Module != w.module || j.Key != store.Key(w.name, w.module) {
			t.Errorf("jobs[%d] = name %q, target %+v (named %q), module %q, config name %q; want %q, %+v, %q",
				i, j.Name, j.Target, j.Target.Name(), j.Module, cfg.Targets[i].Name(), w.name, w.target, w.module)
		}
		if target, err := probe.ParseTarget(w.name); err != nil || (target.Host != "" && target != w.target) {
			t.Errorf("ParseTarget(%q) = %+v, %v; want %+v: /probe would not find the configured target", w.name, target, err, w.target)
		}
	}
}
