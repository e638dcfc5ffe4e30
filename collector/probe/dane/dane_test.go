package dane

import (
	"crypto/x509"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv/testcert"
)

const mxName = "mx.example.test"

// certs are made once: key generation dominates the test time otherwise.
type fixture struct {
	ca, ca2, leaf, other, expiredLeaf, foreignLeaf *testcert.Cert
	root, inter, leafI                             *testcert.Cert
	expInter, leafE                                *testcert.Cert
	oldCA, leafOld                                 *testcert.Cert
	wild, noSAN                                    *testcert.Cert
}

var fixtures = sync.OnceValue(func() *fixture {
	now := time.Now()
	server := testcert.Options{CommonName: mxName, DNSNames: []string{mxName}}
	var f fixture
	f.ca = testcert.New(testcert.Options{CommonName: "Test CA", CA: true}, nil)
	f.ca2 = testcert.New(testcert.Options{CommonName: "Next CA", CA: true}, nil)
	f.leaf = testcert.New(server, f.ca)
	f.other = testcert.New(server, f.ca)
	f.foreignLeaf = testcert.New(server, f.ca2)
	expired := server
	expired.NotBefore, expired.NotAfter = now.Add(-48*time.Hour), now.Add(-24*time.Hour)
	f.expiredLeaf = testcert.New(expired, f.ca)

	f.root = testcert.New(testcert.Options{CommonName: "Root", CA: true}, nil)
	f.inter = testcert.New(testcert.Options{CommonName: "Intermediate", CA: true}, f.root)
	f.leafI = testcert.New(server, f.inter)
	f.expInter = testcert.New(testcert.Options{CommonName: "Old intermediate", CA: true,
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, f.root)
	f.leafE = testcert.New(server, f.expInter)

	f.oldCA = testcert.New(testcert.Options{CommonName: "Expired CA", CA: true,
		NotBefore: now.Add(-48 * time.Hour), NotAfter: now.Add(-time.Hour)}, nil)
	f.leafOld = testcert.New(server, f.oldCA)

	f.wild = testcert.New(testcert.Options{CommonName: "wild", DNSNames: []string{"*.example.test"}}, f.ca)
	f.noSAN = testcert.New(testcert.Options{CommonName: "MX.Example.Test"}, f.ca)
	return &f
})

func rec(u Usage, c *testcert.Cert, s Selector, m MatchingType) TLSA {
	r, err := Record(u, c.Cert, s, m)
	if err != nil {
		panic(err)
	}
	return r
}

func chainOf(cs ...*testcert.Cert) []*x509.Certificate {
	var out []*x509.Certificate
	for _, c := range cs {
		out = append(out, c.Cert)
	}
	return out
}

func TestEvaluate(t *testing.T) {
	f := fixtures()
	short := TLSA{DANEEE, SelectorSPKI, MatchSHA256, make([]byte, 31)}
	long256 := TLSA{DANEEE, SelectorSPKI, MatchSHA512, make([]byte, 32)}
	tests := []struct {
		name     string
		records  []TLSA
		chain    []*x509.Certificate
		names    []string // default: mxName
		verdict  Verdict
		outcomes []Outcome
		ta       []TAFailure // for each record, when given
		errs     []error     // for each record, when given
		disagree []string
		ready    bool
		// taExpired lists the records matched through an expired TA.
		taExpired []int
	}{
		{
			name:     "3 1 1 matching",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "3 0 1 matching",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorCert, MatchSHA256)},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "3 1 2 matching",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA512)},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "3 1 0 matching",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchFull)},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "3 1 1 of another key: mismatch",
			records:  []TLSA{rec(DANEEE, f.other, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
		},
		{
			name:     "DANE-EE matches the leaf only, not the CA",
			records:  []TLSA{rec(DANEEE, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
		},
		{
			name:     "no chain: mismatch",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)},
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
		},
		{
			name: "two records, current and next key: rollover ready",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA256),
			},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched, NotMatched},
			ready:    true,
		},
		{
			name: "next key published under another combination only: not ready",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorCert, MatchSHA256),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched, NotMatched},
		},
		{
			name:     "expired leaf matching 3 1 1 is a pass",
			records:  []TLSA{rec(DANEEE, f.expiredLeaf, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.expiredLeaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "DANE-EE ignores names",
			records:  []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf),
			names:    []string{"elsewhere.example"},
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "2 1 1 with the TA in the chain",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched},
			ta:       []TAFailure{TAOK},
		},
		{
			name:     "2 1 1 with the TA not sent",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANotSent},
		},
		{
			name:     "2 1 1 of a root above a sent intermediate: not sent",
			records:  []TLSA{rec(DANETA, f.root, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leafI, f.inter),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANotSent},
		},
		{
			name:     "2 1 1 of the sent intermediate",
			records:  []TLSA{rec(DANETA, f.inter, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leafI, f.inter),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "2 1 1 of the root, sent with the intermediate",
			records:  []TLSA{rec(DANETA, f.root, SelectorSPKI, MatchSHA512)},
			chain:    chainOf(f.leafI, f.inter, f.root),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "2 0 0 full certificate not sent is still fine",
			records:  []TLSA{rec(DANETA, f.root, SelectorCert, MatchFull)},
			chain:    chainOf(f.leafI, f.inter),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "2 1 0 full key not sent is still fine",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchFull)},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "2 0 0 of a CA that did not sign the chain",
			records:  []TLSA{rec(DANETA, f.ca2, SelectorCert, MatchFull)},
			chain:    chainOf(f.leaf),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TAChainInvalid},
		},
		{
			name:     "DANE-TA with a wrong reference name",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			names:    []string{"other.example.test"},
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANameMismatch},
		},
		{
			name:     "DANE-TA with no reference name",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			names:    []string{},
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANameMismatch},
		},
		{
			name:     "DANE-TA: the second reference name matches, case and dot aside",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf, f.ca),
			names:    []string{"base.example.test", "MX.example.TEST."},
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "DANE-TA: wildcard matches one label",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.wild, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "DANE-TA: wildcard does not match two labels",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.wild, f.ca),
			names:    []string{"a.mx.example.test"},
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANameMismatch},
		},
		{
			name:     "DANE-TA: common name when there is no DNS SAN",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.noSAN, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "DANE-TA: TA sent but the leaf is signed by another CA",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.foreignLeaf, f.ca),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TAChainInvalid},
		},
		{
			name:     "DANE-TA: expired leaf fails",
			records:  []TLSA{rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.expiredLeaf, f.ca),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TAChainExpired},
		},
		{
			name:     "DANE-TA: expired intermediate fails",
			records:  []TLSA{rec(DANETA, f.root, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leafE, f.expInter, f.root),
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TAChainExpired},
		},
		{
			name:      "DANE-TA: the TA's own expiry is not checked, but noted",
			records:   []TLSA{rec(DANETA, f.oldCA, SelectorSPKI, MatchSHA256)},
			chain:     chainOf(f.leafOld, f.oldCA),
			verdict:   Match,
			outcomes:  []Outcome{Matched},
			taExpired: []int{0},
		},
		{
			name:      "DANE-TA: 2 0 0 of an expired TA not sent",
			records:   []TLSA{rec(DANETA, f.oldCA, SelectorCert, MatchFull)},
			chain:     chainOf(f.leafOld),
			verdict:   Match,
			outcomes:  []Outcome{Matched},
			taExpired: []int{0},
		},
		{
			name:     "DANE-TA: 2 1 0 bare key of an expired TA: no dates to check",
			records:  []TLSA{rec(DANETA, f.oldCA, SelectorSPKI, MatchFull)},
			chain:    chainOf(f.leafOld),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:      "DANE-TA: an expired intermediate that is the TA still anchors",
			records:   []TLSA{rec(DANETA, f.expInter, SelectorCert, MatchSHA256)},
			chain:     chainOf(f.leafE, f.expInter),
			verdict:   Match,
			outcomes:  []Outcome{Matched},
			taExpired: []int{0},
		},
		{
			name:     "DANE-TA naming the leaf itself: names still checked",
			records:  []TLSA{rec(DANETA, f.leaf, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf),
			names:    []string{"other.example.test"},
			verdict:  Mismatch,
			outcomes: []Outcome{NotMatched},
			ta:       []TAFailure{TANameMismatch},
		},
		{
			name:     "DANE-TA naming the leaf itself, right name",
			records:  []TLSA{rec(DANETA, f.leaf, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name:     "DANE-TA: chain sent out of order still builds",
			records:  []TLSA{rec(DANETA, f.root, SelectorSPKI, MatchSHA256)},
			chain:    chainOf(f.leafI, f.root, f.inter),
			verdict:  Match,
			outcomes: []Outcome{Matched},
		},
		{
			name: "DANE-TA: current TA and next TA published: ready",
			records: []TLSA{
				rec(DANETA, f.ca, SelectorSPKI, MatchSHA256),
				rec(DANETA, f.ca2, SelectorSPKI, MatchSHA256),
			},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched, NotMatched},
			ta:       []TAFailure{TAOK, TANotSent},
			ready:    true,
		},
		{
			name: "PKIX-only records",
			records: []TLSA{
				rec(PKIXTA, f.ca, SelectorSPKI, MatchSHA256),
				rec(PKIXEE, f.leaf, SelectorSPKI, MatchSHA256),
			},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  NoUsableRecords,
			outcomes: []Outcome{Unusable, Unusable},
		},
		{
			name: "PKIX records beside a matching DANE-EE one",
			records: []TLSA{
				rec(PKIXEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Unusable, Matched},
		},
		{
			name: "wrong hash lengths and unknown parameters",
			records: []TLSA{
				short, long256,
				{DANEEE, SelectorSPKI, MatchFull, nil},
				{4, SelectorSPKI, MatchSHA256, make([]byte, 32)},
				{DANEEE, 2, MatchSHA256, make([]byte, 32)},
				{DANEEE, SelectorSPKI, 3, make([]byte, 32)},
			},
			chain:    chainOf(f.leaf),
			verdict:  NoUsableRecords,
			outcomes: []Outcome{Malformed, Malformed, Malformed, Malformed, Malformed, Malformed},
			errs:     []error{ErrDigestLength, ErrDigestLength, ErrEmptyData, ErrUnknownUsage, ErrUnknownSelector, ErrUnknownMatchingType},
		},
		{
			name: "a malformed record beside a matching one",
			records: []TLSA{
				short,
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Malformed, Matched},
		},
		{
			name: "SHA-256 matches, SHA-512 does not: digest mismatch",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  DigestMismatch,
			outcomes: []Outcome{Matched, NotMatched},
			disagree: []string{"3 1"},
		},
		{
			name: "SHA-512 matches, SHA-256 does not: a pass with a warning",
			records: []TLSA{
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{NotMatched, Matched},
			disagree: []string{"3 1"},
		},
		{
			name: "SHA-256 and SHA-512 both match",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched, Matched},
		},
		{
			name: "SHA-256 of DANE-EE and SHA-512 of DANE-TA are different groups",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANETA, f.ca2, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  Match,
			outcomes: []Outcome{Matched, NotMatched},
			ready:    false, // 2 1 2 matches nothing current
		},
		{
			name:    "no records",
			chain:   chainOf(f.leaf),
			verdict: NoUsableRecords,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			names := tt.names
			if names == nil {
				names = []string{mxName}
			}
			got := Evaluate(tt.records, tt.chain, Options{Names: names})
			if got.Verdict != tt.verdict {
				t.Fatalf("verdict: got %v, want %v (records %+v)", got.Verdict, tt.verdict, got.Records)
			}
			var outcomes []Outcome
			for i, r := range got.Records {
				outcomes = append(outcomes, r.Outcome)
				if tt.ta != nil && r.TA != tt.ta[i] {
					t.Errorf("record %d (%v): TA failure %v, want %v", i, r.Record.Combination(), r.TA, tt.ta[i])
				}
				if tt.errs != nil && !errors.Is(r.Err, tt.errs[i]) {
					t.Errorf("record %d: error %v, want %v", i, r.Err, tt.errs[i])
				}
				if r.TAExpired != slices.Contains(tt.taExpired, i) {
					t.Errorf("record %d: TA expired %v, want %v", i, r.TAExpired, !r.TAExpired)
				}
				if (r.Outcome == Malformed) != (r.Err != nil) {
					t.Errorf("record %d: outcome %v with error %v", i, r.Outcome, r.Err)
				}
			}
			if !slices.Equal(outcomes, tt.outcomes) {
				t.Errorf("outcomes: got %v, want %v", outcomes, tt.outcomes)
			}
			if !slices.Equal(got.DigestDisagreement, tt.disagree) {
				t.Errorf("digest disagreement: got %q, want %q", got.DigestDisagreement, tt.disagree)
			}
			if got.Rollover.Ready != tt.ready || got.Rollover.Ready != (got.Rollover.Reason == "") {
				t.Errorf("rollover: got %+v, want ready %v", got.Rollover, tt.ready)
			}
		})
	}
}

