package config

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// decoder fills the config types from a yaml.Node tree, by reflection over
// their yaml tags. yaml.v3's Decoder would do the same, but its errors name
// neither the key path nor, for type errors, a line we could map to a key;
// KnownFields stops at the first unknown key, and decoding into a Node does
// not reject duplicate keys. Walking the tree ourselves gives all of that
// and records where each key is, for the validation that follows.
type decoder struct {
	ctx  context.Context // ends a long decode early; see stopped
	file string
	errs errorList
	pos  map[string]int // key path → line of the key (or of the list item)
	// failedAt holds every path at or above a decode error: the validator
	// asks it, once per check, whether a value is a leftover default.
	// Scanning the errors instead made a file of n wrong items cost n².
	failedAt map[string]bool
	// validating is set once decoding is done: the validator's errors
	// go to errs but do not mark paths as failed.
	validating bool
	// stopped is set when ctx ended during decoding.
	stopped bool

	merged  map[*yaml.Node][]pair // expanded "<<" merges, each mapping once
	merging map[*yaml.Node]bool   // mappings being expanded, against cycles
	// structs caches fields per struct type: a list of a million targets
	// is one Target type, not a million maps of its keys.
	structs map[reflect.Type]structFields
}

type pair struct{ key, val *yaml.Node }

func newDecoder(ctx context.Context, file string) *decoder {
	return &decoder{
		ctx:      ctx,
		file:     file,
		pos:      map[string]int{},
		failedAt: map[string]bool{},
		merged:   map[*yaml.Node][]pair{},
		merging:  map[*yaml.Node]bool{},
		structs:  map[reflect.Type]structFields{},
	}
}

func (d *decoder) errorf(line int, path, format string, args ...any) {
	if !d.validating {
		d.markFailed(path)
	}
	if !d.errs.keeps(line) {
		d.errs.dropped++ // not among the first by line: count it, skip the text
		return
	}
	d.errs.add(&Error{File: d.file, Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// markFailed records path and every path above it ("targets[3].domain":
// also "targets[3]" and "targets") in failedAt. Cutting at each "." and
// "[" is the same test as a prefix match on the error's path.
func (d *decoder) markFailed(path string) {
	d.failedAt[path] = true
	for i := len(path) - 1; i >= 0; i-- {
		if path[i] == '.' || path[i] == '[' {
			d.failedAt[path[:i]] = true
		}
	}
}

// cancelled reports whether ctx has ended, and stops decoding if so.
func (d *decoder) cancelled() bool {
	if !d.stopped && d.ctx.Err() != nil {
		d.stopped = true
	}
	return d.stopped
}

// document parses data and returns the root node of its only document, or
// nil for an empty one. Syntax errors end the parse: the tree is unusable.
func (d *decoder) document(data []byte) (*yaml.Node, error) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, nil // empty, or only comments
		}
		return nil, d.syntaxError(data, err)
	}
	var next yaml.Node
	switch err := dec.Decode(&next); {
	case errors.Is(err, io.EOF):
	case err != nil:
		return nil, d.syntaxError(data, err)
	default:
		return nil, Errors{{File: d.file, Line: next.Line, Msg: "a second YAML document; the config is a single document"}}
	}
	if len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if isNull(resolve(root)) {
		return nil, nil // "---" alone
	}
	d.pos[""] = root.Line
	return root, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)
var unknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// syntaxError rewrites yaml.v3's "yaml: line 5: did not find expected key"
// into our format. Where yaml.v3 gives no line, find one for the errors whose
// cause we can locate; the line of a syntax error is yaml.v3's best guess,
// which is sometimes the line before.
func (d *decoder) syntaxError(data []byte, err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = m[2]
	} else {
		if m := unknownAnchor.FindStringSubmatch(msg); m != nil {
			if i := bytes.Index(data, []byte("*"+m[1])); i >= 0 {
				line = lineAt(data, i)
			}
		} else if strings.Contains(msg, "UTF-8") {
			if i := firstInvalidUTF8(data); i >= 0 {
				line = lineAt(data, i)
			}
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
	}
	return Errors{{File: d.file, Line: line, Msg: "invalid YAML: " + msg}}
}

func lineAt(data []byte, offset int) int {
	return bytes.Count(data[:offset], []byte("\n")) + 1
}

func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return -1
}

func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n == nil || n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe says what a node is, for "must be X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	v := n.Value
	if utf8.RuneCountInString(v) > 40 {
		v = string([]rune(v)[:40]) + "…"
	}
	return strconv.Quote(v)
}

// defaulter is a type whose zero value is not its default. The decoder calls
// setDefaults on each one it allocates, before filling in the keys present,
// so that an absent (or null) key keeps its default.
type defaulter interface{ setDefaults() }

var durationType = reflect.TypeFor[time.Duration]()

// decode stores n into v (addressable), reporting errors under path.
func (d *decoder) decode(n *yaml.Node, path string, v reflect.Value) {
	n = resolve(n)
	if v.Kind() == reflect.Pointer {
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
			if def, ok := v.Interface().(defaulter); ok {
				def.setDefaults()
			}
		}
		d.decode(n, path, v.Elem())
		return
	}
	if isNull(n) {
		return // "key:" or "key: ~" means the default
	}
	line := n.Line
	if v.Type() == durationType {
		if n.Kind != yaml.ScalarNode {
			d.errorf(line, path, "must be a duration like 10s or 1m30s, got %s", describe(n))
			return
		}
		dur, err := time.ParseDuration(n.Value)
		if err != nil {
			d.errorf(line, path, "invalid duration %s (use Go durations like 10s, 1m30s)", describe(n))
			return
		}
		v.SetInt(int64(dur))
		return
	}
	switch v.Kind() {
	case reflect.String:
		if n.Kind != yaml.ScalarNode {
			d.errorf(line, path, "must be a string, got %s", describe(n))
			return
		}
		v.SetString(n.Value)
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.errorf(line, path, "must be an integer, got %s", describe(n))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.errorf(line, path, "must be true or false, got %s", describe(n))
			return
		}
		v.SetBool(b)
	case reflect.Slice:
		d.list(n, path, v)
	case reflect.Map:
		d.dict(n, path, v)
	case reflect.Struct:
		d.structure(n, path, v)
	default:
		panic(fmt.Sprintf("config: no decoder for %s at %s", v.Type(), path))
	}
}

