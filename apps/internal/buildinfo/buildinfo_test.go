package buildinfo

import (
	"runtime/debug"
	"testing"
)

func TestString(t *testing.T) {
	cases := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{
			name: "go install at a tag",
			bi:   debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ai-pantheon/aegis/apps", Version: "v0.2.0"}},
			want: "v0.2.0 (go1.26.8)",
		},
		{
			name: "git checkout with changes",
			bi: debug.BuildInfo{GoVersion: "go1.26.8", Main: debug.Module{Path: "github.com/ai-pantheon/aegis/apps", Version: "v0.2.1-0.20261204025139-1b04835a9c2e+dirty"},
				Settings: []debug.BuildSetting{
					{Key: "vcs", Value: "git"},
					{Key: "vcs.revision", Value: "1b04835a9c2e0123456789abcdef0123456789ab"},
					{Key: "vcs.time", Value: "2026-12-04T02:51:39Z"},
					{Key: "vcs.modified", Value: "true"},
				}},
			want: "v0.2.1-0.20261204025139-1b04835a9c2e+dirty (revision 1b04835a9c2e, 2026-12-04T02:51:39Z, modified; go1.26.8)",
		},
		{
			name: "no version recorded",
			bi:   debug.BuildInfo{GoVersion: "go1.26.8", Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: "abc"}, {Key: "vcs.modified", Value: "false"}}},
			want: "(devel) (revision abc; go1.26.8)",
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := fromBuildInfo(&c.bi).String(); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

func TestReadInTestBinary(t *testing.T) {
	in := Read()
	if in.GoVersion == "" || in.Version == "" {
		t.Fatalf("Read() = %+v: the test binary records a Go version and a module version", in)
	}
}
