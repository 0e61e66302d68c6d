// Package buildinfo names the build of a binary for its --version flag: the
// module version and the VCS revision that the go command records in every
// binary it builds (runtime/debug.ReadBuildInfo). A binary built with
// `go install …@v0.2.0` reports that version; one built in a git checkout
// reports the pseudo-version, the revision, its time, and "modified" when the
// work tree had uncommitted changes.
package buildinfo

import (
	"runtime/debug"
	"strings"
)

// Info is what a binary knows of its own build.
type Info struct {
	Module    string // module path of the main package, "" if unknown
	Version   string // module version, "(devel)" for a build without one
	Revision  string // VCS revision, "" if the build did not record one
	Time      string // commit time of Revision (RFC 3339), "" if unknown
	Modified  bool   // the work tree had uncommitted changes
	GoVersion string // the Go toolchain that built it
}

// Read returns the running binary's build information.
func Read() Info {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return Info{Version: "(unknown)"}
	}
	return fromBuildInfo(bi)
}

func fromBuildInfo(bi *debug.BuildInfo) Info {
	in := Info{Module: bi.Main.Path, Version: bi.Main.Version, GoVersion: bi.GoVersion}
	if in.Version == "" {
		in.Version = "(devel)"
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			in.Revision = s.Value
		case "vcs.time":
			in.Time = s.Value
		case "vcs.modified":
			in.Modified = s.Value == "true"
		}
	}
	return in
}

// String is the one line --version prints after the program's name, for
// example "v0.2.0 (go1.26.8)" or
// "v0.2.1-0.20261204025139-1b04835a9c2e+dirty (revision 1b04835a9c2e, 2026-12-04T02:51:39Z, modified; go1.26.8)".
func (in Info) String() string {
	var b strings.Builder
	b.WriteString(in.Version)
	b.WriteString(" (")
	if in.Revision != "" {
		rev := in.Revision
		if len(rev) > 12 {
			rev = rev[:12]
		}
		b.WriteString("revision " + rev)
		if in.Time != "" {
			b.WriteString(", " + in.Time)
		}
		if in.Modified {
			b.WriteString(", modified")
		}
		b.WriteString("; ")
	}
	b.WriteString(in.GoVersion)
	b.WriteString(")")
	return b.String()
}

// Version is Read().String(), the value for a urfave/cli Command's Version.
func Version() string { return Read().String() }
