package deploy

// The example configurations. deploy/examples/testenv.yml, which `make
// run` uses, is tested in cmd/mx_exporter: it runs the daemon with it.

import (
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/testenv"

	"github.com/mx-exporter/mx_exporter/config"
)

func TestExampleConfigs(t *testing.T) {
	t.Run("mx_exporter.yml", func(t *testing.T) {
		cfg, err := config.Load(testenv.RepoFile("deploy", "examples", "mx_exporter.yml"))
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range []string{"default", "strict_tls"} {
			if cfg.Modules[m] == nil {
				t.Errorf("no module %s", m)
			}
		}
		if s := cfg.Modules["strict_tls"]; s != nil && (s.StartTLS != config.StartTLSRequired || !s.TLS.RequireVerified) {
			t.Errorf("strict_tls: starttls %s, require_verified %v", s.StartTLS, s.TLS.RequireVerified)
		}
		if len(cfg.Targets) == 0 {
			t.Errorf("no targets")
		}
		checkPlaceholderConfig(t, "deploy/examples/mx_exporter.yml", cfg)
	})
	t.Run("docker default", func(t *testing.T) {
		cfg, err := config.Load(testenv.RepoFile("deploy", "docker", "mx_exporter.yml"))
		if err != nil {
			t.Fatal(err)
		}
		if len(cfg.Targets) != 0 {
			t.Errorf("the image's default config probes %d targets, want none", len(cfg.Targets))
		}
	})
}
