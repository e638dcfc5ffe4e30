package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// BenchmarkVersusBlackbox compares the CPU one /probe costs mx_exporter
// with what it costs blackbox_exporter v0.27.0 on the same SMTP dialogue
// with the same test Postfix listener (mx1.good.test, 127.0.1.1:25):
// banner, EHLO, [STARTTLS, handshake verified against the test CA, EHLO],
// MAIL FROM:<>, RCPT of a real mailbox, the relay RCPT (a 5xx expected),
// RSET, QUIT. Both exporters run as processes of their own and are asked
// over one keep-alive HTTP connection each, in alternating batches, so
// that both see the same machine load; the CPU of a batch is the
// utime+stime (/proc/PID/stat) its exporter spent during it. Run it alone:
//
//	go test -run '^$' -bench VersusBlackbox -benchtime 1x -timeout 20m ./cmd/mx_exporter/
//
// It prints, per dialogue, both exporters' CPU per probe and their ratio
// (mx_exporter / blackbox_exporter): plain and STARTTLS as both send them,
// one command at a time, then the same two with mx_exporter's module
// option pipelining (RFC 2920: MAIL to QUIT in one write) against the same
// lock-step blackbox dialogue. blackbox_exporter is built from the
// Go module proxy in a temporary directory (a plain `go install …@v0.27.0`
// fails: the proxy refuses its version list); MX_BLACKBOX_BIN names a
// binary built before, to skip that. MX_VS_BLACKBOX_PROBES sets the probes
// per exporter and dialogue (default 1000). MX_VS_BLACKBOX_CPUPROFILE=FILE
// runs mx_exporter inside the benchmark and writes CPU profiles of its
// batches, FILE.plain.1 … and FILE.starttls.1 … (go tool pprof -top
// FILE.plain.*, which merges them); its CPU figure then includes this
// benchmark's HTTP client, and the batches run under the profiler.
//
// What is made equal: both probe the address itself (a host target, so
// mx_exporter looks up no MX and no A record, and DANE, whose TLSA records
// hang off a name, does not apply; blackbox resolves nothing either).
// mx_exporter's reverse DNS is turned off and MTA-STS is off (host targets
// have no policy anyway), as blackbox does neither; no blocklist zones are
// configured. ignore_special_addresses is on, the setting for test
// listeners on loopback. Both verify the certificate after STARTTLS
// against the test CA as mx1.good.test. What remains is mx_exporter's own
// work beyond the dialogue: its transcript, its verdicts, and its larger
// answer.
func BenchmarkVersusBlackbox(b *testing.B) {
	env := testenv.Require(b)
	l := env.Listener("mx1.good.test")
	probes := 1000
	if v := os.Getenv("MX_VS_BLACKBOX_PROBES"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			b.Fatalf("MX_VS_BLACKBOX_PROBES=%q: want a positive number", v)
		}
		probes = n
	}
	profile := os.Getenv("MX_VS_BLACKBOX_CPUPROFILE")

	bbeBinary := os.Getenv("MX_BLACKBOX_BIN")
	if bbeBinary == "" {
		bbeBinary = buildBlackbox(b)
	}
	var mxBinary string
	if profile == "" {
		mxBinary = buildExporter(b)
	}

	mxConfig := fmt.Sprintf(`modules:
  plain: &plain
    ehlo: %[1]s
    timeout: 10s
    recipients: [%[2]s]
    relay_check: %[3]s
    starttls: "off"
    reverse_dns: false
    mta_sts: "off"
    dane: "off"
    ignore_special_addresses: true
  starttls: &starttls
    <<: *plain
    starttls: opportunistic
    tls:
      ca_file: %[4]s
      server_name: %[5]s
  plain_pipelined:
    <<: *plain
    pipelining: true
  starttls_pipelined:
    <<: *starttls
    pipelining: true
probe_endpoint:
  allow:
    networks: [%[6]s/32]
`, benchEHLO, env.MailboxOK, env.RelayAddress, env.CAFile, l.Host, l.IP)

	for b.Loop() {
		var mx cpuMeter
		if profile == "" {
			p := startDaemonProcess(b, mxBinary, mxConfig, "--log.level=warn")
			mx = cpuMeter{addr: p.addr, statFile: fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid)}
		} else {
			d := startDaemon(b, mxConfig, "--log.level=warn")
			mx = cpuMeter{addr: d.addr, statFile: "/proc/self/stat"}
		}
		bbe := startBlackbox(b, bbeBinary, blackboxConfig(env.CAFile, l.Host, env.MailboxOK, env.RelayAddress))

		for _, dialogue := range []string{"plain", "starttls", "plain_pipelined", "starttls_pipelined"} {
			// blackbox cannot pipeline: it sends the same commands lock-step.
			bbeModule := "smtp_" + strings.TrimSuffix(dialogue, "_pipelined")
			mxProbe := "http://" + mx.addr + "/probe?" + url.Values{"target": {l.Addr}, "module": {dialogue}}.Encode()
			bbeProbe := "http://" + bbe.addr + "/probe?" + url.Values{"target": {l.Addr}, "module": {bbeModule}}.Encode()
			mxSeries, mxBytes := checkProbe(b, mx.client(), mxProbe, "mx_probe_success")
			bbeSeries, bbeBytes := checkProbe(b, bbe.client(), bbeProbe, "probe_success")

			// Alternating batches: neither exporter gets a quieter machine.
			const batches = 10
			var mxCPU, bbeCPU time.Duration
			for i := range batches {
				n := probes/batches + btoi(i < probes%batches)
				if profile != "" {
					startProfile(b, profile+"."+dialogue, i == 0)
				}
				mxCPU += mx.measure(b, mxProbe, n)
				if profile != "" {
					pprof.StopCPUProfile()
				}
				bbeCPU += bbe.measure(b, bbeProbe, n)
			}
			mxPer := mxCPU.Seconds() * 1000 / float64(probes)
			bbePer := bbeCPU.Seconds() * 1000 / float64(probes)
			b.ReportMetric(mxPer, "mx-"+dialogue+"-cpu-ms/probe")
			b.ReportMetric(bbePer, "bbe-"+dialogue+"-cpu-ms/probe")
			b.ReportMetric(mxPer/bbePer, dialogue+"-ratio")
			b.Logf("%-8s mx_exporter %.3f ms CPU/probe (%d series, %d B), blackbox_exporter %.3f ms CPU/probe (%d series, %d B), ratio %.2f, %d probes each",
				dialogue, mxPer, mxSeries, mxBytes, bbePer, bbeSeries, bbeBytes, mxPer/bbePer, probes)
		}
		if profile != "" {
			b.Logf("CPU profiles of mx_exporter's batches: go tool pprof -top %[1]s.plain*; go tool pprof -top %[1]s.starttls*", profile)
		}
	}
}

