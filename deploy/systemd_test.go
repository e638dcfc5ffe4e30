package deploy

// The systemd unit: hardening, the command line, and systemd-analyze's
// verify and security verdicts.

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// parseUnit reads a systemd unit: section -> key -> values in order.
func parseUnit(data []byte) map[string]map[string][]string {
	units := map[string]map[string][]string{}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			section = strings.Trim(line, "[]")
			units[section] = map[string][]string{}
			continue
		}
		k, v, _ := strings.Cut(line, "=")
		units[section][strings.TrimSpace(k)] = append(units[section][strings.TrimSpace(k)], strings.TrimSpace(v))
	}
	return units
}

func TestSystemdUnit(t *testing.T) {
	data := testenv.ReadRepoFile(t, "deploy", "systemd", "mx_exporter.service")
	unit := parseUnit(data)
	svc := unit["Service"]
	for key, want := range map[string]string{
		"DynamicUser":           "yes",
		"ProtectSystem":         "strict",
		"ProtectHome":           "yes",
		"PrivateTmp":            "yes",
		"NoNewPrivileges":       "yes",
		"CapabilityBoundingSet": "",
		"ExecReload":            "/bin/kill -HUP $MAINPID",
	} {
		if got := svc[key]; len(got) != 1 || got[0] != want {
			t.Errorf("[Service] %s=%v, want %q", key, got, want)
		}
	}
	if got := strings.Fields(strings.Join(svc["RestrictAddressFamilies"], " ")); !slices.Equal(got, []string{"AF_INET", "AF_INET6", "AF_UNIX"}) {
		t.Errorf("RestrictAddressFamilies=%v, want AF_INET AF_INET6 AF_UNIX", got)
	}
	if got := svc["SystemCallFilter"]; len(got) == 0 || got[0] != "@system-service" {
		t.Errorf("SystemCallFilter=%v, want @system-service first", got)
	}
	if len(unit["Install"]["WantedBy"]) == 0 {
		t.Errorf("[Install] has no WantedBy")
	}
	execStart := svc["ExecStart"]
	if len(execStart) != 1 {
		t.Fatalf("ExecStart=%v", execStart)
	}
	argv := strings.Fields(execStart[0])
	if !strings.HasSuffix(argv[0], "/mx_exporter") || !slices.Contains(argv, "--config.file=/etc/mx_exporter/mx_exporter.yml") {
		t.Errorf("ExecStart=%s, want .../mx_exporter --config.file=/etc/mx_exporter/mx_exporter.yml", execStart[0])
	}
	checkFlags(t, "ExecStart", argv[1:])

	// systemd's own check, with the binary pointed at one that exists.
	analyze := testenv.RequireTool(t, "Debian's systemd package", "systemd-analyze")
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unitFile := filepath.Join(dir, "mx_exporter.service")
	patched := strings.Replace(string(data), "ExecStart="+argv[0], "ExecStart="+self, 1)
	if err := os.WriteFile(unitFile, []byte(patched), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := testenv.Run(t, dir, analyze, "verify", unitFile)
	if err != nil || strings.TrimSpace(out) != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = testenv.Run(t, dir, analyze, "security", "--offline=true", "--no-pager", unitFile)
	if err != nil && strings.Contains(out, "unrecognized option") {
		t.Logf("systemd-analyze security --offline is not supported here: %s", out)
		return
	}
	m := regexp.MustCompile(`Overall exposure level for \S+: ([0-9.]+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("systemd-analyze security: %v\n%s", err, out)
	}
	if score, _ := strconv.ParseFloat(m[1], 64); score > 2.0 {
		t.Errorf("systemd-analyze security: exposure %s, want at most 2.0\n%s", m[1], out)
	}
}
