package probe

import (
	"context"
	"net"
	"reflect"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/probe/smtp"
)

// TestProbeRecordsWhatWasAsked: the report says what the module asked, so
// that its readers need not keep the module's settings.
func TestProbeRecordsWhatWasAsked(t *testing.T) {
	// A port where nothing listens: the dialogue fails at once, and the
	// report still says what it was to check.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	s := Settings{Timeout: 5 * time.Second, SMTP: smtp.Options{
		EHLOName:   "probe.example.net",
		Recipients: []string{"postmaster@example.org", "abuse@example.org"},
		RelayCheck: "relay-test@mx-exporter.invalid",
		VRFY:       "postmaster",
		StartTLS:   smtp.StartTLSRequired,
	}}
	rep := (&Prober{}).Probe(context.Background(), Target{Host: "127.0.0.1", Port: port}, s)
	want := Asked{
		Recipients: []string{"postmaster@example.org", "abuse@example.org"},
		RelayCheck: "relay-test@mx-exporter.invalid",
		VRFY:       "postmaster",
		StartTLS:   smtp.StartTLSRequired,
	}
	if !reflect.DeepEqual(rep.Asked, want) {
		t.Fatalf("Report.Asked: want %+v, got %+v", want, rep.Asked)
	}
	s.SMTP.Recipients[0] = "changed@example.org"
	if got := rep.Asked.Recipients[0]; got != "postmaster@example.org" {
		t.Fatalf("the report shares the settings' recipients: want postmaster@example.org, got %s", got)
	}
}

// TestNotRunSaysWhyInWords: a dialogue that never got a slot explains itself
// without Go's error text, with a reason of its own: the time went by in
// mx_exporter's queue, not at the server (it used to be "timeout").
func TestNotRunSaysWhyInWords(t *testing.T) {
	for _, c := range []struct {
		err    error
		waited time.Duration
		want   string
	}{
		{context.DeadlineExceeded, 2500 * time.Millisecond, "the probe's deadline passed after it waited 2.5s for its turn at the address or a free probe slot"},
		{context.Canceled, 1500 * time.Microsecond, "the probe was cancelled after it waited 1.5ms for its turn at the address or a free probe slot"},
		{context.DeadlineExceeded, 0, "the probe's deadline passed before its turn came"},
	} {
		res := notRun("mx.test", "192.0.2.1", 25, c.err, c.waited)
		if res.Detail != c.want {
			t.Errorf("notRun(%v, %v).Detail = %q, want %q", c.err, c.waited, res.Detail, c.want)
		}
		if res.Reason != smtp.ReasonNotStarted || res.Success {
			t.Errorf("notRun(%v): reason %q, success %v; want %q, false", c.err, res.Reason, res.Success, smtp.ReasonNotStarted)
		}
	}
}