const benchEHLO = "probe.mx-exporter.test"

// startProfile starts a CPU profile into a file of its own for each batch
// (pprof writes one profile per Start): base.1, base.2, … (first resets the
// count). go tool pprof merges the files it is given.
func startProfile(t testing.TB, base string, first bool) {
	t.Helper()
	if first {
		profileBatch = 0
	}
	profileBatch++
	f, err := os.Create(fmt.Sprintf("%s.%d", base, profileBatch))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if err := pprof.StartCPUProfile(f); err != nil {
		t.Fatal(err)
	}
}

var profileBatch int

// blackboxConfig is blackbox_exporter's module config for the dialogue: a
// tcp prober with query_response. blackbox appends "\n" to what it sends,
// hence the "\r"; an expect reads lines until one matches, so "^250 " skips
// an EHLO reply's "250-" lines.
func blackboxConfig(caFile, serverName, mailbox, relay string) string {
	steps := func(starttls bool) string {
		var s strings.Builder
		send := func(line string) { fmt.Fprintf(&s, "        - send: %q\n", line+"\r") }
		expect := func(re string) { fmt.Fprintf(&s, "        - expect: %q\n", re) }
		expect("^220 ")
		send("EHLO " + benchEHLO)
		expect("^250 ")
		if starttls {
			send("STARTTLS")
			expect("^220 ")
			s.WriteString("        - starttls: true\n")
			send("EHLO " + benchEHLO)
			expect("^250 ")
		}
		send("MAIL FROM:<>")
		expect("^250 ")
		send("RCPT TO:<" + mailbox + ">")
		expect("^250 ")
		send("RCPT TO:<" + relay + ">")
		expect("^5[0-9][0-9] ")
		send("RSET")
		expect("^250 ")
		send("QUIT")
		expect("^221 ")
		return s.String()
	}
	return fmt.Sprintf(`modules:
  smtp_plain:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
      query_response:
%s  smtp_starttls:
    prober: tcp
    timeout: 10s
    tcp:
      preferred_ip_protocol: ip4
      tls_config:
        ca_file: %s
        server_name: %s
      query_response:
%s`, steps(false), caFile, serverName, steps(true))
}

