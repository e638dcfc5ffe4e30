package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// chromiumPath finds Debian's chromium. Without it the browser test fails
// in CI (CI=true), where .ci/run installs it, and is skipped elsewhere.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed: the status page must be tested in a real browser (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser test")
	return ""
}

// artifactDir is where the test leaves its screenshots: $MX_TEST_ARTIFACTS
// when set (CI keeps it), else a temporary directory.
func artifactDir(t *testing.T) string {
	t.Helper()
	dir := os.Getenv("MX_TEST_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// newBrowser starts a headless Chromium that can reach nothing but this
// machine's loopback: no Google services, no DNS (every name fails to
// resolve), and every non-loopback URL goes to a proxy that is not there.
func newBrowser(t *testing.T, execPath string) (context.Context, *testenv.LockedBuffer) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(execPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-domain-reliability", true),
		chromedp.Flag("no-pings", true),
		chromedp.Flag("dns-prefetch-disable", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"),
		chromedp.Flag("proxy-server", "http://127.0.0.1:9"), // loopback bypasses any proxy
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1366, 900),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	browserLog := &testenv.LockedBuffer{}
	ctx, cancelCtx := chromedp.NewContext(allocCtx, chromedp.WithErrorf(func(format string, args ...any) {
		fmt.Fprintf(browserLog, format+"\n", args...)
	}))
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() {
		cancelTimeout()
		cancelCtx()
		cancelAlloc() // waits for the browser to exit
	})
	return ctx, browserLog
}

// statusRow is one address row of the status page, as the browser shows it.
type statusRow struct {
	Target string `json:"target"`
	MX     string `json:"mx"`
	IP     string `json:"ip"`
	Status string `json:"status"`
	Text   string `json:"text"`
}

// statusTarget is one target's section.
type statusTarget struct {
	Target string `json:"target"`
	Status string `json:"status"`
	Text   string `json:"text"`
}

func TestStatusPageInABrowser(t *testing.T) {
	execPath := chromiumPath(t)
	env := testenv.Require(t)
	d := startDaemon(t, testConfig(env, testTargets))
	base := "http://" + d.addr

	targets := []string{"good.test", "relay.test", "reject.test", "partial.test", "nullmx.test", "missing.test"}
	waitFor(t, 20*time.Second, "/status to show a probe of every target", func() bool {
		_, body := d.get(t, "/status")
		for _, name := range targets {
			if !strings.Contains(body, `data-target="`+name+`" data-module=`) {
				return false
			}
		}
		return true
	})
	if _, landing := d.get(t, "/"); !strings.Contains(landing, `href="/status"`) {
		t.Errorf("the landing page does not link to /status")
	}

	ctx, browserLog := newBrowser(t, execPath)
	defer func() {
		if t.Failed() {
			t.Logf("browser errors:\n%s", browserLog.String())
		}
	}()
	// Subscribe before the first page loads.
	console := chromedp.Console(ctx)
	requests := chromedp.Events(ctx, network.RequestWillBeSent)
	dir := artifactDir(t)
	t.Logf("screenshots of the status page go to %s", dir)
	shoot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("saved %s", path)
	}

	// The overview.
	if err := chromedp.Do(ctx,
		chromedp.Navigate(base+"/status"),
		chromedp.WaitVisible(chromedp.ID("summary")),
	); err != nil {
		t.Fatalf("opening /status: %v", err)
	}
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]statusRow](`Array.from(document.querySelectorAll("tr[data-ip]"), r => ({
		target: r.dataset.target, mx: r.dataset.mx, ip: r.dataset.ip, status: r.dataset.status, text: r.innerText}))`))
	if err != nil {
		t.Fatalf("reading the rows: %v", err)
	}
	sections, err := chromedp.Run(ctx, chromedp.Evaluate[[]statusTarget](`Array.from(document.querySelectorAll("section[data-target]"), s => ({
		target: s.dataset.target, status: s.dataset.status, text: s.innerText}))`))
	if err != nil {
		t.Fatalf("reading the targets: %v", err)
	}
	summary, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("summary")))
	if err != nil {
		t.Fatal(err)
	}
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil || scripts != 0 {
		t.Errorf("the status page runs %d scripts (err %v), want none", scripts, err)
	}
	shoot("status.png")

	if !strings.Contains(summary, "4 of 6 targets failing") {
		t.Errorf("summary %q, want 4 of 6 targets failing (missing, partial, reject, relay)", summary)
	}
	row := func(target, mx, ip string) statusRow {
		t.Helper()
		for _, r := range rows {
			if r.Target == target && r.MX == mx && r.IP == ip {
				return r
			}
		}
		t.Errorf("no row %s %s %s among %d rows", target, mx, ip, len(rows))
		return statusRow{}
	}
	for _, want := range []struct {
		target, mx, ip, status string
		texts                  []string
	}{
		{"good.test", "mx1.good.test", "127.0.1.1", "ok", []string{"OK", "220 mx1.good.test", "STARTTLS offered", "TLS 1.3", "days left", "verified for mx1.good.test", "refused (554 5.7.1): no open relay", "transcript"}},
		{"good.test", "mx2.good.test", "127.0.1.2", "ok", []string{"OK", "11.8 MiB", "12345678 bytes", "no STARTTLS"}},
		{"relay.test", "mx.relay.test", "127.0.1.3", "fail", []string{"FAIL", "relay_open", "OPEN RELAY: relay-check@outside.test accepted (250 2.1.5)"}},
		{"reject.test", "mx.reject.test", "127.0.1.4", "fail", []string{"FAIL", "banner_rejected", "554"}},
		{"partial.test", "dead.partial.test", "127.0.1.250", "fail", []string{"FAIL", "connect_refused"}},
		{"partial.test", "mx1.good.test", "127.0.1.1", "ok", []string{"OK"}},
	} {
		r := row(want.target, want.mx, want.ip)
		if r.Status != want.status {
			t.Errorf("%s %s %s: status %q, want %q", want.target, want.mx, want.ip, r.Status, want.status)
		}
		for _, text := range want.texts {
			if !strings.Contains(r.Text, text) {
				t.Errorf("%s %s %s: row lacks %q:\n%s", want.target, want.mx, want.ip, text, r.Text)
			}
		}
	}
	// Failing targets come first; each section says what DNS found.
	wantSections := map[string][2]string{
		"missing.test": {"fail", "NXDOMAIN"},
		"partial.test": {"fail", "2 MX host(s)"},
		"reject.test":  {"fail", "1 MX host(s)"},
		"good.test":    {"ok", "2 MX host(s)"},
		"nullmx.test":  {"ok", "null MX"},
		"relay.test":   {"fail", "1 MX host(s)"},
	}
	var order []string
	for _, s := range sections {
		order = append(order, s.Status+" "+s.Target)
		want, ok := wantSections[s.Target]
		if !ok {
			t.Errorf("unexpected target section %q", s.Target)
			continue
		}
		if s.Status != want[0] || !strings.Contains(s.Text, want[1]) {
			t.Errorf("%s: status %q, want %q, with %q in:\n%s", s.Target, s.Status, want[0], want[1], s.Text)
		}
	}
	if got, want := strings.Join(order, ", "), "fail missing.test, fail partial.test, fail reject.test, fail relay.test, ok good.test, ok nullmx.test"; got != want {
		t.Errorf("target order\n got %s\nwant %s", got, want)
	}

	// The transcript of mx1.good.test, reached by its link.
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-target="good.test"][data-mx="mx1.good.test"] a.transcript`)),
		chromedp.WaitVisible(chromedp.ID("transcript"))); err != nil {
		t.Fatalf("following the transcript link of mx1.good.test: %v", err)
	}
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(loc, base+"/status/transcript?") || !strings.Contains(loc, "mx=mx1.good.test") || !strings.Contains(loc, "target=good.test") {
		t.Errorf("the transcript link led to %s", loc)
	}
	transcript, err := chromedp.Run(ctx, chromedp.Text(chromedp.ID("transcript")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"C: EHLO probe.mx-exporter.test", "S: 220 mx1.good.test", "C: STARTTLS", "C: QUIT"} {
		if !strings.Contains(transcript, want) {
			t.Errorf("the transcript lacks %q:\n%s", want, transcript)
		}
	}
	shoot("transcript.png")

	// On a phone: the tables turn into cards and nothing scrolls sideways.
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2), chromedp.EmulateMobile, chromedp.EmulatePortrait),
		chromedp.Navigate(base+"/status"),
		chromedp.WaitVisible(chromedp.ID("summary")),
	); err != nil {
		t.Fatalf("opening /status on a phone: %v", err)
	}
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth - window.innerWidth`))
	if err != nil || overflow > 0 {
		t.Errorf("on a 390 px wide phone the status page is %d px too wide (err %v)", overflow, err)
	}
	shoot("status-phone.png")
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`tr[data-target="reject.test"] a.transcript`)),
		chromedp.WaitVisible(chromedp.ID("transcript"))); err != nil {
		t.Fatalf("following the transcript link of mx.reject.test on a phone: %v", err)
	}
	shoot("transcript-phone.png")

	// Dark mode, on a desktop again.
	if _, err := chromedp.Call(ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
		Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}},
	}); err != nil {
		t.Fatal(err)
	}
	if err := chromedp.Do(ctx,
		chromedp.EmulateViewport(1366, 900),
		chromedp.Navigate(base+"/status"),
		chromedp.WaitVisible(chromedp.ID("summary")),
	); err != nil {
		t.Fatalf("opening /status in dark mode: %v", err)
	}
	shoot("status-dark.png")

	// Every console message of every page so far comes before this one.
	const end = "mx_exporter status test: end"
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`console.info(`+fmt.Sprintf("%q", end)+`)`)); err != nil {
		t.Fatal(err)
	}
	for m, err := range console {
		if err != nil {
			t.Fatalf("reading the console: %v", err)
		}
		if m.Text == end {
			break
		}
		switch m.Type {
		case chromedp.ConsoleError, chromedp.ConsoleException:
			t.Errorf("console %s at %s: %s", m.Type, m.URL, m.Text)
		default:
			t.Logf("console %s at %s: %s", m.Type, m.URL, m.Text)
		}
	}

	// Every request the pages made went to the exporter: no external
	// asset. The last request is a navigation to /-/healthy.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/-/healthy")); err != nil {
		t.Fatal(err)
	}
	for ev, err := range requests {
		if err != nil {
			t.Fatalf("reading the requests: %v", err)
		}
		u := ev.Request.URL
		if !strings.HasPrefix(u, base+"/") && !strings.HasPrefix(u, "data:") {
			t.Errorf("the page asked for %s, which is not the exporter", u)
		}
		if u == base+"/-/healthy" {
			break
		}
	}
}
