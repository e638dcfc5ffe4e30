package config

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Error is one problem in a config file. Its text has one stable shape,
//
//	mx.yml:12: modules.default.starttls: must be one of off, opportunistic, required, got "sometimes"
//
// so that editors can jump to it and tests can compare it whole.
type Error struct {
	File string // as given to Load or Parse; "" is shown as "<config>"
	Line int    // 1-based; 0 when YAML gave no position
	Path string // key path, e.g. "targets[1].domain" (0-based indexes); "" for the whole file
	Msg  string
}

// MaxErrorText is the most bytes of one error's text: a key or path the
// user wrote can be megabytes long, and the text goes into a log line.
const MaxErrorText = 512

func (e *Error) Error() string {
	var b strings.Builder
	if e.File == "" {
		b.WriteString("<config>")
	} else {
		b.WriteString(e.File)
	}
	if e.Line > 0 {
		b.WriteString(":")
		b.WriteString(strconv.Itoa(e.Line))
	}
	b.WriteString(": ")
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return truncateText(b.String(), MaxErrorText)
}

// truncateText cuts s to at most limit bytes, on a rune boundary, and says so
// with "…".
func truncateText(s string, limit int) string {
	if len(s) <= limit {
		return s
	}
	const ellipsis = "…"
	cut := limit - len(ellipsis)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + ellipsis
}

// Errors is the problems found in one file, sorted by line. Parse and Load
// return it (never empty) so that a user fixes a file in one round, not one
// error per reload. It holds at most MaxErrors of them, the first by line;
// when there were more, a last Error without line or path says "and N more
// errors".
type Errors []*Error

// MaxErrors is the most errors Parse reports one by one. A file of a
// million wrong items would otherwise give a million errors: memory while
// they are collected, and a log line of many megabytes.
const MaxErrors = 20

// errorList collects errors, keeping only the MaxErrors first by line and
// counting the rest, so that its memory stays bounded however many there
// are.
type errorList struct {
	kept    Errors // in order of discovery, or sorted by line after a trim
	dropped int
	// cutoff is set once MaxErrors are kept after a trim: an error on
	// this line or later would be dropped (an equal line loses to the
	// kept error found before it).
	cutoff int
}

// keeps reports whether an error on line could still be among the first
// MaxErrors, so that a caller can skip formatting one that cannot.
func (l *errorList) keeps(line int) bool {
	return l.cutoff == 0 || line < l.cutoff
}

func (l *errorList) add(e *Error) {
	l.kept = append(l.kept, e)
	// Trimming once per MaxErrors additions keeps the cost linear: each
	// trim sorts at most 2*MaxErrors errors. The sort is stable and the
	// kept errors were found before the new ones, so equal lines stay in
	// discovery order, as a single sort of all errors would have them.
	if len(l.kept) >= 2*MaxErrors {
		l.trim()
	}
}

func (l *errorList) trim() {
	l.kept.sort()
	if len(l.kept) > MaxErrors {
		l.dropped += len(l.kept) - MaxErrors
		clear(l.kept[MaxErrors:])
		l.kept = l.kept[:MaxErrors]
	}
	if len(l.kept) == MaxErrors {
		l.cutoff = l.kept[MaxErrors-1].Line
	}
}

func (l *errorList) len() int { return len(l.kept) + l.dropped }

// result returns the errors for Parse, with the "and N more" line, or nil.
func (l *errorList) result(file string) Errors {
	if l.len() == 0 {
		return nil
	}
	l.trim()
	out := l.kept
	if l.dropped > 0 {
		out = append(out, &Error{File: file, Msg: fmt.Sprintf("and %d more errors", l.dropped)})
	}
	return out
}

// Error puts one error on each line.
func (es Errors) Error() string {
	lines := make([]string, len(es))
	for i, e := range es {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap lets errors.As find an *Error in the list.
func (es Errors) Unwrap() []error {
	out := make([]error, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

func (es Errors) sort() {
	sort.SliceStable(es, func(i, j int) bool { return es[i].Line < es[j].Line })
}

// joinKey appends a mapping key to a path, quoting keys that would make the
// path ambiguous (module names are the user's).
func joinKey(path, key string) string {
	if !plainKey(key) {
		key = strconv.Quote(key)
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

func joinIndex(path string, i int) string {
	return path + "[" + strconv.Itoa(i) + "]"
}

func plainKey(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// suggest returns ` (did you mean "x"?)` for the candidate nearest to s, when
// it is near enough to be a typo rather than a different word.
func suggest(s string, candidates []string) string {
	best, bestDist := "", 3
	for _, c := range candidates {
		d := editDistance(strings.ToLower(s), c)
		limit := 2
		if len(c) <= 4 {
			limit = 1
		}
		if d <= limit && d < bestDist {
			best, bestDist = c, d
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

// editDistance is the optimal string alignment distance: Levenshtein plus
// transposition of neighbours, the commonest typo ("domian").
func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30 // not a typo of a key; and keeps fuzzed keys cheap
	}
	ra, rb := []rune(a), []rune(b)
	// d[i][j] is the distance between ra[:i] and rb[:j].
	d := make([][]int, len(ra)+1)
	for i := range d {
		d[i] = make([]int, len(rb)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(ra); i++ {
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(ra)][len(rb)]
}
