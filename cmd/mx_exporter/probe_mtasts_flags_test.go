package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/kingpin/v2"

	"github.com/mx-exporter/mx_exporter/collector/probe/mtasts"
	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestProbeCommandMTASTSFlag: --mta-sts overrides the module's mta_sts,
// only when given, and reaches the probe settings; mta_sts_refresh comes
// from the module as it is (the probe command fetches the policy at every
// run, so it has no flag). Nothing is probed: prepare asks no server.
func TestProbeCommandMTASTSFlag(t *testing.T) {
	dir := t.TempDir()
	lab := filepath.Join(dir, "lab.yml")
	if err := os.WriteFile(lab, []byte("modules:\n  default:\n    mta_sts: report\n    mta_sts_refresh: 10m\n  quiet:\n    mta_sts: off\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	resolver := "--resolver=" + testenv.ResolverAddr
	tests := []struct {
		name    string
		args    []string
		mode    mtasts.Mode
		refresh time.Duration
	}{
		{"built-in default", nil, mtasts.ModeEnforce, time.Hour},
		{"flag report", []string{"--mta-sts=report"}, mtasts.ModeReport, time.Hour},
		{"flag off", []string{"--mta-sts=off"}, mtasts.ModeOff, time.Hour},
		{"flag enforce", []string{"--mta-sts", "enforce"}, mtasts.ModeEnforce, time.Hour},
		{"config", []string{"--config.file=" + lab}, mtasts.ModeReport, 10 * time.Minute},
		{"other module of the config", []string{"--config.file=" + lab, "--module=quiet"}, mtasts.ModeOff, time.Hour},
		{"flag over config", []string{"--config.file=" + lab, "--mta-sts=enforce"}, mtasts.ModeEnforce, 10 * time.Minute},
		{"flag over other module", []string{"--config.file=" + lab, "--module=quiet", "--mta-sts=report"}, mtasts.ModeReport, time.Hour},
		// Other flags leave it alone.
		{"dane flag", []string{"--config.file=" + lab, "--dane=off"}, mtasts.ModeReport, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app := kingpin.New("mx_exporter", "")
			c := addProbeCommand(app)
			args := append(append([]string{"probe", resolver}, tt.args...), "enforce.sts.test")
			if _, err := app.Parse(args); err != nil {
				t.Fatalf("parse %q: %v", args, err)
			}
			target, s, err := c.prepare()
			if err != nil {
				t.Fatalf("prepare %q: %v", args, err)
			}
			if target.Domain != "enforce.sts.test" {
				t.Fatalf("%q: target %+v, want the domain enforce.sts.test", tt.args, target)
			}
			if s.MTASTS != tt.mode || s.MTASTSRefresh != tt.refresh {
				t.Fatalf("%q: MTASTS %q, refresh %v; want %q, %v", tt.args, s.MTASTS, s.MTASTSRefresh, tt.mode, tt.refresh)
			}
		})
	}
}

// TestProbeCommandMTASTSUsage: a bad --mta-sts is a usage error before
// anything is asked, and --help documents the flag and its values.
func TestProbeCommandMTASTSUsage(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.yml")
	if err := os.WriteFile(bad, []byte("modules:\n  default:\n    mta_sts_refresh: 30s\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown value", []string{"probe", "--mta-sts=strict", "enforce.sts.test"}, "must be one of enforce,report,off, got 'strict'"},
		{"empty value", []string{"probe", "--mta-sts=", "enforce.sts.test"}, "must be one of enforce,report,off, got ''"},
		{"refresh out of bounds in config", []string{"probe", "--config.file=" + bad, "enforce.sts.test"},
			bad + ":3: modules.default.mta_sts_refresh: must be between 1m and 24h, got 30s"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(context.Background(), tt.args, &stdout, &stderr)
			if code != exitUsage {
				t.Fatalf("exit status %d, want %d (usage)\nstderr: %s", code, exitUsage, stderr.String())
			}
			if !strings.Contains(stderr.String(), tt.want) {
				t.Fatalf("stderr lacks %q:\n%s", tt.want, stderr.String())
			}
		})
	}

	var stdout, stderr bytes.Buffer
	if code := run(context.Background(), []string{"probe", "--help"}, &stdout, &stderr); code != exitOK {
		t.Fatalf("probe --help: exit status %d\nstderr: %s", code, stderr.String())
	}
	help := strings.Join(strings.Fields(stdout.String()), " ")
	for _, want := range []string{"--mta-sts=enforce", "enforce (", "report (reported, never a failure)", "off (no _mta-sts or _smtp._tls lookup", "host targets have no policy"} {
		if !strings.Contains(help, want) {
			t.Errorf("probe --help lacks %q:\n%s", want, stdout.String())
		}
	}
}
