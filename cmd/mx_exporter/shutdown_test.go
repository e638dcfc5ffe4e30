package main

import (
	"bytes"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
	"github.com/mx-exporter/mx_exporter/config"
)

// promptExit is how soon after SIGTERM a daemon must be gone while a
// config is loading. Loading the slow file takes seconds (see README); the
// exit itself takes milliseconds.
const promptExit = 2 * time.Second

// writeSlowConfig writes a config that takes seconds to load without being
// large: just under config.MaxFileSize, a million list items of the wrong
// type, each decoded, checked and counted. A FIFO that nobody writes, the
// obvious slow file, is refused at once since Load checks for a regular
// file. The load fails, so a daemon that got to the end of it would exit
// or keep its running config, never probe these.
func writeSlowConfig(t *testing.T, path string) {
	t.Helper()
	const item = "  - 5\n"
	var b bytes.Buffer
	b.WriteString("targets:\n")
	for b.Len()+len(item) <= config.MaxFileSize {
		b.WriteString(item)
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// exporterProcess is the built binary, started on configFile.
type exporterProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *testenv.LockedBuffer
	done chan error
}

func startExporterProcess(t *testing.T, bin, configFile string) *exporterProcess {
	t.Helper()
	p := &exporterProcess{addr: freeAddr(t), logs: &testenv.LockedBuffer{}, done: make(chan error, 1)}
	p.cmd = exec.Command(bin, "--config.file="+configFile, "--web.listen-address="+p.addr)
	p.cmd.Stdout, p.cmd.Stderr = p.logs, p.logs
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.done <- p.cmd.Wait() }()
	t.Cleanup(func() {
		if p.cmd.ProcessState == nil {
			_ = p.cmd.Process.Kill()
			<-p.done
		}
		if t.Failed() {
			t.Logf("daemon log:\n%s", p.logs.String())
		}
	})
	return p
}

// terminate sends SIGTERM and returns how long the process took to exit,
// and its error; it fails the test if the process is not gone in 30 s.
func (p *exporterProcess) terminate(t *testing.T) (time.Duration, error) {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		return time.Since(sent), err
	case <-time.After(30 * time.Second):
		t.Fatalf("the daemon did not exit within 30 s of SIGTERM")
		return 0, nil
	}
}

func TestSIGTERMDuringStartupLoad(t *testing.T) {
	bin := buildExporter(t)
	cfg := filepath.Join(t.TempDir(), "slow.yml")
	writeSlowConfig(t, cfg)
	p := startExporterProcess(t, bin, cfg)
	waitFor(t, 10*time.Second, "the daemon to start", func() bool {
		return strings.Contains(p.logs.String(), "starting mx_exporter")
	})
	time.Sleep(200 * time.Millisecond) // into the load, which takes seconds
	elapsed, err := p.terminate(t)
	logs := p.logs.String()
	if strings.Contains(logs, "cannot load config") {
		t.Skipf("the slow config loaded within 200 ms on this machine: nothing to interrupt")
	}
	if err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	if elapsed > promptExit {
		t.Errorf("the daemon took %v to exit after SIGTERM during the config load, want under %v", elapsed, promptExit)
	}
	if !strings.Contains(logs, "shutting down before the config was loaded") {
		t.Errorf("the log does not say the load was abandoned")
	}
	t.Logf("exit %v after SIGTERM", elapsed)
}

func TestSIGTERMDuringReload(t *testing.T) {
	env := testenv.Require(t)
	bin := buildExporter(t)
	for _, trigger := range []string{"SIGHUP", "POST /-/reload"} {
		t.Run(trigger, func(t *testing.T) {
			cfg := filepath.Join(t.TempDir(), "mx_exporter.yml")
			if err := os.WriteFile(cfg, []byte(testConfig(env, "  - domain: good.test\n")), 0o644); err != nil {
				t.Fatal(err)
			}
			p := startExporterProcess(t, bin, cfg)
			waitHealthy(t, p.addr)
			writeSlowConfig(t, cfg)
			if trigger == "SIGHUP" {
				if err := p.cmd.Process.Signal(syscall.SIGHUP); err != nil {
					t.Fatal(err)
				}
			} else {
				go func() {
					client := &http.Client{Timeout: 30 * time.Second}
					if resp, err := client.Post("http://"+p.addr+"/-/reload", "", nil); err == nil {
						resp.Body.Close()
					}
				}()
			}
			time.Sleep(300 * time.Millisecond) // into the reload, which takes seconds
			elapsed, err := p.terminate(t)
			if strings.Contains(p.logs.String(), "config reload failed") {
				t.Skipf("the slow config loaded within 300 ms on this machine: nothing to interrupt")
			}
			if err != nil {
				t.Errorf("exit: %v, want status 0", err)
			}
			if elapsed > promptExit {
				t.Errorf("the daemon took %v to exit after SIGTERM during a reload, want under %v", elapsed, promptExit)
			}
			t.Logf("exit %v after SIGTERM", elapsed)
		})
	}
}
