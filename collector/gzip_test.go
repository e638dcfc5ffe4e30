package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// chunkText is the text of chunk c in these tests: lines of varying length,
// so that chunks compress differently.
func chunkText(c int) string {
	return strings.Repeat(fmt.Sprintf("chunk %d of the exposition\n", c), 1+c%7*100)
}

func encodeTestChunk(b []byte, c int) ([]byte, error) { return append(b, chunkText(c)...), nil }

// TestWriteChunks: the chunks arrive in order, and compressed they make one
// valid gzip member (its CRC and size checked by the reader).
func TestWriteChunks(t *testing.T) {
	for _, n := range []int{0, 1, 2, 7, 100} {
		var want strings.Builder
		for c := range n {
			want.WriteString(chunkText(c))
		}
		for _, gz := range []bool{false, true} {
			var out bytes.Buffer
			if err := writeChunks(&out, n, encodeTestChunk, gz); err != nil {
				t.Fatalf("%d chunks, gzip %v: %v", n, gz, err)
			}
			got := out.Bytes()
			if gz {
				zr, err := gzip.NewReader(&out)
				if err != nil {
					t.Fatalf("%d chunks: gzip header: %v", n, err)
				}
				if got, err = io.ReadAll(zr); err != nil {
					t.Fatalf("%d chunks: gunzip: %v", n, err)
				}
			}
			if string(got) != want.String() {
				t.Fatalf("%d chunks, gzip %v: want %d bytes of the chunks in order, got %d bytes that differ", n, gz, want.Len(), len(got))
			}
		}
	}
}

// failAfter accepts n bytes, then fails.
type failAfter struct{ n int }

func (w *failAfter) Write(p []byte) (int, error) {
	if len(p) > w.n {
		return 0, io.ErrClosedPipe
	}
	w.n -= len(p)
	return len(p), nil
}

// TestWriteChunksErrors: an error of the writer (a scraper that went away),
// of encode, or a panic of encode ends the response and is returned.
func TestWriteChunksErrors(t *testing.T) {
	errEncode := errors.New("encode failed")
	for _, gz := range []bool{false, true} {
		for _, n := range []int{0, 5, 1000} {
			if err := writeChunks(&failAfter{n}, 100, encodeTestChunk, gz); !errors.Is(err, io.ErrClosedPipe) {
				t.Fatalf("gzip %v, writer failing after %d bytes: want %v, got %v", gz, n, io.ErrClosedPipe, err)
			}
		}
		failing := func(b []byte, c int) ([]byte, error) {
			if c == 42 {
				return b, errEncode
			}
			return encodeTestChunk(b, c)
		}
		if err := writeChunks(io.Discard, 100, failing, gz); !errors.Is(err, errEncode) {
			t.Fatalf("gzip %v, chunk 42 failing: want %v, got %v", gz, errEncode, err)
		}
		panicking := func(b []byte, c int) ([]byte, error) {
			if c == 42 {
				panic("boom")
			}
			return encodeTestChunk(b, c)
		}
		if err := writeChunks(io.Discard, 100, panicking, gz); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("gzip %v, chunk 42 panicking: want an error saying boom, got %v", gz, err)
		}
	}
}

func TestAcceptsGzip(t *testing.T) {
	for _, tc := range []struct {
		header string
		want   bool
	}{
		{"", false},
		{"gzip", true},
		{"GZIP", true},
		{"deflate, gzip;q=1.0, *;q=0.5", true},
		{"zstd", false},
		{"gzip;q=0", false},
		{"gzip; q=0.000", false},
		{"gzip;q=0.001", true},
		{"*", true},
	} {
		if got := acceptsGzip(tc.header); got != tc.want {
			t.Fatalf("Accept-Encoding %q: want %v, got %v", tc.header, tc.want, got)
		}
	}
}
