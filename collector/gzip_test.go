package collector

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"net/http/httptest"
	"strconv"
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
		// One chunk is written without workers: the same errors.
		if err := writeChunks(&failAfter{5}, 1, encodeTestChunk, gz); !errors.Is(err, io.ErrClosedPipe) {
			t.Fatalf("gzip %v, one chunk, writer failing: want %v, got %v", gz, io.ErrClosedPipe, err)
		}
		first := func(f func([]byte, int) ([]byte, error)) func([]byte, int) ([]byte, error) {
			return func(b []byte, c int) ([]byte, error) { return f(b, c+42) }
		}
		if err := writeChunks(io.Discard, 1, first(failing), gz); !errors.Is(err, errEncode) {
			t.Fatalf("gzip %v, one chunk failing: want %v, got %v", gz, errEncode, err)
		}
		if err := writeChunks(io.Discard, 1, first(panicking), gz); err == nil || !strings.Contains(err.Error(), "boom") {
			t.Fatalf("gzip %v, one chunk panicking: want an error saying boom, got %v", gz, err)
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

// TestOneChunkCompression: an answer of one chunk goes out with its
// Content-Length, compressed only when the client accepts gzip and the
// answer is at least compressMin bytes.
func TestOneChunkCompression(t *testing.T) {
	for _, tc := range []struct {
		size   int
		accept bool
		want   string // Content-Encoding
	}{
		{100, true, ""},
		{compressMin - 1, true, ""},
		{compressMin, true, "gzip"},
		{4 * compressMin, true, "gzip"},
		{4 * compressMin, false, ""},
	} {
		text := strings.Repeat("mx_probe_success{target=\"a\"} 1\n", tc.size/31+1)[:tc.size]
		rec := httptest.NewRecorder()
		encode := func(b []byte, _ int) ([]byte, error) { return append(b, text...), nil }
		if err := writeOneChunk(rec, rec.Header(), encode, tc.accept); err != nil {
			t.Fatalf("%d bytes: %v", tc.size, err)
		}
		enc, body := rec.Header().Get("Content-Encoding"), rec.Body.Bytes()
		if enc != tc.want {
			t.Fatalf("%d bytes, gzip accepted %v: Content-Encoding %q, want %q", tc.size, tc.accept, enc, tc.want)
		}
		if cl := rec.Header().Get("Content-Length"); cl != strconv.Itoa(len(body)) {
			t.Fatalf("%d bytes: Content-Length %q, body %d bytes", tc.size, cl, len(body))
		}
		if enc == "gzip" {
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if body, err = io.ReadAll(zr); err != nil {
				t.Fatal(err)
			}
		}
		if string(body) != text {
			t.Fatalf("%d bytes: the answer differs from the text", tc.size)
		}
	}
}
