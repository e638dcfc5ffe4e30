package testenv

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// repoRoot is the folder of go.mod, found upward from the test's working
// directory (its package folder), so that a test in any package names
// repository files the same way.
var repoRoot = sync.OnceValues(func() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", os.ErrNotExist
		}
		dir = parent
	}
})

// RepoFile is the path of a file of the repository, parts relative to its
// root; RepoFile() is the root itself.
func RepoFile(parts ...string) string {
	root, err := repoRoot()
	if err != nil {
		panic("testenv: no go.mod above the working directory: " + err.Error())
	}
	return filepath.Join(append([]string{root}, parts...)...)
}

// ReadRepoFile reads a file of the repository or fails the test.
func ReadRepoFile(t testing.TB, parts ...string) []byte {
	t.Helper()
	data, err := os.ReadFile(RepoFile(parts...))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// Run runs a command in dir, bounded in time, and returns its combined
// output.
func Run(t testing.TB, dir, name string, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}
