package collector

import (
	"compress/flate"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
	"net/http"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
)

// maxWorkers bounds the goroutines that encode and compress one response.
const maxWorkers = 4

// writeChunks writes the n chunks that encode makes (chunk c appended to
// the buffer it is given) to w in order. The chunks are made, and with gz
// compressed, by up to maxWorkers goroutines, and written as they come: a
// response keeps a few chunks in memory, never all of it.
//
// With gz, the output is one gzip member whose deflate stream is the chunks
// compressed independently: each ends on a sync flush, so they concatenate.
// A panic of encode becomes an error of the response, as net/http would
// make it of a handler, instead of ending the process.
func writeChunks(w io.Writer, n int, encode func(b []byte, c int) ([]byte, error), gz bool) error {
	if n == 1 {
		return writeOneChunk(w, nil, encode, gz)
	}
	workers := min(runtime.GOMAXPROCS(0), maxWorkers, n)
	stop := make(chan struct{})
	results := make([]chan *chunk, workers)
	var wg sync.WaitGroup
	for wk := range workers {
		ch := make(chan *chunk, 2)
		results[wk] = ch
		wg.Go(func() {
			var fw *flate.Writer
			if gz {
				fw = flatePool.Get().(*flate.Writer)
				defer flatePool.Put(fw)
			}
			for c := wk; c < n; c += workers {
				select {
				case <-stop:
					return
				default:
				}
				ck := chunkPool.Get().(*chunk)
				ck.text, ck.err = safeEncode(encode, ck.text[:0], c)
				if gz && ck.err == nil {
					ck.zip = ck.zip[:0]
					fw.Reset(ck)
					if _, ck.err = fw.Write(ck.text); ck.err == nil {
						ck.err = fw.Flush()
					}
				}
				select {
				case ch <- ck:
				case <-stop:
					chunkPool.Put(ck)
					return
				}
			}
		})
	}

	var err error
	var crc, size uint32
	if gz {
		_, err = w.Write(gzipHeader)
	}
	for c := 0; c < n && err == nil; c++ {
		ck := <-results[c%workers]
		switch {
		case ck.err != nil:
			err = ck.err
		case gz:
			crc = crc32.Update(crc, crc32.IEEETable, ck.text)
			size += uint32(len(ck.text))
			_, err = w.Write(ck.zip)
		default:
			_, err = w.Write(ck.text)
		}
		chunkPool.Put(ck)
	}
	close(stop)
	wg.Wait()
	for _, ch := range results {
		for len(ch) > 0 {
			chunkPool.Put(<-ch)
		}
	}
	if err == nil && gz {
		trailer := binary.LittleEndian.AppendUint32(binary.LittleEndian.AppendUint32(slices.Clone(flateEnd), crc), size)
		_, err = w.Write(trailer)
	}
	return err
}

// writeOneChunk is writeChunks of a single chunk (a /probe answer, a
// small /metrics), encoded where it is written: workers would only add
// goroutine hand-overs. With h (the response's header, nil when the caller
// set it) the answer goes out in one write with its Content-Length, and is
// compressed only from compressMin bytes on: below, deflate costs more CPU
// than the bytes it saves cost to send.
func writeOneChunk(w io.Writer, h http.Header, encode func(b []byte, c int) ([]byte, error), gz bool) error {
	ck := chunkPool.Get().(*chunk)
	defer chunkPool.Put(ck)
	var err error
	if ck.text, err = safeEncode(encode, ck.text[:0], 0); err != nil {
		return err
	}
	out := ck.text
	if h != nil {
		gz = gz && len(ck.text) >= compressMin
	}
	if gz {
		fw := flatePool.Get().(*flate.Writer)
		defer flatePool.Put(fw)
		ck.zip = append(ck.zip[:0], gzipHeader...)
		fw.Reset(ck)
		if _, err = fw.Write(ck.text); err == nil {
			err = fw.Close()
		}
		if err != nil {
			return err
		}
		ck.zip = binary.LittleEndian.AppendUint32(ck.zip, crc32.ChecksumIEEE(ck.text))
		out = binary.LittleEndian.AppendUint32(ck.zip, uint32(len(ck.text)))
	}
	if h != nil {
		if gz {
			h.Set("Content-Encoding", "gzip")
		}
		h.Set("Content-Length", strconv.Itoa(len(out)))
	}
	_, err = w.Write(out)
	return err
}

// compressMin is the size from which a one-chunk answer is compressed.
const compressMin = 16 << 10

func safeEncode(encode func(b []byte, c int) ([]byte, error), b []byte, c int) (out []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = b, fmt.Errorf("encoding metrics: panic: %v", r)
		}
	}()
	return encode(b, c)
}

// chunk is one encoded chunk on its way to the writer.
type chunk struct {
	text []byte
	zip  []byte // text as deflate blocks, when compressing
	err  error
}

func (c *chunk) Write(p []byte) (int, error) {
	c.zip = append(c.zip, p...)
	return len(p), nil
}

var (
	chunkPool = sync.Pool{New: func() any { return new(chunk) }}
	flatePool = sync.Pool{New: func() any { w, _ := flate.NewWriter(nil, flate.BestSpeed); return w }}

	// gzip member header (no name, no time, fastest compression, unknown
	// OS) and the final empty deflate block.
	gzipHeader = []byte{0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 4, 255}
	flateEnd   = func() []byte {
		var c chunk
		w, _ := flate.NewWriter(&c, flate.BestSpeed)
		_ = w.Close()
		return c.zip
	}()
)

// acceptsGzip reports whether an Accept-Encoding header allows gzip.
func acceptsGzip(h string) bool {
	for part := range strings.SplitSeq(h, ",") {
		coding, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if !strings.EqualFold(strings.TrimSpace(coding), "gzip") && strings.TrimSpace(coding) != "*" {
			continue
		}
		q := strings.ReplaceAll(params, " ", "")
		if q == "q=0" || strings.HasPrefix(q, "q=0.0") && strings.Trim(q[len("q=0."):], "0") == "" || q == "q=0." {
			return false
		}
		return true
	}
	return false
}