func TestRolloverReasons(t *testing.T) {
	f := fixtures()
	tests := []struct {
		name    string
		records []TLSA
		want    string
	}{
		{"none", nil, "no usable TLSA records"},
		{"one key", []TLSA{rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)},
			"no record for the next key or trust anchor is published"},
		{"stale combination", []TLSA{
			rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
			rec(DANEEE, f.other, SelectorSPKI, MatchSHA512),
		}, "no record matches the current chain for 3 1 2"},
		{"broken DANE-TA is not spare", []TLSA{
			rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
			rec(DANETA, f.ca, SelectorSPKI, MatchSHA256),
		}, "no record matches the current chain for 2 1 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Evaluate(tt.records, chainOf(f.leaf, f.ca), Options{Names: []string{"wrong.example"}}).Rollover
			if got.Ready || got.Reason != tt.want {
				t.Fatalf("got %+v, want not ready: %q", got, tt.want)
			}
		})
	}
}

func TestDataLengths(t *testing.T) {
	f := fixtures()
	for _, s := range []Selector{SelectorCert, SelectorSPKI} {
		for _, m := range []MatchingType{MatchFull, MatchSHA256, MatchSHA512} {
			r := rec(DANEEE, f.leaf, s, m)
			if err := r.Validate(); err != nil {
				t.Fatalf("%v: %v", r.Combination(), err)
			}
			if want := map[MatchingType]int{MatchSHA256: 32, MatchSHA512: 64}[m]; want != 0 && len(r.Data) != want {
				t.Fatalf("%v: %d bytes, want %d", r.Combination(), len(r.Data), want)
			}
		}
	}
	if _, err := Data(f.leaf.Cert, 2, MatchSHA256); !errors.Is(err, ErrUnknownSelector) {
		t.Fatalf("selector 2: got %v, want ErrUnknownSelector", err)
	}
	if _, err := Data(f.leaf.Cert, SelectorSPKI, 3); !errors.Is(err, ErrUnknownMatchingType) {
		t.Fatalf("matching type 3: got %v, want ErrUnknownMatchingType", err)
	}
	if _, err := Data(nil, SelectorSPKI, MatchSHA256); err == nil {
		t.Fatal("nil certificate: no error")
	}
}