// buildBlackbox builds blackbox_exporter v0.27.0 from the module proxy in
// a temporary module of its own, as the issue says it builds.
func buildBlackbox(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	for _, args := range [][]string{
		{"mod", "init", "bbetool"},
		{"get", "github.com/prometheus/blackbox_exporter@v0.27.0"},
		{"build", "-o", "blackbox_exporter", "github.com/prometheus/blackbox_exporter"},
	} {
		cmd := exec.Command("go", args...)
		cmd.Dir = dir
		// The temporary module, not this repository's: no workspace, no
		// -mod flags meant for this module.
		cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("building blackbox_exporter v0.27.0 from the module proxy failed at `go %s` (is GOPROXY %q reachable, and does it serve github.com/prometheus/blackbox_exporter@v0.27.0? MX_BLACKBOX_BIN can name a binary built elsewhere): %v\n%s",
				strings.Join(args, " "), goEnv("GOPROXY"), err, out)
		}
	}
	return filepath.Join(dir, "blackbox_exporter")
}

func goEnv(key string) string {
	out, err := exec.Command("go", "env", key).Output()
	if err != nil {
		return "?"
	}
	return strings.TrimSpace(string(out))
}

// startBlackbox runs blackbox_exporter on config and waits until it answers.
func startBlackbox(t testing.TB, binary, config string) cpuMeter {
	t.Helper()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "blackbox.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o644); err != nil {
		t.Fatal(err)
	}
	addr := freeAddr(t)
	logs := &testenv.LockedBuffer{}
	cmd := exec.Command(binary, "--config.file="+cfgFile, "--web.listen-address="+addr, "--log.level=warn")
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("blackbox_exporter log:\n%s", logs.String())
		}
	})
	waitFor(t, 10*time.Second, "blackbox_exporter to answer /-/healthy", func() bool {
		resp, err := http.Get("http://" + addr + "/-/healthy")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return cpuMeter{addr: addr, statFile: fmt.Sprintf("/proc/%d/stat", cmd.Process.Pid)}
}

// cpuMeter asks one exporter for probes over a keep-alive connection and
// reads the CPU its process spent.
type cpuMeter struct {
	addr     string
	statFile string
	c        *http.Client
}

func (m *cpuMeter) client() *http.Client {
	if m.c == nil {
		// Compressed answers, as Prometheus asks for them, unless
		// MX_VS_BLACKBOX_IDENTITY is set.
		m.c = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: os.Getenv("MX_VS_BLACKBOX_IDENTITY") != ""}}
	}
	return m.c
}

// measure asks n probes one after the other and returns the CPU the
// exporter spent meanwhile.
func (m *cpuMeter) measure(t testing.TB, probeURL string, n int) time.Duration {
	t.Helper()
	before := processCPU(t, m.statFile)
	for range n {
		resp, err := m.client().Get(probeURL)
		if err != nil {
			t.Fatalf("GET %s: %v", probeURL, err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s, %v", probeURL, resp.Status, err)
		}
	}
	return processCPU(t, m.statFile) - before
}

// checkProbe asks one probe and fails unless the answer says success=1;
// it returns the answer's series and bytes.
func checkProbe(t testing.TB, c *http.Client, probeURL, success string) (series, size int) {
	t.Helper()
	resp, err := c.Get(probeURL)
	if err != nil {
		t.Fatalf("GET %s: %v", probeURL, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s, %v\n%s", probeURL, resp.Status, err, body)
	}
	ok := false
	sc := bufio.NewScanner(strings.NewReader(string(body)))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		series++
		if strings.HasPrefix(line, success) && strings.HasSuffix(line, " 1") {
			ok = true
		}
	}
	if !ok {
		t.Fatalf("GET %s: the probe failed, the comparison would be unfair:\n%s\ndebug: %s&debug=true", probeURL, body, probeURL)
	}
	return series, len(body)
}

// processCPU is a process's user plus system CPU time, from fields 14 and
// 15 of /proc/PID/stat, in clock ticks of 1/100 s (USER_HZ, 100 on every
// Linux architecture Go supports).
func processCPU(t testing.TB, statFile string) time.Duration {
	t.Helper()
	data, err := os.ReadFile(statFile)
	if err != nil {
		t.Fatal(err)
	}
	// The command name, field 2, is in parentheses and may hold spaces.
	rest := string(data[strings.LastIndexByte(string(data), ')')+2:])
	fields := strings.Fields(rest) // fields[0] is field 3
	utime, err1 := strconv.ParseInt(fields[11], 10, 64)
	stime, err2 := strconv.ParseInt(fields[12], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("%s: utime %q, stime %q", statFile, fields[11], fields[12])
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}
