package deploy

// The Grafana dashboard, as its tests read it: here and in the end-to-end
// test of cmd/mx_exporter, which runs every query against a real Prometheus
// that scrapes the daemon.

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
)

type dashDatasource struct {
	Type string `json:"type"`
	UID  string `json:"uid"`
}

type dashTarget struct {
	Expr       string          `json:"expr"`
	RefID      string          `json:"refId"`
	Datasource *dashDatasource `json:"datasource"`
}

type dashPanel struct {
	ID         int             `json:"id"`
	Type       string          `json:"type"`
	Title      string          `json:"title"`
	Datasource *dashDatasource `json:"datasource"`
	GridPos    struct{ H, W, X, Y int }
	Targets    []dashTarget `json:"targets"`
	Panels     []dashPanel  `json:"panels"` // a collapsed row's panels
}

type dashVariable struct {
	Name       string          `json:"name"`
	Type       string          `json:"type"`
	Query      json.RawMessage `json:"query"`
	Definition string          `json:"definition"`
	IncludeAll bool            `json:"includeAll"`
	AllValue   string          `json:"allValue"`
	Datasource *dashDatasource `json:"datasource"`
	Current    struct {
		Value json.RawMessage `json:"value"`
	} `json:"current"`
}

type dashboard struct {
	UID           string      `json:"uid"`
	Title         string      `json:"title"`
	SchemaVersion int         `json:"schemaVersion"`
	Panels        []dashPanel `json:"panels"`
	Templating    struct {
		List []dashVariable `json:"list"`
	} `json:"templating"`
}

// readDashboard decodes a Grafana dashboard file.
func readDashboard(file string) (*dashboard, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var d dashboard
	if err := json.Unmarshal(data, &d); err != nil {
		return nil, fmt.Errorf("%s: %w", file, err)
	}
	return &d, nil
}

// panels returns every panel but rows, collapsed rows' panels included.
func (d *dashboard) panels() []dashPanel {
	var out []dashPanel
	var walk func([]dashPanel)
	walk = func(ps []dashPanel) {
		for _, p := range ps {
			if p.Type == "row" {
				walk(p.Panels)
				continue
			}
			out = append(out, p)
		}
	}
	walk(d.Panels)
	return out
}

// variableQuery returns a query variable's PromQL, from either form Grafana
// stores: a string, or an object with a query field.
func (v dashVariable) variableQuery() string {
	var s string
	if json.Unmarshal(v.Query, &s) == nil {
		return s
	}
	var o struct {
		Query string `json:"query"`
	}
	if json.Unmarshal(v.Query, &o) == nil && o.Query != "" {
		return o.Query
	}
	return v.Definition
}

// value is what the variable stands for in a test query: All (or nothing
// selected) is its allValue or .*, a selection is the regex alternation of
// its values.
func (v dashVariable) value() string {
	var vals []string
	var one string
	if json.Unmarshal(v.Current.Value, &vals) != nil && json.Unmarshal(v.Current.Value, &one) == nil {
		vals = []string{one}
	}
	if len(vals) == 0 || slices.Contains(vals, "$__all") {
		if v.AllValue != "" {
			return v.AllValue
		}
		return ".*"
	}
	return strings.Join(vals, "|")
}

// Grafana's built-in variables, as the tests substitute them: the test
// Prometheus scrapes every second.
var builtinVariables = map[string]string{
	"__rate_interval": "10s",
	"__interval":      "2s",
	"__interval_ms":   "2000",
	"__range":         "1m",
	"__range_s":       "60",
	"__range_ms":      "60000",
}

var variableRE = regexp.MustCompile(`\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]`)

// substitute replaces the dashboard's and Grafana's variables in expr.
func substitute(expr string, vars map[string]string) (string, error) {
	var unknown []string
	out := variableRE.ReplaceAllStringFunc(expr, func(m string) string {
		sub := variableRE.FindStringSubmatch(m)
		name := sub[1] + sub[2] + sub[3]
		if v, ok := vars[name]; ok {
			return v
		}
		if v, ok := builtinVariables[name]; ok {
			return v
		}
		unknown = append(unknown, name)
		return m
	})
	if len(unknown) > 0 {
		return "", fmt.Errorf("undefined variables %v", unknown)
	}
	return out, nil
}

var labelValuesRE = regexp.MustCompile(`^\s*label_values\(\s*(?:(.*\S)\s*,\s*)?([a-zA-Z_]\w*)\s*\)\s*$`)

// labelValuesToPromQL turns Grafana's label_values(metric, label) into the
// PromQL that returns the same label values.
func labelValuesToPromQL(q string) (string, bool) {
	m := labelValuesRE.FindStringSubmatch(q)
	if m == nil {
		return "", false
	}
	sel := m[1]
	if sel == "" {
		sel = fmt.Sprintf(`{%s!=""}`, m[2])
	}
	return fmt.Sprintf("group by (%s) (%s)", m[2], sel), true
}

// Query is one PromQL expression of the dashboard.
type Query struct {
	Name string // panel title and refId, or "variable NAME"
	Expr string // with the variables substituted
}

// fallback is the "or vector(0)" of a stat panel's count, which makes the
// panel show 0 rather than "No data" when nothing is counted. PromQL
// keywords and function names are case-insensitive.
var fallback = regexp.MustCompile(`(?i)\s*\bor\s+vector\s*\(\s*0\s*\)`)

// WithoutFallback returns the expression with its "or vector(0)" removed,
// and whether it had one. With the fallback the query returns a series
// whatever its selectors match, a misspelt metric or label included, so
// only the expression without it shows that they match anything.
func (q Query) WithoutFallback() (string, bool) {
	out := fallback.ReplaceAllString(q.Expr, "")
	return out, out != q.Expr
}

// DashboardQueries returns every PromQL expression of the Grafana dashboard
// in file (deploy/grafana/mx_exporter.json), ready to run against a
// Prometheus: the panels' targets and the query variables, with the
// dashboard's variables replaced by their current values and Grafana's
// built-in ones by values that suit a Prometheus scraping every second. An
// expression that cannot be made so is named in the error; the others are
// returned all the same.
func DashboardQueries(file string) ([]Query, error) {
	d, err := readDashboard(file)
	if err != nil {
		return nil, err
	}
	return d.queries()
}

// queries extracts every PromQL expression of the dashboard: the panels'
// targets and the query variables.
func (d *dashboard) queries() ([]Query, error) {
	vars := map[string]string{}
	for _, v := range d.Templating.List {
		vars[v.Name] = v.value()
	}
	var out []Query
	var errs []error
	add := func(name, expr string) {
		e, err := substitute(expr, vars)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %s: %w", name, expr, err))
			return
		}
		out = append(out, Query{name, e})
	}
	for _, v := range d.Templating.List {
		if v.Type != "query" {
			continue
		}
		q := v.variableQuery()
		promql, ok := labelValuesToPromQL(q)
		if !ok {
			errs = append(errs, fmt.Errorf("variable %s: query %q is not label_values(metric, label)", v.Name, q))
			continue
		}
		add("variable "+v.Name, promql)
	}
	for _, p := range d.panels() {
		for _, tg := range p.Targets {
			add(p.Title+"/"+tg.RefID, tg.Expr)
		}
	}
	return out, errors.Join(errs...)
}