func TestParseTLSA(t *testing.T) {
	f := fixtures()
	r := rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)
	got, err := ParseTLSA(r.String())
	if err != nil || got.String() != r.String() {
		t.Fatalf("round trip of %q: got %q, %v", r, got, err)
	}
	split, err := ParseTLSA("2 0 1 0102 0304")
	if err != nil || split.Usage != DANETA || split.Selector != SelectorCert || split.MatchingType != MatchSHA256 || len(split.Data) != 4 {
		t.Fatalf("split data: got %+v, %v", split, err)
	}
	for _, bad := range []string{"", "3 1 1", "3 1 x 00", "256 1 1 00", "3 1 1 0g", "-1 1 1 00"} {
		if _, err := ParseTLSA(bad); err == nil {
			t.Errorf("ParseTLSA(%q): no error", bad)
		}
	}
	// Syntax is fine, the value is not: parsed, then reported by Validate.
	u, err := ParseTLSA("4 1 1 00")
	if err != nil || !errors.Is(u.Validate(), ErrUnknownUsage) || u.Class() != ClassMalformed {
		t.Fatalf("usage 4: got %+v, %v, class %v", u, err, u.Class())
	}
}

func TestClass(t *testing.T) {
	tests := []struct {
		r    TLSA
		want Class
	}{
		{TLSA{DANEEE, SelectorSPKI, MatchSHA256, make([]byte, 32)}, ClassUsable},
		{TLSA{DANETA, SelectorCert, MatchSHA512, make([]byte, 64)}, ClassUsable},
		{TLSA{PKIXTA, SelectorSPKI, MatchSHA256, make([]byte, 32)}, ClassUnusable},
		{TLSA{PKIXEE, SelectorSPKI, MatchSHA256, make([]byte, 32)}, ClassUnusable},
		{TLSA{PKIXEE, SelectorSPKI, MatchSHA256, make([]byte, 3)}, ClassMalformed},
		{TLSA{DANEEE, SelectorSPKI, MatchSHA256, nil}, ClassMalformed},
	}
	for _, tt := range tests {
		if got := tt.r.Class(); got != tt.want {
			t.Errorf("%v: class %v, want %v", tt.r, got, tt.want)
		}
	}
}

