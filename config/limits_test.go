package config

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// wrongTypedTargets is a config whose targets list has n items of the
// wrong type (scalars where mappings belong): n decode errors, and n
// targets left at their defaults for the validator.
func wrongTypedTargets(n int) []byte {
	var b strings.Builder
	b.WriteString("targets:\n")
	for range n {
		b.WriteString("  - 5\n")
	}
	return []byte(b.String())
}

// BenchmarkLoadErrors parses a flood of wrong-typed list items (600 kB).
// Before the failed-path index each validator check scanned every decode
// error: the cost grew with the square of the items.
func BenchmarkLoadErrors(b *testing.B) {
	data := wrongTypedTargets(100_000)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(data, "flood.yml"); err == nil {
			b.Fatal("no error")
		}
	}
}

// TestParseErrorFloodIsLinear bounds the time of the benchmark's flood. The
// bound is far above what it takes (see README) and far below the minutes
// the quadratic validation took, so that a shared, slow machine under the
// race detector passes and a return of n² does not.
func TestParseErrorFloodIsLinear(t *testing.T) {
	data := wrongTypedTargets(100_000)
	start := time.Now()
	_, err := Parse(data, "flood.yml")
	elapsed := time.Since(start)
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse: %v, want Errors", err)
	}
	if elapsed > 20*time.Second {
		t.Errorf("Parse of 100,000 wrong items took %v, want well under 20s", elapsed)
	}
	// Each item is one error: "must be a mapping"; the default it leaves
	// is not reported a second time ("needs a domain").
	if want := fmt.Sprintf("and %d more errors", 100_000-MaxErrors); es[len(es)-1].Msg != want {
		t.Errorf("last error %q, want %q", es[len(es)-1].Msg, want)
	}
}

func TestParseReportsFirstErrorsAndCount(t *testing.T) {
	// Validation errors (empty targets, lines 2-31) are found after the
	// decode errors (wrong ports, lines 33-62) but come first by line:
	// the first MaxErrors by line are reported, not the first found.
	var b strings.Builder
	b.WriteString("targets:\n")
	for range 30 {
		b.WriteString("  - {}\n")
	}
	b.WriteString("modules:\n")
	for i := range 30 {
		fmt.Fprintf(&b, "  m%d: {port: x}\n", i)
	}
	_, err := Parse([]byte(b.String()), "many.yml")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse: %v, want Errors", err)
	}
	if len(es) != MaxErrors+1 {
		t.Fatalf("got %d errors, want %d and a count:\n%v", len(es), MaxErrors, err)
	}
	for i, e := range es[:MaxErrors] {
		if e.Line != i+2 || !strings.Contains(e.Msg, "needs a domain") {
			t.Errorf("error %d: %v, want line %d: needs a domain", i, e, i+2)
		}
	}
	if got, want := es[MaxErrors].Error(), "many.yml: and 40 more errors"; got != want {
		t.Errorf("last error %q, want %q", got, want)
	}
	if lines := strings.Count(err.Error(), "\n") + 1; lines != MaxErrors+1 {
		t.Errorf("error text has %d lines, want %d", lines, MaxErrors+1)
	}
}

func TestErrorTextIsCapped(t *testing.T) {
	// An unknown key of a quarter megabyte: its path is in the error. Twenty of
	// them would be a 5 MB log line. ("? key" is YAML's explicit key:
	// an implicit one is at most 1024 characters.)
	var b strings.Builder
	for i := range 25 {
		fmt.Fprintf(&b, "? k%d%s\n: 1\n", i, strings.Repeat("é", 1<<17))
	}
	_, err := Parse([]byte(b.String()), "keys.yml")
	var es Errors
	if !errors.As(err, &es) {
		t.Fatalf("Parse: %v, want Errors", err)
	}
	for _, e := range es {
		if s := e.Error(); len(s) > MaxErrorText || !strings.HasSuffix(s, "…") && e.Line > 0 {
			t.Errorf("error text of %d bytes ending %q, want at most %d ending in …", len(s), s[max(0, len(s)-10):], MaxErrorText)
		}
	}
	if n := len(err.Error()); n > (MaxErrors+1)*(MaxErrorText+1) {
		t.Errorf("whole error text is %d bytes", n)
	}
	if !strings.HasPrefix(es[0].Error(), "keys.yml:1: \"k0éé") {
		t.Errorf("first error %.40q, want it to start with file, line and key", es[0].Error())
	}
}

func TestLoadRefusesLargeFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "large.yml")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	// Sparse: the size is what Load checks first.
	if err := f.Truncate(MaxFileSize + 1); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = Load(path)
	want := fmt.Sprintf("%s: the file is %d bytes, more than the limit of %d (4 MiB)", path, MaxFileSize+1, MaxFileSize)
	if err == nil || err.Error() != want {
		t.Fatalf("Load: %v, want %s", err, want)
	}

	// At the cap exactly it is read (and is YAML: a comment).
	data := append([]byte("#"), make([]byte, MaxFileSize-2)...)
	for i := 1; i < len(data); i++ {
		data[i] = ' '
	}
	data = append(data, '\n')
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Load(path); err != nil {
		t.Fatalf("Load of a file of %d bytes: %v", len(data), err)
	}
}

// loadWithin runs LoadContext and fails the test, instead of hanging, when
// it does not return within d.
func loadWithin(ctx context.Context, t *testing.T, path string, d time.Duration) error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		_, err := LoadContext(ctx, path)
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-time.After(d):
		t.Fatalf("Load(%s) did not return within %v", path, d)
		return nil
	}
}

func TestLoadRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "fifo.yml")
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("mkfifo: %v", err)
	}
	// Nobody writes the pipe: opening it for reading used to block.
	err := loadWithin(context.Background(), t, path, 5*time.Second)
	want := path + ": not a regular file (a named pipe); the config must be a plain file"
	if err == nil || err.Error() != want {
		t.Fatalf("Load: %v, want %s", err, want)
	}
}

func TestLoadRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	_, err := Load(dir)
	want := dir + ": not a regular file (a directory); the config must be a plain file"
	if err == nil || err.Error() != want {
		t.Fatalf("Load: %v, want %s", err, want)
	}
}

func TestLoadContextStopsDecoding(t *testing.T) {
	path := filepath.Join(t.TempDir(), "flood.yml")
	if err := os.WriteFile(path, wrongTypedTargets(100_000), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := loadWithin(ctx, t, path, 20*time.Second); !errors.Is(err, context.Canceled) {
		t.Fatalf("LoadContext with an ended context: %v, want %v", err, context.Canceled)
	}
}

func TestTargetsListed(t *testing.T) {
	for _, tt := range []struct {
		text   string
		listed bool
	}{
		{"", false},
		{"# truncated mid-save\n", false},
		{"modules: {}\n", false},
		{"targets:\n", false},
		{"targets: []\n", true},
		{"targets:\n  - domain: example.com\n", true},
	} {
		c, err := Parse([]byte(tt.text), "t.yml")
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.text, err)
		}
		if c.TargetsListed != tt.listed {
			t.Errorf("Parse(%q).TargetsListed = %v, want %v", tt.text, c.TargetsListed, tt.listed)
		}
	}
}

func TestBadMergeReportedOnce(t *testing.T) {
	// The module is decoded twice (its own key and the alias); the merge
	// error of the one mapping is reported once.
	_, err := Parse([]byte("modules:\n  a: &m {<<: 5, port: 25}\n  b: *m\n"), "m.yml")
	var es Errors
	if !errors.As(err, &es) || len(es) != 1 {
		t.Fatalf("Parse: %v, want one error", err)
	}
}
