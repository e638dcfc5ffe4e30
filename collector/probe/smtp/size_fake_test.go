package smtp

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestSizeInvalidThroughTheDialogue: a SIZE parameter that is no byte count
// is kept apart from "no limit" all the way to the Result: SizeInvalid, the
// finding size_invalid and a transcript note, the raw parameter kept for
// the report; a valid SIZE after STARTTLS is what counts when there is TLS.
// A fake: Postfix only ever advertises a valid SIZE.
func TestSizeInvalidThroughTheDialogue(t *testing.T) {
	ehlo := func(size string) string {
		return "250-mx.fake.test\r\n250-PIPELINING\r\n250-" + size + "\r\n250 8BITMIME\r\n"
	}
	for _, tc := range []struct {
		name        string
		fake        fakeSMTP
		tls         bool
		wantSize    int64
		wantInvalid bool
		wantParams  string
	}{
		{name: "negative", fake: fakeSMTP{ehlo: ehlo("SIZE -5")}, wantInvalid: true, wantParams: "-5"},
		{name: "not a number", fake: fakeSMTP{ehlo: ehlo("SIZE abc")}, wantInvalid: true, wantParams: "abc"},
		{name: "beyond int64", fake: fakeSMTP{ehlo: ehlo("SIZE 99999999999999999999")}, wantInvalid: true, wantParams: "99999999999999999999"},
		{name: "escape in the parameter", fake: fakeSMTP{ehlo: ehlo("SIZE 1\x1b[2J")}, wantInvalid: true, wantParams: "1\x1b[2J"},
		{name: "bare: no fixed limit", fake: fakeSMTP{ehlo: ehlo("SIZE")}},
		{name: "zero: no fixed limit", fake: fakeSMTP{ehlo: ehlo("SIZE 0")}},
		{name: "a limit", fake: fakeSMTP{ehlo: ehlo("SIZE 1000")}, wantSize: 1000},
		// The fake's EHLO after STARTTLS advertises SIZE 10240000.
		{name: "invalid before TLS, valid after", fake: fakeSMTP{tls: serverTLS(pki().signed), ehlo: ehlo("SIZE abc")},
			tls: true, wantSize: 10240000},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.tls {
				tc.fake.ehlo = strings.Replace(tc.fake.ehlo, "250 8BITMIME", "250-8BITMIME\r\n250 STARTTLS", 1)
			}
			tc.fake.replies = relayRefused
			f := startFake(t, tc.fake.serve)
			opts := baseOptions(f.port())
			opts.RootCAs = pki().roots
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			r := Probe(ctx, "mx.tls.test", "127.0.0.1", opts)
			if !r.Success {
				t.Fatalf("reason %s: %s", r.Reason, r.Detail)
			}
			if tc.tls != (r.TLS != nil) {
				t.Fatalf("TLS session %v, want %v", r.TLS != nil, tc.tls)
			}
			src := r.SizeSource()
			if src == nil || src.Size != tc.wantSize || src.SizeInvalid != tc.wantInvalid {
				t.Fatalf("SIZE source %+v: want size %d, invalid %v", src, tc.wantSize, tc.wantInvalid)
			}
			if got := slices.Contains(r.Findings, FindingSizeInvalid); got != tc.wantInvalid {
				t.Fatalf("findings %v: size_invalid %v, want %v", r.Findings, got, tc.wantInvalid)
			}
			if !tc.wantInvalid {
				return
			}
			if p, _ := src.Params("SIZE"); p != tc.wantParams {
				t.Fatalf("SIZE parameters %q, want them as sent, %q", p, tc.wantParams)
			}
			var note string
			for _, l := range r.Transcript {
				if l.Dir == Note && strings.Contains(l.Text, "invalid SIZE value") {
					note = l.Text
				}
			}
			if note == "" || strings.ContainsAny(note, "\x1b") {
				t.Fatalf("transcript note on the invalid SIZE: %q, want one, escaped", note)
			}
		})
	}
}
