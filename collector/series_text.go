package collector

import (
	"math"
	"strconv"
	"strings"

	dto "github.com/prometheus/client_model/go"
)

// The text encoding of a gauge series, byte for byte as expfmt writes it in
// the Prometheus text format (version 0.0.4) for legacy-valid names, which
// all of ours are. TestFastPathEqualsRegistry holds the two together.

// appendRecs appends the lines of the entry's series recs[lo:hi] of family
// f.
func (es *entrySeries) appendRecs(b []byte, f fam, lo, hi int32) []byte {
	name := families[f].nameBrace
	domain := es.domain()
	// prefix is `name{PRE domain MID`, the same for runs of series.
	var scratch [256]byte
	var prefix []byte
	ls := &staticSets[0]
	last := ^uint32(0)
	for _, r := range es.recs[lo:hi] {
		if r.ls != last {
			pre, mid := ls.pre, ls.mid
			if r.ls < numStatic {
				ls = &staticSets[r.ls]
			} else {
				ls = es.dyn[r.ls-numStatic]
			}
			if last == ^uint32(0) || ls.pre != pre || ls.mid != mid {
				prefix = append(append(append(append(scratch[:0], name...), ls.pre...), domain...), ls.mid...)
			}
			last = r.ls
		}
		b = append(b, prefix...)
		b = append(b, es.text[es.subj[r.subj]:es.subj[r.subj+1]]...)
		b = append(b, ls.post...)
		b = append(b, '}', ' ')
		b = appendFloat(b, r.v)
		b = append(b, '\n')
	}
	return b
}

// appendUnlabelled appends the line of a series without labels.
func appendUnlabelled(b []byte, name string, v float64) []byte {
	b = append(b, name...)
	b = append(b, ' ')
	b = appendFloat(b, v)
	return append(b, '\n')
}

// appendEscaped escapes a label value: backslash, double quote, line feed.
func appendEscaped(b []byte, v string) []byte {
	if !strings.ContainsAny(v, "\\\"\n") {
		return append(b, v...)
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			b = append(b, '\\', '\\')
		case '"':
			b = append(b, '\\', '"')
		case '\n':
			b = append(b, '\\', 'n')
		default:
			b = append(b, c)
		}
	}
	return b
}

func appendFloat(b []byte, f float64) []byte {
	switch {
	case f == 1:
		return append(b, '1')
	case f == 0:
		return append(b, '0')
	case f == -1:
		return append(b, "-1"...)
	case math.IsNaN(f):
		return append(b, "NaN"...)
	case math.IsInf(f, +1):
		return append(b, "+Inf"...)
	case math.IsInf(f, -1):
		return append(b, "-Inf"...)
	case f == math.Trunc(f) && -1e6 < f && f < 1e6:
		// What 'g' gives for an integer below 1e6 (the shortest form
		// switches to an exponent at 1e6), without the float conversion.
		return strconv.AppendInt(b, int64(f), 10)
	}
	if out, ok := appendDecimal(b, f); ok {
		return out
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// appendDecimal appends what strconv.AppendFloat(b, f, 'g', -1, 64) does,
// faster, when |f| is a whole number of nanoseconds below 1e6 or of
// milliseconds below 1e12, as durations and timestamps are: f is then the
// float nearest to k/10^s for an integer k of at most 15 digits, and no
// other decimal of at most 15 significant digits has the same nearest
// float, so k/10^s is the shortest decimal that reads back as f.
func appendDecimal(b []byte, f float64) ([]byte, bool) {
	a := math.Abs(f)
	var scale float64
	var sd int // digits after the point of k/scale
	switch {
	case a < 1e6:
		scale, sd = 1e9, 9
	case a < 1e12:
		scale, sd = 1e3, 3
	default:
		return b, false
	}
	k := math.Round(a * scale)
	if k >= 1e15 || k/scale != a {
		return b, false
	}
	var buf [20]byte
	d := strconv.AppendUint(buf[:0], uint64(k), 10)
	dp := len(d) - sd // a is 0.d × 10^dp
	for len(d) > 1 && d[len(d)-1] == '0' {
		d = d[:len(d)-1]
	}
	if f < 0 {
		b = append(b, '-')
	}
	// As strconv: %e when the exponent is below -4 or at least 6 (the
	// precision it takes for the shortest form), else %f.
	if exp := dp - 1; exp < -4 || exp >= 6 {
		b = append(b, d[0])
		if len(d) > 1 {
			b = append(b, '.')
			b = append(b, d[1:]...)
		}
		b = append(b, 'e', '+')
		if exp < 0 {
			b[len(b)-1] = '-'
			exp = -exp
		}
		if exp < 10 {
			b = append(b, '0')
		}
		return strconv.AppendInt(b, int64(exp), 10), true
	}
	switch {
	case dp <= 0:
		b = append(b, '0', '.')
		for range -dp {
			b = append(b, '0')
		}
		b = append(b, d...)
	case dp >= len(d):
		b = append(b, d...)
		for range dp - len(d) {
			b = append(b, '0')
		}
	default:
		b = append(b, d[:dp]...)
		b = append(b, '.')
		b = append(b, d[dp:]...)
	}
	return b, true
}

// header is the HELP and TYPE lines of a family.
func header(name, help string, typ dto.MetricType) []byte {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	return []byte("# HELP " + name + " " + help + "\n# TYPE " + name + " " + strings.ToLower(typ.String()) + "\n")
}
