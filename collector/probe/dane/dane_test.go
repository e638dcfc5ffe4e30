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
			// RFC 7671 section 9's own example: a sender accepts a key that
			// matches the full record or the SHA2-512 one, never one that
			// matches only the weaker SHA2-256 record.
			name: "3 1 0, 3 1 1 and 3 1 2: the full record matches, the SHA-512 one does not",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchFull),
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched, Matched, NotMatched},
			disagree: []string{"3 1"},
		},
		{
			name: "SHA-256 of the current key, SHA-512 of the next key only: digest mismatch",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  DigestMismatch,
			outcomes: []Outcome{Matched, NotMatched, NotMatched},
			disagree: []string{"3 1"},
		},
		{
			// A malformed record is not one a sender can use, so it
			// makes no digest stronger.
			name: "a malformed SHA-512 record does not outrank a matching SHA-256 one",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				long256,
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched, Malformed},
		},
		{
			name: "SHA-512 of another selector does not outrank a matching SHA-256 one",
			records: []TLSA{
				rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256),
				rec(DANEEE, f.other, SelectorCert, MatchSHA512),
			},
			chain:    chainOf(f.leaf),
			verdict:  Match,
			outcomes: []Outcome{Matched, NotMatched},
		},
		{
			name: "DANE-TA: SHA-256 of the sent TA, SHA-512 of a TA not sent: digest mismatch",
			records: []TLSA{
				rec(DANETA, f.ca, SelectorSPKI, MatchSHA256),
				rec(DANETA, f.ca2, SelectorSPKI, MatchSHA512),
			},
			chain:    chainOf(f.leaf, f.ca),
			verdict:  DigestMismatch,
			outcomes: []Outcome{Matched, NotMatched},
			ta:       []TAFailure{TAOK, TANotSent},
			disagree: []string{"2 1"},
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

// FuzzEvaluate feeds two arbitrary record texts and arbitrary chains (the
// leaf and a fuzzer-chosen subset and order of other certificates, including
// the fuzzer's bytes when they parse as one) to ParseTLSA, Evaluate and
// Policy.Judge. Invariants: no panic; a record that parses prints back to
// the same record; Validate and Class agree; the outcome of a malformed
// record is Malformed; the verdict is the one sectionNineVerdict, an
// independent restatement of RFC 7671 section 9, gives; a record made from
// the leaf always matches, and with the leaf's SHA2-512 record beside it the
// set always passes; the status of a judged policy is a failure exactly when
// the verdict is.
func FuzzEvaluate(f *testing.F) {
	fx := fixtures()
	seeds := []string{
		rec(DANEEE, fx.leaf, SelectorSPKI, MatchSHA256).String(),
		rec(DANEEE, fx.other, SelectorSPKI, MatchSHA512).String(),
		rec(DANETA, fx.ca, SelectorCert, MatchFull).String(),
		rec(DANETA, fx.ca, SelectorSPKI, MatchSHA512).String(),
		"3 1 1 00", "2 1 0 3000", "0 0 0 ", "255 255 255 ff",
	}
	for i, s := range seeds {
		f.Add(s, seeds[(i+1)%len(seeds)], "mx.example.test", fx.ca.Cert.Raw, uint8(i))
	}
	f.Fuzz(func(t *testing.T, s1, s2, name string, extra []byte, order uint8) {
		var records []TLSA
		for _, s := range []string{s1, s2} {
			r, err := ParseTLSA(s)
			if err != nil {
				continue
			}
			back, err := ParseTLSA(r.String())
			if err != nil || back.String() != r.String() {
				t.Fatalf("round trip of %q: %q, %v", r, back, err)
			}
			if (r.Validate() != nil) != (r.Class() == ClassMalformed) {
				t.Fatalf("%v: Validate %v but class %v", r, r.Validate(), r.Class())
			}
			records = append(records, r)
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
		o := Options{Names: []string{name}}

		res := Evaluate(records, chain, o)
		if len(res.Records) != len(records) {
			t.Fatalf("%d results for %d records", len(res.Records), len(records))
		}
		for i, r := range records {
			if (res.Records[i].Outcome == Malformed) != (r.Validate() != nil) {
				t.Fatalf("%v: outcome %v, Validate %v", r, res.Records[i].Outcome, r.Validate())
			}
		}
		if want := sectionNineVerdict(res.Records); res.Verdict != want {
			t.Fatalf("%v: verdict %v, section 9 says %v (%+v)", records, res.Verdict, want, res.Records)
		}

		self := rec(DANEEE, fx.leaf, SelectorSPKI, MatchSHA256)
		withSelf := Evaluate(append(slices.Clone(records), self), chain, o)
		if got := withSelf.Records[len(records)]; got.Outcome != Matched || withSelf.Verdict == NoUsableRecords || withSelf.Verdict == Mismatch {
			t.Fatalf("leaf's own 3 1 1 beside %v: %+v", records, withSelf)
		}
		strong := append(slices.Clone(records), self, rec(DANEEE, fx.leaf, SelectorSPKI, MatchSHA512))
		if got := Evaluate(strong, chain, o); got.Verdict != Match {
			t.Fatalf("leaf's own 3 1 1 and 3 1 2 beside %v: verdict %v", records, got.Verdict)
		}

		p := &Policy{Mode: ModeEnforce, Names: o.Names, Records: records}
		c := p.Judge(chain, time.Time{})
		failure := res.Verdict == Mismatch || res.Verdict == DigestMismatch
		if c.Status.Failure() != failure || c.Failed() != failure || c.Result == nil || c.Detail == "" {
			t.Fatalf("%v: check %+v for verdict %v", records, c, res.Verdict)
		}
		if p.Applies() != (res.Verdict != NoUsableRecords) {
			t.Fatalf("%v: applies %v with verdict %v", records, p.Applies(), res.Verdict)
		}
	})
}

// sectionNineVerdict restates RFC 7671 section 9 record by record, for the
// fuzzer to hold verdict() to: per usage and selector, a sender keeps the
// full records and the records of the strongest digest published among the
// usable ones, and passes when a kept record matches.
func sectionNineVerdict(rs []RecordResult) Verdict {
	type group struct {
		u Usage
		s Selector
	}
	strongest := map[group]MatchingType{}
	usable, anyMatch := false, false
	for _, r := range rs {
		if r.Outcome != Matched && r.Outcome != NotMatched {
			continue
		}
		usable = true
		anyMatch = anyMatch || r.Outcome == Matched
		g := group{r.Record.Usage, r.Record.Selector}
		strongest[g] = max(strongest[g], r.Record.MatchingType)
	}
	if !usable {
		return NoUsableRecords
	}
	for _, r := range rs {
		if r.Outcome != Matched {
			continue
		}
		m := r.Record.MatchingType
		if m == MatchFull || m == strongest[group{r.Record.Usage, r.Record.Selector}] {
			return Match
		}
	}
	if anyMatch {
		return DigestMismatch
	}
	return Mismatch
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

// TestPolicy covers what the dialogue relies on: when DANE applies, how a
// judged chain becomes a status and words, and which statuses fail a probe.
func TestPolicy(t *testing.T) {
	f := fixtures()
	ee := rec(DANEEE, f.leaf, SelectorSPKI, MatchSHA256)
	next := rec(DANEEE, f.other, SelectorSPKI, MatchSHA256)
	ta := rec(DANETA, f.ca, SelectorSPKI, MatchSHA256)
	pkix := rec(PKIXEE, f.leaf, SelectorSPKI, MatchSHA256)
	policy := func(m Mode, rs ...TLSA) *Policy {
		return &Policy{Mode: m, TLSAName: "_25._tcp." + mxName, BaseDomain: mxName, Names: []string{mxName}, Records: rs}
	}

	named := func(p *Policy, names ...string) *Policy { p.Names = names; return p }

	applies := []struct {
		name string
		p    *Policy
		want bool
	}{
		{"nil", nil, false},
		{"usable records, enforce", policy(ModeEnforce, ee), true},
		{"usable records, report", policy(ModeReport, ee), true},
		{"usable records, off", policy(ModeOff, ee), false},
		{"PKIX records only", policy(ModeEnforce, pkix), false},
		{"no records", policy(ModeEnforce), false},
		{"decided by DNS", &Policy{Mode: ModeEnforce, Status: StatusTLSABogus, Records: []TLSA{ee}}, false},
	}
	for _, tt := range applies {
		if got := tt.p.Applies(); got != tt.want {
			t.Errorf("%s: Applies %v, want %v", tt.name, got, tt.want)
		}
	}

	judged := []struct {
		name   string
		p      *Policy
		chain  []*x509.Certificate
		status Status
		failed bool
		detail string
	}{
		{"3 1 1 match", policy(ModeEnforce, ee, next), chainOf(f.leaf), StatusPass, false,
			"1 of 2 usable TLSA records match the presented chain"},
		{"mismatch, enforce", policy(ModeEnforce, next), chainOf(f.leaf), StatusMismatch, true,
			"none of 1 usable TLSA records matches the presented chain"},
		{"mismatch, report", policy(ModeReport, next), chainOf(f.leaf), StatusMismatch, false,
			"none of 1 usable TLSA records matches the presented chain"},
		{"DANE-TA not sent", policy(ModeEnforce, ta), chainOf(f.leaf), StatusTANotSent, true,
			"the server does not send the trust anchor certificate its DANE-TA records name"},
		{"DANE-TA not sent beside a DANE-EE mismatch: a mismatch", policy(ModeEnforce, ta, next), chainOf(f.leaf), StatusMismatch, true,
			"none of 2 usable TLSA records matches the presented chain"},
		{"digest mismatch", policy(ModeEnforce, ee, rec(DANEEE, f.other, SelectorSPKI, MatchSHA512)), chainOf(f.leaf), StatusDigestMismatch, true,
			"a SHA2-256 record matches but the SHA2-512 records of the same usage and selector do not: senders that use the strongest digest fail"},
		{"DANE-TA with the wrong names: said why", named(policy(ModeEnforce, ta), "mx.other.test"), chainOf(f.leaf, f.ca), StatusMismatch, true,
			"none of 1 usable TLSA records matches the presented chain (DANE-TA 2 1 1: the leaf carries neither the TLSA base domain nor the MX host name)"},
		{"DANE-TA through an expired intermediate: said why", policy(ModeEnforce, rec(DANETA, f.root, SelectorSPKI, MatchSHA256)),
			chainOf(f.leafE, f.expInter, f.root), StatusMismatch, true,
			"none of 1 usable TLSA records matches the presented chain (DANE-TA 2 1 1: a certificate of the chain below its trust anchor is expired or not yet valid)"},
		{"DANE-TA of a CA that did not sign the leaf: said why", policy(ModeEnforce, rec(DANETA, f.ca2, SelectorSPKI, MatchSHA256)),
			chainOf(f.leaf, f.ca2), StatusMismatch, true,
			"none of 1 usable TLSA records matches the presented chain (DANE-TA 2 1 1: the presented chain does not lead from the leaf to its trust anchor)"},
		{"PKIX only: judged, never a failure", policy(ModeEnforce, pkix), chainOf(f.leaf), StatusNoUsableRecords, false,
			"no TLSA record is usable on port 25 (PKIX usages or malformed records): TLS without authentication"},
	}
	for _, tt := range judged {
		t.Run(tt.name, func(t *testing.T) {
			c := tt.p.Judge(tt.chain, time.Time{})
			if c.Status != tt.status || c.Failed() != tt.failed || c.Detail != tt.detail {
				t.Fatalf("check %+v, want status %q, failed %v, detail %q", c, tt.status, tt.failed, tt.detail)
			}
			if c.Result == nil || len(c.Result.Records) != len(tt.p.Records) || c.Mode != tt.p.Mode ||
				c.TLSAName != tt.p.TLSAName || c.BaseDomain != tt.p.BaseDomain {
				t.Fatalf("check %+v: want the policy's mode and names and a result per record", c)
			}
		})
	}

	d := policy(ModeReport).Decided(StatusNotReached, "why")
	if d.Status != StatusNotReached || d.Detail != "why" || d.Result != nil || d.Mode != ModeReport || d.BaseDomain != mxName {
		t.Fatalf("Decided: %+v", d)
	}
	var none *Check
	if none.Failed() {
		t.Fatal("a nil check failed")
	}

	var failures []Status
	for _, s := range Statuses {
		if s.Failure() {
			failures = append(failures, s)
		}
	}
	want := []Status{StatusMismatch, StatusTANotSent, StatusDigestMismatch, StatusTLSABogus, StatusTLSALookupFailed, StatusStartTLSMissing, StatusTLSFailed}
	if !slices.Equal(failures, want) {
		t.Fatalf("failure statuses %q, want %q", failures, want)
	}
}
