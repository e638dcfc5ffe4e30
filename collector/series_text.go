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

// appendText appends the line of one gauge series.
func appendText(b []byte, name string, labels []*dto.LabelPair, v float64) []byte {
	b = append(b, name...)
	if len(labels) > 0 {
		sep := byte('{')
		for _, l := range labels {
			b = append(b, sep)
			b = append(b, l.GetName()...)
			b = append(b, '=', '"')
			b = appendEscaped(b, l.GetValue())
			b = append(b, '"')
			sep = ','
		}
		b = append(b, '}')
	}
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
	}
	return strconv.AppendFloat(b, f, 'g', -1, 64)
}

// header is the HELP and TYPE lines of a family.
func header(name, help string, typ dto.MetricType) []byte {
	help = strings.NewReplacer(`\`, `\\`, "\n", `\n`).Replace(help)
	return []byte("# HELP " + name + " " + help + "\n# TYPE " + name + " " + strings.ToLower(typ.String()) + "\n")
}