// FuzzEvaluate feeds arbitrary record text and arbitrary chains (the leaf and
// a fuzzer-chosen subset and order of other certificates, including the
// fuzzer's bytes when they parse as one)
// to ParseTLSA and Evaluate. Invariants: no panic; a record that parses
// prints back to the same record; Validate and Class agree; the outcome of a
// malformed record is Malformed; a record made from the leaf always matches.
func FuzzEvaluate(f *testing.F) {
	fx := fixtures()
	for _, s := range []string{
		rec(DANEEE, fx.leaf, SelectorSPKI, MatchSHA256).String(),
		rec(DANETA, fx.ca, SelectorCert, MatchFull).String(),
		rec(DANETA, fx.ca, SelectorSPKI, MatchSHA512).String(),
		"3 1 1 00", "2 1 0 3000", "0 0 0 ", "255 255 255 ff",
	} {
		f.Add(s, "mx.example.test", fx.ca.Cert.Raw, uint8(0))
	}
	f.Fuzz(func(t *testing.T, s, name string, extra []byte, order uint8) {
		r, err := ParseTLSA(s)
		if err != nil {
			return
		}
		back, err := ParseTLSA(r.String())
		if err != nil || back.String() != r.String() {
			t.Fatalf("round trip of %q: %q, %v", r, back, err)
		}
		if (r.Validate() != nil) != (r.Class() == ClassMalformed) {
			t.Fatalf("%v: Validate %v but class %v", r, r.Validate(), r.Class())
		}
		// The leaf first, then the others in an order the fuzzer picks:
		// servers send intermediates in any order, and sometimes too many.
		chain := chainOf(fx.leaf)
		pool := chainOf(fx.ca, fx.root, fx.inter, fx.ca2)
		if c, err := x509.ParseCertificate(extra); err == nil {
			pool = append(pool, c)
		}
		for i, c := range pool {
			if order&(1<<i) != 0 {
				chain = append(chain, c)
			}
		}
		if order&0x80 != 0 {
			slices.Reverse(chain[1:])
		}
		self := rec(DANEEE, fx.leaf, SelectorSPKI, MatchSHA256)
		res := Evaluate([]TLSA{r, self}, chain, Options{Names: []string{name}})
		if len(res.Records) != 2 {
			t.Fatalf("%d results for 2 records", len(res.Records))
		}
		if (res.Records[0].Outcome == Malformed) != (r.Validate() != nil) {
			t.Fatalf("%v: outcome %v, Validate %v", r, res.Records[0].Outcome, r.Validate())
		}
		if res.Records[1].Outcome != Matched || res.Verdict == NoUsableRecords || res.Verdict == Mismatch {
			t.Fatalf("leaf's own 3 1 1 beside %v: %+v", r, res)
		}
	})
}

// TestNames pins the words of the enums: the integration will use them as
// label values and in the probe's text and JSON.
func TestNames(t *testing.T) {
	got := []string{
		Matched.String(), NotMatched.String(), Malformed.String(), Unusable.String(), Outcome(9).String(),
		TAOK.String(), TANotSent.String(), TAChainInvalid.String(), TAChainExpired.String(), TANameMismatch.String(), TAFailure(9).String(),
		NoUsableRecords.String(), Match.String(), Mismatch.String(), DigestMismatch.String(), Verdict(9).String(),
		ClassUsable.String(), ClassUnusable.String(), ClassMalformed.String(), Class(9).String(),
	}
	want := []string{
		"matched", "not_matched", "malformed", "unusable", "outcome(9)",
		"ok", "ta_not_sent", "chain_invalid", "chain_expired", "name_mismatch", "ta_failure(9)",
		"no_usable_records", "matched", "mismatch", "digest_mismatch", "verdict(9)",
		"usable", "unusable", "malformed", "class(9)",
	}
	if !slices.Equal(got, want) {
		t.Fatalf("got %q, want %q", got, want)
	}
}
