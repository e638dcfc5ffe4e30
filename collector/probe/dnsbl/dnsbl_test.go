package dnsbl

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"

	"github.com/mx-exporter/mx_exporter/collector/probe/dnsmx"
	"github.com/mx-exporter/mx_exporter/collector/probe/txtfields"
)

// zoneOf returns a valid zone name of n octets: labels of 63 letters.
func zoneOf(n int) string {
	var labels []string
	for n > 0 {
		l := min(n, 63)
		if n-l == 1 { // a label of its own needs a dot and a letter
			l--
		}
		labels = append(labels, strings.Repeat("z", l))
		n -= l + 1
	}
	return strings.Join(labels, ".")
}

func TestQueryName(t *testing.T) {
	const loopback6 = "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0"
	zone189, zone190 := zoneOf(189), zoneOf(190)
	if len(zone189) != 189 || len(zone190) != 190 {
		t.Fatalf("zoneOf: want 189 and 190 octets, got %d and %d", len(zone189), len(zone190))
	}
	tests := []struct{ zone, subject, want string }{
		// RFC 5782 section 2.1: the four octets reversed, then the zone.
		{"bl.test", "127.0.1.3", "3.1.0.127.bl.test"},
		{"BL.Test.", "127.0.1.3", "3.1.0.127.bl.test"},
		{"zen.example", "192.0.2.99", "99.2.0.192.zen.example"},
		// An IPv4-mapped IPv6 address is its IPv4 address.
		{"bl.test", "::ffff:127.0.1.3", "3.1.0.127.bl.test"},
		// Section 2.4: 32 nibbles, the last first.
		{"bl.test", "::1", loopback6 + ".bl.test"},
		{"bl.test", "2001:db8::567:89ab", "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test"},
		{"bl.test", "2001:DB8::1", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.bl.test"},
		// A zone index names a link here, not part of the address.
		{"bl.test", "fe80::1%eth0", "1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.e.f.bl.test"},
		// A domain zone: the host name, then the zone.
		{"dbl.test", "mx.relay.test", "mx.relay.test.dbl.test"},
		{"DBL.test", "MX.Relay.Test.", "mx.relay.test.dbl.test"},
		{"dbl.test", "test", "test.dbl.test"},
		// 64 octets of nibbles and 189 of zone: 253, the most there is.
		{zone189, "::1", loopback6 + "." + zone189},
		{zone190, "::1", ""},
		{zone190, "127.0.0.1", "1.0.0.127." + zone190},
		// No valid DNS name: nothing to ask.
		{"", "127.0.0.1", ""},
		{"bl.test", "", ""},
		{"bad..zone", "127.0.0.1", ""},
		{"bl_test", "127.0.0.1", ""},
		{"dbl.test", "mx_1.example", ""},
		{"dbl.test", strings.Repeat("a", 64) + ".example", ""},
		{"dbl.test", "-mx.example", ""},
		// It would read as an address: a resolver would not ask it.
		{"3.4", "1.2", ""},
	}
	for _, tc := range tests {
		if got := QueryName(tc.zone, tc.subject); got != tc.want {
			t.Fatalf("QueryName(%q, %q)\nwant %q\ngot  %q", tc.zone, tc.subject, tc.want, got)
		}
	}
}

func TestCheckZone(t *testing.T) {
	tests := []struct {
		zone Zone
		want string // "" for nil, else a part of the error
	}{
		{Zone{"bl.test", KindAddress}, ""},
		{Zone{"Key123.zen.dq.example.", KindAddress}, ""},
		{Zone{"dbl.test", KindDomain}, ""},
		{Zone{zoneOf(189), KindAddress}, ""},
		{Zone{zoneOf(190), KindAddress}, "is 190 octets long: at most 189"},
		{Zone{zoneOf(245), KindDomain}, ""},
		{Zone{zoneOf(246), KindDomain}, "too long"},
		{Zone{"", KindAddress}, "not a valid DNS name"},
		{Zone{"bl_test", KindAddress}, "not a valid DNS name"},
		{Zone{"bl.test", "ip"}, `unknown kind "ip"`},
	}
	for _, tc := range tests {
		err := CheckZone(tc.zone)
		switch {
		case tc.want == "" && err != nil:
			t.Fatalf("CheckZone(%+v): want nil, got %v", tc.zone, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Fatalf("CheckZone(%+v): want an error with %q, got %v", tc.zone, tc.want, err)
		}
	}
}

func addrs(t testing.TB, s ...string) []netip.Addr {
	t.Helper()
	out := make([]netip.Addr, len(s))
	for i, a := range s {
		out[i] = netip.MustParseAddr(a)
	}
	return out
}

func TestClassify(t *testing.T) {
	codes := make([]string, 10)
	for i := range codes {
		codes[i] = fmt.Sprintf("127.0.0.%d", 11-i)
	}
	tests := []struct {
		name    string
		outcome dnsmx.Outcome
		addrs   []string
		want    string // verdict, error, codes
	}{
		{"nxdomain", dnsmx.OutcomeNXDomain, nil, "not_listed  []"},
		{"nodata", dnsmx.OutcomeNoData, nil, "not_listed  []"},
		{"no address in an answer", dnsmx.OutcomeAnswer, nil, "not_listed  []"},
		{"the usual code", dnsmx.OutcomeAnswer, []string{"127.0.0.2"}, "listed  [127.0.0.2]"},
		{"codes sorted, once each", dnsmx.OutcomeAnswer, []string{"127.0.0.4", "127.0.0.2", "127.0.0.4"}, "listed  [127.0.0.2 127.0.0.4]"},
		{"any code in 127/8", dnsmx.OutcomeAnswer, []string{"127.0.1.2", "127.255.254.255"}, "listed  [127.0.1.2 127.255.254.255]"},
		{"codes capped", dnsmx.OutcomeAnswer, codes,
			"listed  [127.0.0.2 127.0.0.3 127.0.0.4 127.0.0.5 127.0.0.6 127.0.0.7 127.0.0.8 127.0.0.9]"},
		// 127.255.255.0/24: the list refuses the query.
		{"refused", dnsmx.OutcomeAnswer, []string{"127.255.255.254"}, "error query_refused [127.255.255.254]"},
		{"refused, first of the range", dnsmx.OutcomeAnswer, []string{"127.255.255.0"}, "error query_refused [127.255.255.0]"},
		{"refused beside a code: never a listing", dnsmx.OutcomeAnswer, []string{"127.0.0.2", "127.255.255.252"},
			"error query_refused [127.0.0.2 127.255.255.252]"},
		// Outside 127/8: no list's answer.
		{"outside 127/8", dnsmx.OutcomeAnswer, []string{"192.0.2.9"}, "error answer_invalid []"},
		{"just below 127/8", dnsmx.OutcomeAnswer, []string{"126.255.255.255"}, "error answer_invalid []"},
		{"just above 127/8", dnsmx.OutcomeAnswer, []string{"128.0.0.0"}, "error answer_invalid []"},
		{"unspecified", dnsmx.OutcomeAnswer, []string{"0.0.0.0"}, "error answer_invalid []"},
		{"an IPv6 address", dnsmx.OutcomeAnswer, []string{"::ffff:127.0.0.2"}, "error answer_invalid []"},
		{"a code and an address: never a listing", dnsmx.OutcomeAnswer, []string{"127.0.0.2", "192.0.2.9"},
			"error answer_invalid [127.0.0.2]"},
		{"outside 127/8 wins over refused", dnsmx.OutcomeAnswer, []string{"127.255.255.254", "192.0.2.9"},
			"error answer_invalid [127.255.255.254]"},
		// Failures.
		{"timeout", dnsmx.OutcomeTimeout, nil, "error timeout []"},
		{"servfail", dnsmx.OutcomeServFail, nil, "error lookup_failed []"},
		{"refused rcode", dnsmx.OutcomeRefused, nil, "error lookup_failed []"},
		{"malformed", dnsmx.OutcomeError, nil, "error lookup_failed []"},
		{"an outcome unknown here", dnsmx.Outcome("strange"), []string{"127.0.0.2"}, "error lookup_failed []"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := classify(tc.outcome, addrs(t, tc.addrs...))
			if got := fmt.Sprintf("%s %s %v", a.verdict, a.err, a.codes); got != tc.want {
				t.Fatalf("classify(%s, %v)\nwant %s\ngot  %s", tc.outcome, tc.addrs, tc.want, got)
			}
		})
	}
}

func TestDescribe(t *testing.T) {
	const q = "9.1.0.127.bl.test"
	tests := []struct {
		outcome   dnsmx.Outcome
		addrs     []string
		lookupErr string
		want      string
	}{
		{dnsmx.OutcomeAnswer, []string{"127.0.0.4", "127.0.0.2"}, "", "listed in bl.test (127.0.0.2, 127.0.0.4)"},
		{dnsmx.OutcomeNXDomain, nil, "NXDOMAIN", "not listed in bl.test"},
		{dnsmx.OutcomeAnswer, []string{"127.255.255.254"}, "", "bl.test refused the query (127.255.255.254): it answers so to " +
			"queries through a public or open resolver, to too many queries, or to a typo or a missing key in the zone name; not a listing"},
		{dnsmx.OutcomeAnswer, []string{"192.0.2.9", "127.0.0.2"}, "", "bl.test answered 192.0.2.9, outside 127.0.0.0/8: " +
			"no list's answer (a resolver rewriting answers, or a zone that is no blocklist); not a listing"},
		{dnsmx.OutcomeTimeout, nil, "A lookup: no reply from 127.0.0.1:53 (timeout)",
			"no answer for " + q + " in time: A lookup: no reply from 127.0.0.1:53 (timeout)"},
		{dnsmx.OutcomeServFail, nil, "A lookup: SERVFAIL from 127.0.0.1:53", "the lookup of " + q + " failed: A lookup: SERVFAIL from 127.0.0.1:53"},
	}
	for _, tc := range tests {
		if got := describe("bl.test", q, classify(tc.outcome, addrs(t, tc.addrs...)), tc.lookupErr); got != tc.want {
			t.Fatalf("describe(%s %v)\nwant %q\ngot  %q", tc.outcome, tc.addrs, tc.want, got)
		}
	}
}

func TestReason(t *testing.T) {
	long := strings.Repeat("x", maxReason+50)
	tests := []struct {
		records []string
		want    string
	}{
		{nil, ""},
		{[]string{"127.0.1.3 listed: open relay"}, "127.0.1.3 listed: open relay"},
		{[]string{" first ", "", "second"}, "first; second"},
		// Remote text: control bytes and non-ASCII never pass.
		{[]string{"red \x1b[31mtext\x1b[0m", "caf\u00e9"}, "red ?[31mtext?[0m; caf??"},
		{[]string{long}, strings.Repeat("x", maxReason) + "..."},
	}
	for _, tc := range tests {
		if got := reason(tc.records); got != tc.want {
			t.Fatalf("reason(%q)\nwant %q\ngot  %q", tc.records, tc.want, got)
		}
	}
	if maxReason < txtfields.MaxQuoted {
		t.Fatalf("maxReason %d is shorter than one quoted TXT record (%d)", maxReason, txtfields.MaxQuoted)
	}
}

func TestJudgeHealth(t *testing.T) {
	addrZone, domainZone := Zone{"bl.example", KindAddress}, Zone{"dbl.example", KindDomain}
	listed := Result{Verdict: VerdictListed, Codes: addrs(t, "127.0.0.2")}
	notListed := Result{Verdict: VerdictNotListed}
	refused := Result{Verdict: VerdictError, Error: ErrorRefusedQuery, Codes: addrs(t, "127.255.255.254")}
	invalid := Result{Verdict: VerdictError, Error: ErrorOutsideLoopback}
	failed := Result{Verdict: VerdictError, Error: ErrorLookupFailed, Detail: "the lookup of 2.0.0.127.bl.example failed: A lookup: SERVFAIL from 127.0.0.1:53"}
	timeout := Result{Verdict: VerdictError, Error: ErrorTimeout, Detail: "no answer for 1.0.0.127.bl.example in time: A lookup: no reply"}
	const refusal = "the answer to queries through a public or open resolver, to too many queries, or to a typo or a missing key in the zone name"
	tests := []struct {
		name             string
		zone             Zone
		listed, unlisted Result
		healthy, retry   bool
		detail           string
	}{
		{"healthy", addrZone, listed, notListed, true, false, ""},
		{"healthy domain zone", domainZone, listed, notListed, true, false, ""},
		{"lists everything", addrZone, listed, listed, false, false,
			"bl.example lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); " +
				"its answers are not trusted"},
		{"domain zone lists everything", domainZone, listed, listed, false, false,
			"dbl.example lists invalid, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); " +
				"its answers are not trusted"},
		{"no test entry", addrZone, notListed, notListed, false, false,
			"bl.example does not list its test entry 127.0.0.2 (RFC 5782 section 5): a zone that is no blocklist, " +
				"a typo or a missing key in the zone name, or a list that is no longer served; its answers are not trusted"},
		{"no test entry in a domain zone", domainZone, notListed, notListed, false, false,
			"dbl.example does not list its test entry test (RFC 5782 section 5): a zone that is no blocklist, " +
				"a typo or a missing key in the zone name, or a list that is no longer served; its answers are not trusted"},
		{"refuses", addrZone, refused, refused, false, false,
			"bl.example refuses the query for 127.0.0.2 with 127.255.255.254: " + refusal +
				"; and it refuses the query for 127.0.0.1 with 127.255.255.254: " + refusal + "; its answers are not trusted"},
		{"rewritten NXDOMAIN", addrZone, listed, invalid, false, false,
			"bl.example answers 127.0.0.1 with an address outside 127.0.0.0/8: no list's answer " +
				"(a resolver rewriting answers, or a zone that is no blocklist); its answers are not trusted"},
		{"test entry lookup failed", addrZone, failed, notListed, false, true,
			"bl.example could not be checked (the lookup of 2.0.0.127.bl.example failed: A lookup: SERVFAIL from 127.0.0.1:53); " +
				"its answers are not trusted until a check passes"},
		{"unlisted entry timed out", addrZone, listed, timeout, false, true,
			"bl.example could not be checked (no answer for 1.0.0.127.bl.example in time: A lookup: no reply); " +
				"its answers are not trusted until a check passes"},
		{"a failure and a wrong answer", addrZone, failed, listed, false, true,
			"bl.example could not be checked (the lookup of 2.0.0.127.bl.example failed: A lookup: SERVFAIL from 127.0.0.1:53)" +
				"; and it lists 127.0.0.1, which no list may: it answers everything (a wildcard, or a resolver rewriting NXDOMAIN); " +
				"its answers are not trusted until a check passes"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			healthy, retry, detail := judgeHealth(tc.zone, tc.listed, tc.unlisted)
			if healthy != tc.healthy || retry != tc.retry || detail != tc.detail {
				t.Fatalf("judgeHealth\nwant healthy=%v retry=%v %q\ngot  healthy=%v retry=%v %q",
					tc.healthy, tc.retry, tc.detail, healthy, retry, detail)
			}
		})
	}
}

