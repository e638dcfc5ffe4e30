package collector

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The text encoding of a gauge series, as expfmt writes it in the
// Prometheus text format (version 0.0.4) for legacy-valid names, which all
// of ours are. TestFastPathEqualsRegistry holds the two together.

// appendFamily appends the lines of the entry's series of family f.
func (es *entrySeries) appendFamily(b []byte, f fam) []byte {
	def := families[f]
	for _, r := range es.recs[es.off[f]:es.off[f+1]] {
		subj := &es.subjects[r.subj]
		var others string
		if def.others > 0 && r.tuple < uint32(len(es.tuples)) {
			others = es.tuples[r.tuple].Value()
		}
		for i, sl := range def.slots {
			b = append(b, def.lit[i]...)
			if sl == slotOther {
				var v string
				v, others, _ = strings.Cut(others, tupleSep)
				b = append(b, v...)
			} else {
				b = append(b, es.text[subj[sl].lo:subj[sl].hi]...)
			}
		}
		b = append(b, def.end...)
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

// appendEscaped appends a label value as the exposition writes it:
// backslash, double quote and line feed escaped, and invalid UTF-8 made
// valid (the emitted values are valid already; the cache relies on it).
func appendEscaped(b []byte, v string) []byte {
	plain := true
	for i := 0; i < len(v) && plain; i++ {
		c := v[i]
		plain = c != '\\' && c != '"' && c != '\n' && c < utf8.RuneSelf
	}
	if plain {
		return append(b, v...)
	}
	v = strings.ToValidUTF8(v, "\uFFFD")
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

// header is the HELP and TYPE lines of a gauge family.
func header(name, help string) []byte {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	return []byte("# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n")
}
