package main

import (
	"runtime/debug"

	"github.com/prometheus/common/version"
)

// fillVersion gives a plain `go build` a version when -ldflags set none (the
// Makefile and the Dockerfile stamp VERSION and the git revision): the module
// version Go derives from the checkout's tag or commit, else "devel".
// The revision needs no help: prometheus/common reads it from the same
// build information.
func fillVersion() {
	if version.Version != "" {
		return
	}
	version.Version = "devel"
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		version.Version = info.Main.Version
	}
}