// FuzzClassify feeds classify any set of answers and checks what a verdict
// promises: a listing only of codes in 127.0.0.0/8 outside
// 127.255.255.0/24, and only when every answer was such a code.
func FuzzClassify(f *testing.F) {
	f.Add(byte(0), []byte{127, 0, 0, 2})
	f.Add(byte(0), []byte{127, 0, 0, 2, 127, 255, 255, 254})
	f.Add(byte(0), []byte{127, 0, 0, 2, 192, 0, 2, 9})
	f.Add(byte(0), []byte{127, 0, 0, 2, 127, 0, 0, 3, 127, 0, 0, 4, 127, 0, 0, 5, 127, 0, 0, 6, 127, 0, 0, 7, 127, 0, 0, 8, 127, 0, 0, 9, 127, 0, 0, 10})
	f.Add(byte(1), []byte{})
	f.Add(byte(3), []byte{127, 0, 0, 2})
	f.Add(byte(0), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 2, 1})
	outcomes := []dnsmx.Outcome{dnsmx.OutcomeAnswer, dnsmx.OutcomeNXDomain, dnsmx.OutcomeNoData, dnsmx.OutcomeServFail,
		dnsmx.OutcomeRefused, dnsmx.OutcomeTimeout, dnsmx.OutcomeError}
	f.Fuzz(func(t *testing.T, outcomeByte byte, raw []byte) {
		outcome := outcomes[int(outcomeByte)%len(outcomes)]
		// Each address is a selector byte, then 4 bytes (an even
		// selector, or too few bytes left) or 16 (an odd one).
		var in []netip.Addr
		for len(raw) >= 5 {
			n := 4
			if raw[0]%2 == 1 && len(raw) >= 17 {
				n = 16
			}
			a, _ := netip.AddrFromSlice(raw[1 : 1+n])
			in = append(in, a)
			raw = raw[1+n:]
		}
		orig := slices.Clone(in)
		a := classify(outcome, in)

		if (a.verdict == VerdictError) != (a.err != "") {
			t.Fatalf("verdict %s with error %q", a.verdict, a.err)
		}
		if len(a.codes) > maxCodes || len(a.invalid) > maxInvalidShown {
			t.Fatalf("%d codes and %d invalid kept, caps %d and %d", len(a.codes), len(a.invalid), maxCodes, maxInvalidShown)
		}
		for i, c := range a.codes {
			if !loopbackNet.Contains(c) || !slices.Contains(orig, c) {
				t.Fatalf("code %s outside 127/8 or not among the answers %v", c, orig)
			}
			if i > 0 && a.codes[i-1].Compare(c) >= 0 {
				t.Fatalf("codes not sorted or repeated: %v", a.codes)
			}
		}
		anyInvalid := slices.ContainsFunc(orig, func(x netip.Addr) bool { return !loopbackNet.Contains(x) })
		anyRefused := slices.ContainsFunc(orig, refusedNet.Contains)
		switch a.verdict {
		case VerdictListed:
			if outcome != dnsmx.OutcomeAnswer || len(a.codes) == 0 || anyInvalid || anyRefused {
				t.Fatalf("listed on %s %v", outcome, orig)
			}
			for _, c := range a.codes {
				if refusedNet.Contains(c) {
					t.Fatalf("listed with the refusal code %s", c)
				}
			}
		case VerdictNotListed:
			if outcome == dnsmx.OutcomeAnswer && len(orig) > 0 {
				t.Fatalf("not listed on answers %v", orig)
			}
		case VerdictError:
			switch {
			case outcome == dnsmx.OutcomeAnswer && anyInvalid && a.err != ErrorOutsideLoopback,
				outcome == dnsmx.OutcomeAnswer && !anyInvalid && anyRefused && a.err != ErrorRefusedQuery,
				outcome == dnsmx.OutcomeTimeout && a.err != ErrorTimeout:
				t.Fatalf("error %s on %s %v", a.err, outcome, orig)
			}
		default:
			t.Fatalf("unknown verdict %q", a.verdict)
		}
	})
}
