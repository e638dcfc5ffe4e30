package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestMakeBuildStampsVersion: `make build` gives a binary whose --version
// names the VERSION file's version and the checkout's git revision.
func TestMakeBuildStampsVersion(t *testing.T) {
	makeBin := testenv.RequireTool(t, "apt-get install make", "make")
	git := testenv.RequireTool(t, "apt-get install git", "git")
	want, err := os.ReadFile(testenv.RepoFile("VERSION"))
	if err != nil {
		t.Fatal(err)
	}
	rev, err := exec.Command(git, "-C", testenv.RepoFile(), "rev-parse", "HEAD").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	bin, err := filepath.Abs(filepath.Join(t.TempDir(), "mx_exporter"))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := testenv.Run(t, testenv.RepoFile(), makeBin, "build", "BINARY="+bin); err != nil {
		t.Fatalf("make build: %v\n%s", err, out)
	}
	out, err := exec.Command(bin, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("--version: %v\n%s", err, out)
	}
	for _, w := range []string{"version " + string(bytes.TrimSpace(want)), "revision: " + string(bytes.TrimSpace(rev))} {
		if !strings.Contains(string(out), w) {
			t.Errorf("--version lacks %q:\n%s", w, out)
		}
	}
}

// TestPlainBuildHasAVersion: without -ldflags the version is never empty.
func TestPlainBuildHasAVersion(t *testing.T) {
	var stdout, stderr bytes.Buffer
	if code := run(t.Context(), []string{"--version"}, &stdout, &stderr); code != 0 {
		t.Fatalf("--version: exit %d: %s", code, stderr.String())
	}
	if out := stdout.String(); strings.Contains(out, "version  (") || !strings.HasPrefix(out, "mx_exporter, version ") {
		t.Fatalf("--version of a test build: %q, want a non-empty version", out)
	}
}
