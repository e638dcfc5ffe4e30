package main

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"
)

// TestOnDemandLoadLeavesScheduledProbesAlone: many concurrent /probe
// requests for the gateways of a configured target, for a few seconds,
// while the scheduler probes that target against the real test Postfix.
// The configured target's verdict stays success through the load (before,
// its dialogues queued behind every /probe at the address and ended
// "timeout"), and the requests beyond --probe.max-concurrent-ondemand are
// answered 503 at once. 200 clients, as in issue 15: with 64, the old code
// still got its scheduled dialogues through in time. Without the cap the
// address gate still puts the scheduled dialogues first, but the CPU and
// the DNS questions of 200 probes at once can delay a scheduled probe past
// its deadline before it reaches the gate (it then ends not_started): the
// cap is what keeps the verdict.
func TestOnDemandLoadLeavesScheduledProbesAlone(t *testing.T) {
	if testing.Short() {
		t.Skip("seconds of load")
	}
	env := testenv.Require(t)
	const capOnDemand = 4
	d := startDaemon(t, testConfig(env, "  - domain: good.test\n"),
		"--log.level=warn", fmt.Sprintf("--probe.max-concurrent-ondemand=%d", capOnDemand))

	waitFor(t, 15*time.Second, "a first probe of good.test", func() bool {
		_, body := d.get(t, "/metrics")
		return len(scheduledVerdicts(body)) == 2
	})

	const (
		clients = 200
		load    = 5 * time.Second
	)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	var ok, refused, other atomic.Int64
	var otherText atomic.Value
	loadStart := time.Now()
	stop := loadStart.Add(load)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for time.Now().Before(stop) {
				resp, err := client.Get("http://" + d.addr + "/probe?target=good.test")
				if err != nil {
					other.Add(1)
					otherText.Store(err.Error())
					continue
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				switch resp.StatusCode {
				case http.StatusOK:
					ok.Add(1)
				case http.StatusServiceUnavailable:
					// That a refusal does not wait for a slot is
					// TestProbeBeyondTheCapIsRefusedAtOnce's; timing it
					// here, with 200 clients on a loaded CI machine, would
					// only measure the machine.
					refused.Add(1)
					if !strings.Contains(string(body), "too many probes at once") {
						t.Errorf("503 without the reason: %q", body)
					}
					time.Sleep(50 * time.Millisecond) // as a client would back off
				default:
					other.Add(1)
					otherText.Store(fmt.Sprintf("%d %s", resp.StatusCode, body))
				}
			}
		})
	}

	// Every scheduled result taken during the load must be a success.
	fresh := map[string]bool{} // addresses with a result finished after the load began
	for time.Now().Before(stop) {
		_, body := d.get(t, "/metrics")
		for ip, v := range scheduledVerdicts(body) {
			if v.lastRun.Before(loadStart) {
				continue
			}
			fresh[ip] = true
			if !v.success {
				_, rep := d.get(t, "/status/report?target=good.test")
				t.Errorf("the configured target's dialogue with %s failed under /probe load: %s\n%s", ip, v.failure, rep)
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	wg.Wait()

	t.Logf("/probe under load: %d answered, %d refused with 503, %d other", ok.Load(), refused.Load(), other.Load())
	if len(fresh) != 2 {
		t.Errorf("scheduled results taken during the load: %v, want both addresses of good.test", fresh)
	}
	if refused.Load() == 0 {
		t.Errorf("no /probe request was refused with %d clients and a cap of %d", clients, capOnDemand)
	}
	if ok.Load() == 0 {
		t.Error("no /probe request was answered")
	}
	if other.Load() != 0 {
		t.Errorf("%d /probe answers neither 200 nor 503, the last: %v", other.Load(), otherText.Load())
	}
}

type scheduledVerdict struct {
	success bool
	lastRun time.Time
	failure string
}

// scheduledVerdicts reads the verdict of each address of good.test from a
// /metrics answer.
func scheduledVerdicts(body string) map[string]scheduledVerdict {
	out := map[string]scheduledVerdict{}
	sc := bufio.NewScanner(strings.NewReader(body))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if !strings.Contains(line, `domain="good.test"`) {
			continue
		}
		name, _, _ := strings.Cut(line, "{")
		ip := labelValue(line, "ip")
		if ip == "" {
			continue
		}
		value, err := strconv.ParseFloat(line[strings.LastIndexByte(line, ' ')+1:], 64)
		if err != nil {
			continue
		}
		v := out[ip]
		switch name {
		case "mx_probe_success":
			v.success = value == 1
		case "mx_probe_last_run_timestamp_seconds":
			v.lastRun = time.Unix(0, int64(value*1e9))
		case "mx_probe_failure_info":
			v.failure = labelValue(line, "reason")
		default:
			continue
		}
		out[ip] = v
	}
	return out
}

func labelValue(line, label string) string {
	_, rest, ok := strings.Cut(line, label+`="`)
	if !ok {
		return ""
	}
	v, _, _ := strings.Cut(rest, `"`)
	return v
}
