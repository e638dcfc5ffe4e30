package collector

import (
	"math"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"
)

// TestAppendFloat: the text path formats values as expfmt does, which is
// strconv's shortest 'g' but for a few special values.
func TestAppendFloat(t *testing.T) {
	values := []float64{
		0, 1, -1, 2, 0.5, 0.1, 0.001, 0.0001, 0.00001, 1e-9, 3e-9, 123456, 999999, 1e6, -1e6, 1234567,
		1e12, 1e15, 1e21, 1e22, 1.5e300, 5e-324, math.MaxFloat64, math.SmallestNonzeroFloat64,
		0.12345678912, 52428800, 1.7487756e+09, 1748775600.131, 999999.999999999, 0.000099999,
		math.Inf(1), math.Inf(-1), math.NaN(), math.Copysign(0, -1), math.Nextafter(0.1, 1), math.Nextafter(1e6, 0),
	}
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		ns := time.Duration(rnd.Int64N(int64(1000 * time.Second)))
		ms := time.UnixMilli(rnd.Int64N(1 << 42))
		values = append(values,
			ns.Seconds(), -ns.Seconds(), (ns / time.Microsecond * time.Microsecond).Seconds(),
			(ns / time.Millisecond * time.Millisecond).Seconds(), unixSeconds(ms),
			float64(rnd.Int64N(1<<53))/1e9, float64(rnd.Int64N(1<<40))/1e3,
			rnd.Float64(), rnd.NormFloat64()*1e6, math.Float64frombits(rnd.Uint64()),
			math.Pow(10, float64(rnd.IntN(40)-20))*float64(rnd.IntN(1000)),
		)
	}
	for _, v := range values {
		var want []byte
		switch {
		case math.IsNaN(v):
			want = []byte("NaN")
		case math.IsInf(v, 1):
			want = []byte("+Inf")
		case v == 0:
			want = []byte("0")
		default:
			want = strconv.AppendFloat(nil, v, 'g', -1, 64)
		}
		if got := appendFloat(nil, v); string(got) != string(want) {
			t.Fatalf("appendFloat(%b): want %s, got %s", v, want, got)
		}
	}
}
