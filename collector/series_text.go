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
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// header is the HELP and TYPE lines of a family.
func header(name, help string, typ dto.MetricType) []byte {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	return []byte("# HELP " + name + " " + help + "\n# TYPE " + name + " " + strings.ToLower(typ.String()) + "\n")
}
