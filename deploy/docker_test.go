package deploy

// The Dockerfile (at the top of the repository) and .dockerignore: the
// image runs as non-root with a valid default config, the COPY sources are
// in the build context, and the build command gives a static binary with
// version information.

import (
	"context"
	"debug/elf"
	"encoding/json"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mx-exporter/mx_exporter/collector/testenv"

	"github.com/mx-exporter/mx_exporter/config"
)

type dockerInstruction struct {
	cmd  string // upper case
	args string
	line int
}

// parseDockerfile splits a Dockerfile into instructions, joining
// continuation lines and dropping comments.
func parseDockerfile(data []byte) []dockerInstruction {
	var out []dockerInstruction
	var cur strings.Builder
	start := 0
	for i, line := range strings.Split(string(data), "\n") {
		trimmed := strings.TrimSpace(line)
		if cur.Len() == 0 && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if cur.Len() > 0 && strings.HasPrefix(trimmed, "#") {
			continue // a comment inside a continued instruction
		}
		if cur.Len() == 0 {
			start = i + 1
		}
		if strings.HasSuffix(trimmed, `\`) {
			cur.WriteString(strings.TrimSuffix(trimmed, `\`) + " ")
			continue
		}
		cur.WriteString(trimmed)
		cmd, args, _ := strings.Cut(cur.String(), " ")
		out = append(out, dockerInstruction{strings.ToUpper(cmd), strings.TrimSpace(args), start})
		cur.Reset()
	}
	return out
}

// dockerIgnored reports whether .dockerignore excludes path (slash
// separated, relative to the context) from the build context.
func dockerIgnored(patterns []string, p string) bool {
	ignored := false
	for _, pat := range patterns {
		neg := strings.HasPrefix(pat, "!")
		pat = path.Clean(strings.TrimPrefix(pat, "!"))
		if dockerMatch(pat, p) {
			ignored = !neg
		}
	}
	return ignored
}

// dockerMatch matches p or one of its parent directories against pat, with
// ** standing for any number of directories.
func dockerMatch(pat, p string) bool {
	parts := strings.Split(p, "/")
	for i := 1; i <= len(parts); i++ {
		prefix := strings.Join(parts[:i], "/")
		if globMatch(strings.Split(pat, "/"), strings.Split(prefix, "/")) {
			return true
		}
	}
	return false
}

func globMatch(pat, p []string) bool {
	if len(pat) == 0 {
		return len(p) == 0
	}
	if pat[0] == "**" {
		for i := 0; i <= len(p); i++ {
			if globMatch(pat[1:], p[i:]) {
				return true
			}
		}
		return false
	}
	if len(p) == 0 {
		return false
	}
	ok, err := path.Match(pat[0], p[0])
	return err == nil && ok && globMatch(pat[1:], p[1:])
}

func TestDockerignoreMatching(t *testing.T) {
	pats := []string{".git", "**/testdata/fuzz", "deploy/kubernetes", "*.test", "!keep.test"}
	for p, want := range map[string]bool{
		".git/config":                            true,
		"collector/probe/smtp/testdata/fuzz/x/y": true,
		"collector/probe/smtp/testdata/golden":   false,
		"deploy/kubernetes/a.yaml":               true,
		"deploy/docker/mx_exporter.yml":          false,
		"mx_exporter.test":                       true,
		"keep.test":                              false,
		"go.mod":                                 false,
	} {
		if got := dockerIgnored(pats, p); got != want {
			t.Errorf("dockerIgnored(%s) = %v, want %v", p, got, want)
		}
	}
}

func TestDockerfile(t *testing.T) {
	data := testenv.ReadRepoFile(t, "Dockerfile")
	ins := parseDockerfile(data)
	var stages [][]dockerInstruction
	for _, in := range ins {
		if in.cmd == "FROM" {
			stages = append(stages, nil)
		}
		if len(stages) == 0 {
			if in.cmd != "ARG" {
				t.Fatalf("Dockerfile:%d: %s before the first FROM", in.line, in.cmd)
			}
			continue
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stage(s), want a build stage and a final stage", len(stages))
	}
	build, final := stages[0], stages[len(stages)-1]
	if f := strings.Fields(build[0].args); len(f) != 3 || !strings.HasPrefix(f[0], "golang:1.26") || !strings.EqualFold(f[1], "AS") {
		t.Errorf("build stage: FROM %s, want golang:1.26... AS name", build[0].args)
	}
	if img := final[0].args; !strings.HasPrefix(img, "gcr.io/distroless/static") && img != "scratch" {
		t.Errorf("final stage: FROM %s, want distroless/static or scratch", img)
	}

	get := func(stage []dockerInstruction, cmd string) []dockerInstruction {
		var out []dockerInstruction
		for _, in := range stage {
			if in.cmd == cmd {
				out = append(out, in)
			}
		}
		return out
	}
	// Final stage: non-root, port, entrypoint, default config.
	users := get(final, "USER")
	if len(users) == 0 {
		t.Errorf("final stage has no USER: it would run as root")
	} else {
		u, _, _ := strings.Cut(users[len(users)-1].args, ":")
		if u == "root" || u == "0" {
			t.Errorf("final stage: USER %s", users[len(users)-1].args)
		}
	}
	if e := get(final, "EXPOSE"); len(e) != 1 || e[0].args != "9725" {
		t.Errorf("final stage: EXPOSE %v, want 9725", e)
	}
	var entry, cmdArgs []string
	if e := get(final, "ENTRYPOINT"); len(e) != 1 || json.Unmarshal([]byte(e[0].args), &entry) != nil || !slices.Equal(entry, []string{"/bin/mx_exporter"}) {
		t.Errorf(`final stage: ENTRYPOINT %v, want ["/bin/mx_exporter"] (exec form)`, e)
	}
	if c := get(final, "CMD"); len(c) != 1 || json.Unmarshal([]byte(c[0].args), &cmdArgs) != nil || !slices.Contains(cmdArgs, "--config.file=/etc/mx_exporter/mx_exporter.yml") {
		t.Errorf("final stage: CMD %v, want --config.file=/etc/mx_exporter/mx_exporter.yml (exec form)", c)
	}
	checkFlags(t, "Dockerfile CMD", cmdArgs)

	// COPY sources exist in the context and are not excluded from it.
	var ignore []string
	if di, err := os.ReadFile(testenv.RepoFile(".dockerignore")); err == nil {
		for _, l := range strings.Split(string(di), "\n") {
			if l = strings.TrimSpace(l); l != "" && !strings.HasPrefix(l, "#") {
				ignore = append(ignore, l)
			}
		}
	}
	copiesConfig, copiesBinary := false, false
	for _, in := range append(get(build, "COPY"), get(final, "COPY")...) {
		f := strings.Fields(in.args)
		from := ""
		for len(f) > 0 && strings.HasPrefix(f[0], "--") {
			if v, ok := strings.CutPrefix(f[0], "--from="); ok {
				from = v
			}
			f = f[1:]
		}
		if len(f) < 2 {
			t.Errorf("Dockerfile:%d: COPY %s", in.line, in.args)
			continue
		}
		dst := f[len(f)-1]
		if from != "" {
			if dst == "/bin/mx_exporter" {
				copiesBinary = true
			}
			continue
		}
		if dst == "/etc/mx_exporter/mx_exporter.yml" {
			copiesConfig = true
			if _, err := config.Load(testenv.RepoFile(f[0])); err != nil {
				t.Errorf("Dockerfile:%d: the image's default config %s: %v", in.line, f[0], err)
			}
		}
		for _, src := range f[:len(f)-1] {
			if _, err := os.Stat(testenv.RepoFile(src)); err != nil {
				t.Errorf("Dockerfile:%d: COPY source %s: %v", in.line, src, err)
			}
			if src != "." && dockerIgnored(ignore, path.Clean(src)) {
				t.Errorf("Dockerfile:%d: COPY source %s is excluded by .dockerignore", in.line, src)
			}
		}
	}
	if !copiesBinary || !copiesConfig {
		t.Errorf("final stage copies the binary to /bin/mx_exporter: %v; a config to /etc/mx_exporter/mx_exporter.yml: %v", copiesBinary, copiesConfig)
	}
	// The build needs every Go file of the packages it compiles.
	out, err := testenv.Run(t, testenv.RepoFile(), "go", "list", "-deps", "-f", "{{if not .Standard}}{{.Dir}}{{end}}", "./cmd/mx_exporter")
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	root, _ := filepath.Abs(testenv.RepoFile())
	for _, dir := range strings.Fields(out) {
		rel, err := filepath.Rel(root, dir)
		if err != nil || strings.HasPrefix(rel, "..") {
			continue // a module from the cache
		}
		for _, f := range []string{filepath.ToSlash(rel), "go.mod", "go.sum"} {
			if dockerIgnored(ignore, f) {
				t.Errorf(".dockerignore excludes %s, which the build needs", f)
			}
		}
	}

	// The build stage: static, trimmed, with version information.
	env := map[string]string{}
	args := map[string]string{}
	for _, in := range build {
		switch in.cmd {
		case "ENV":
			for _, kv := range strings.Fields(in.args) {
				k, v, _ := strings.Cut(kv, "=")
				env[k] = v
			}
		case "ARG":
			k, v, _ := strings.Cut(in.args, "=")
			args[k] = v
		}
	}
	if env["CGO_ENABLED"] != "0" {
		t.Errorf("build stage: CGO_ENABLED=%q in ENV, want 0", env["CGO_ENABLED"])
	}
	var goBuild string
	for _, in := range get(build, "RUN") {
		if strings.Contains(in.args, "go build") {
			goBuild = in.args
		}
	}
	for _, want := range []string{"-trimpath", "-X github.com/prometheus/common/version.Version=${VERSION}", "-X github.com/prometheus/common/version.Revision=${REVISION}", "-o /out/mx_exporter", "./cmd/mx_exporter"} {
		if !strings.Contains(goBuild, want) {
			t.Errorf("build stage: the go build command lacks %q:\n%s", want, goBuild)
		}
	}
	if t.Failed() {
		return
	}

	t.Run("static build", func(t *testing.T) {
		// The same command, with test build arguments and a temporary output.
		bin := filepath.Join(t.TempDir(), "mx_exporter")
		vals := map[string]string{"VERSION": "v0.0.0-deploytest", "REVISION": "0123456789abcdef", "BRANCH": "deploytest", "BUILD_USER": "deploy_test", "BUILD_DATE": "20260101-00:00:00"}
		for k := range args {
			if _, ok := vals[k]; !ok {
				t.Fatalf("build stage: unexpected ARG %s", k)
			}
		}
		cmdline := os.Expand(goBuild, func(k string) string { return vals[k] })
		cmdline = strings.Replace(cmdline, "-o /out/mx_exporter", "-o "+bin, 1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		cmd := exec.CommandContext(ctx, "sh", "-c", cmdline)
		cmd.Dir = testenv.RepoFile()
		cmd.Env = append(os.Environ(), "CGO_ENABLED="+env["CGO_ENABLED"], "GOFLAGS=")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", cmdline, err, out)
		}
		f, err := elf.Open(bin)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		for _, p := range f.Progs {
			if p.Type == elf.PT_INTERP {
				t.Errorf("the binary has an ELF interpreter: it is dynamically linked")
			}
		}
		if libs, err := f.ImportedLibraries(); err != nil || len(libs) > 0 {
			t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
		}
		out, err := exec.Command(bin, "--version").CombinedOutput()
		if err != nil {
			t.Fatalf("%s --version: %v\n%s", bin, err, out)
		}
		for _, want := range []string{"version v0.0.0-deploytest", "revision: 0123456789abcdef", "branch: deploytest", "build user:       deploy_test"} {
			if !strings.Contains(string(out), want) {
				t.Errorf("--version lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("hadolint", func(t *testing.T) {
		p, err := exec.LookPath("hadolint")
		if err != nil {
			t.Skip("hadolint is not installed (Debian 12 does not package it)")
		}
		if out, err := testenv.Run(t, testenv.RepoFile(), p, "Dockerfile"); err != nil {
			t.Errorf("hadolint Dockerfile: %v\n%s", err, out)
		}
	})
}