func (d *decoder) list(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		d.errorf(n.Line, path, "must be a list, got %s", describe(n))
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if i%1024 == 0 && d.cancelled() {
			return
		}
		p := joinIndex(path, i)
		d.pos[p] = item.Line
		d.decode(item, p, s.Index(i))
	}
	v.Set(s)
}

// dict decodes a mapping with keys of the user's choosing (module names).
func (d *decoder) dict(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping, got %s", describe(n))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	seen := map[string]int{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.key(p.key, path, seen)
		if !ok {
			continue
		}
		kp := joinKey(path, key)
		d.pos[kp] = p.key.Line
		elem := reflect.New(v.Type().Elem()).Elem()
		d.decode(p.val, kp, elem)
		v.SetMapIndex(reflect.ValueOf(key), elem)
	}
}

func (d *decoder) structure(n *yaml.Node, path string, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.errorf(n.Line, path, "must be a mapping, got %s", describe(n))
		return
	}
	sf, ok := d.structs[v.Type()]
	if !ok {
		sf.names, sf.index = fields(v.Type())
		d.structs[v.Type()] = sf
	}
	names, index := sf.names, sf.index
	seen := map[string]int{}
	for _, p := range d.pairs(n, path) {
		key, ok := d.key(p.key, path, seen)
		if !ok {
			continue
		}
		kp := joinKey(path, key)
		i, known := index[key]
		if !known {
			d.errorf(p.key.Line, kp, "unknown key%s", suggest(key, names))
			continue
		}
		d.pos[kp] = p.key.Line
		d.decode(p.val, kp, v.Field(i))
	}
}

// key checks a mapping key: a scalar, not seen before in this mapping.
func (d *decoder) key(k *yaml.Node, path string, seen map[string]int) (string, bool) {
	k = resolve(k)
	if k.Kind != yaml.ScalarNode {
		d.errorf(k.Line, path, "keys must be strings, got %s", describe(k))
		return "", false
	}
	if first, dup := seen[k.Value]; dup {
		d.errorf(k.Line, joinKey(path, k.Value), "duplicate key (first on line %d)", first)
		return "", false
	}
	seen[k.Value] = k.Line
	return k.Value, true
}

// pairs returns the entries of mapping n with YAML merge keys ("<<: *base")
// expanded, the way people share settings between modules: keys written in
// n win over merged ones, and an earlier merged mapping over a later one.
// Duplicate explicit keys are kept, for key() to report.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	if ps, ok := d.merged[n]; ok {
		return ps
	}
	if d.merging[n] {
		d.errorf(n.Line, path, "merge (<<) includes the mapping itself")
		return nil
	}
	d.merging[n] = true
	defer delete(d.merging, n)

	var explicit []pair
	var merged [][]pair
	hasMerge := false
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if !isMergeKey(k) {
			explicit = append(explicit, pair{k, val})
			continue
		}
		hasMerge = true
		switch src := resolve(val); src.Kind {
		case yaml.MappingNode:
			merged = append(merged, d.pairs(src, path))
		case yaml.SequenceNode:
			for _, item := range src.Content {
				if item = resolve(item); item.Kind == yaml.MappingNode {
					merged = append(merged, d.pairs(item, path))
				} else {
					d.errorf(item.Line, path, "merge (<<) needs mappings, got %s", describe(item))
				}
			}
		default:
			d.errorf(src.Line, path, "merge (<<) needs a mapping or a list of mappings, got %s", describe(src))
		}
	}
	if !hasMerge {
		// Not cached: listing n's own keys again costs no more than
		// decoding them, and a cache entry per mapping of a large
		// file is memory held until the end.
		return explicit
	}
	if len(merged) == 0 {
		d.merged[n] = explicit // the merge errors are reported once
		return explicit
	}
	have := map[string]bool{}
	for _, p := range explicit {
		if p.key.Kind == yaml.ScalarNode {
			have[p.key.Value] = true
		}
	}
	out := explicit
	for _, ps := range merged {
		for _, p := range ps {
			if p.key.Kind == yaml.ScalarNode && !have[p.key.Value] {
				have[p.key.Value] = true
				out = append(out, p)
			}
		}
	}
	d.merged[n] = out
	return out
}

// hasListKey reports whether mapping n has key, written in it rather than
// merged in, with a list (an empty one too) for its value.
func hasListKey(n *yaml.Node, key string) bool {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		return false
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := resolve(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return resolve(n.Content[i+1]).Kind == yaml.SequenceNode
		}
	}
	return false
}

func isMergeKey(k *yaml.Node) bool {
	return k.Kind == yaml.ScalarNode && k.Value == "<<" && k.ShortTag() == "!!merge"
}

type structFields struct {
	names []string
	index map[string]int
}

// fields maps the yaml names of a struct's fields to their indexes, and
// lists the names in declaration order for suggestions.
func fields(t reflect.Type) ([]string, map[string]int) {
	var names []string
	index := map[string]int{}
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" || name == "" {
			continue
		}
		names = append(names, name)
		index[name] = i
	}
	return names, index
}
