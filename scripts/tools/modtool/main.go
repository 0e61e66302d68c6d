// Command modtool is the module-release helper of the scripts (scripts/lib.sh builds it into bin/tools):
//
//	modtool check DIR...                  refuse a module whose zip would be invalid
//	modtool proxy -o OUT -version V DIR...   publish modules into a file GOPROXY at OUT
//	modtool newer V [TAG...]              refuse V unless it is a release version above every TAG
//	modtool gomod DIR|FILE.work...        print the require and replace directives of DIR/go.mod (or the
//	                                      replace directives of a go.work file), one a line:
//	                                      "require DIR PATH VERSION", "replace DIR OLD[@V] NEW[@V]"
//
// Each DIR is the root of a module (it holds go.mod). A module's files are those a module zip made from
// the repository would hold: inside a git work tree, the files git tracks plus the untracked ones it does
// not ignore (so a build artefact does not count, and neither does a file not yet added); elsewhere every
// file under DIR. golang.org/x/mod/zip applies the rules of the go command and of the module proxy: file
// names (letters, digits and some ASCII punctuation only), no two names equal up to case, sizes, and it
// leaves out vendor directories and nested modules.
//
// A file GOPROXY (GOPROXY=file:///OUT) is the directory layout of the proxy protocol:
// OUT/<escaped module path>/@v/list, V.info, V.mod and V.zip.
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"golang.org/x/mod/modfile"
	"golang.org/x/mod/module"
	"golang.org/x/mod/semver"
	modzip "golang.org/x/mod/zip"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	var err error
	switch os.Args[1] {
	case "check":
		err = check(os.Args[2:])
	case "proxy":
		err = proxy(os.Args[2:])
	case "newer":
		err = newer(os.Args[2:])
	case "gomod":
		err = gomod(os.Args[2:])
	default:
		usage()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "modtool:", err)
		os.Exit(1)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: modtool check DIR... | modtool proxy -o OUT -version V DIR... | modtool newer V [TAG...] | modtool gomod DIR...")
	os.Exit(2)
}

// mod is one module of the tree: its path (from go.mod) and its files.
type mod struct {
	dir, path string
	gomod     []byte
	files     []modzip.File
}

func load(dir string) (*mod, error) {
	gomod, err := os.ReadFile(filepath.Join(dir, "go.mod"))
	if err != nil {
		return nil, err
	}
	path := modfile.ModulePath(gomod)
	if path == "" {
		return nil, fmt.Errorf("%s/go.mod: no module line", dir)
	}
	files, err := listFiles(dir)
	if err != nil {
		return nil, err
	}
	return &mod{dir: dir, path: path, gomod: gomod, files: files}, nil
}

// file is a module file on disk.
type file struct{ rel, abs string }

func (f file) Path() string                 { return f.rel }
func (f file) Lstat() (os.FileInfo, error)  { return os.Lstat(f.abs) }
func (f file) Open() (io.ReadCloser, error) { return os.Open(f.abs) }

// listFiles lists dir's files: from git when dir is in a work tree, else by walking it.
func listFiles(dir string) ([]modzip.File, error) {
	var rels []string
	cmd := exec.Command("git", "-C", dir, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", ".")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if out, err := cmd.Output(); err == nil {
		for _, rel := range strings.Split(string(out), "\x00") {
			if rel == "" {
				continue
			}
			if _, err := os.Lstat(filepath.Join(dir, rel)); errors.Is(err, fs.ErrNotExist) {
				continue // tracked but deleted in the work tree: not part of the module now
			}
			rels = append(rels, rel)
		}
	} else {
		err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() {
				if d.Name() == ".git" {
					return filepath.SkipDir
				}
				return nil
			}
			rel, err := filepath.Rel(dir, p)
			rels = append(rels, filepath.ToSlash(rel))
			return err
		})
		if err != nil {
			return nil, err
		}
	}
	slices.Sort(rels)
	files := make([]modzip.File, len(rels))
	for i, rel := range rels {
		files[i] = file{rel: rel, abs: filepath.Join(dir, filepath.FromSlash(rel))}
	}
	return files, nil
}

// checkFiles reports the files of m that would make its zip invalid.
func (m *mod) checkFiles() error {
	cf, err := modzip.CheckFiles(m.files)
	if err == nil {
		return nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "module %s (%s): its zip would be invalid, a proxy would refuse it:", m.path, m.dir)
	for _, f := range cf.Invalid {
		fmt.Fprintf(&b, "\n   %s: %v", f.Path, f.Err)
	}
	if cf.SizeError != nil {
		fmt.Fprintf(&b, "\n   %v", cf.SizeError)
	}
	if len(cf.Invalid) == 0 && cf.SizeError == nil {
		fmt.Fprintf(&b, "\n   %v", err)
	}
	return errors.New(b.String())
}

func check(dirs []string) error {
	if len(dirs) == 0 {
		usage()
	}
	var errs []error
	for _, dir := range dirs {
		m, err := load(dir)
		if err == nil {
			err = m.checkFiles()
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		fmt.Printf("zip: %s ok (%d files)\n", m.path, len(m.files))
	}
	return errors.Join(errs...)
}

func proxy(args []string) error {
	fl := flag.NewFlagSet("proxy", flag.ExitOnError)
	out := fl.String("o", "", "directory of the file GOPROXY (created)")
	version := fl.String("version", "", "version to publish every module at")
	fl.Parse(args)
	if *out == "" || *version == "" || fl.NArg() == 0 {
		usage()
	}
	if semver.Canonical(*version) != *version {
		return fmt.Errorf("version %q is not a canonical semantic version (vMAJOR.MINOR.PATCH[-PRE])", *version)
	}
	for _, dir := range fl.Args() {
		m, err := load(dir)
		if err != nil {
			return err
		}
		if err := m.checkFiles(); err != nil {
			return err
		}
		if err := m.publish(*out, *version); err != nil {
			return fmt.Errorf("module %s: %w", m.path, err)
		}
	}
	return nil
}

// publish writes m at version v into the file GOPROXY at root.
func (m *mod) publish(root, v string) error {
	mv := module.Version{Path: m.path, Version: v}
	if err := module.Check(mv.Path, mv.Version); err != nil {
		return err
	}
	esc, err := module.EscapePath(mv.Path)
	if err != nil {
		return err
	}
	dir := filepath.Join(root, filepath.FromSlash(esc), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	z, err := os.Create(filepath.Join(dir, v+".zip"))
	if err != nil {
		return err
	}
	if err := modzip.Create(z, mv, m.files); err != nil {
		z.Close()
		return err
	}
	if err := z.Close(); err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, v+".mod"), m.gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{v, time.Now().UTC().Truncate(time.Second)})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, v+".info"), info, 0o644); err != nil {
		return err
	}
	list, err := os.ReadFile(filepath.Join(dir, "list"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	versions := strings.Fields(string(list))
	if !slices.Contains(versions, v) {
		versions = append(versions, v)
	}
	return os.WriteFile(filepath.Join(dir, "list"), []byte(strings.Join(versions, "\n")+"\n"), 0o644)
}

// newer refuses v unless it is a canonical semantic version, major 0 or 1 (a v2 needs /v2 module paths), and
// above every version among tags (tags may be prefixed, as domain/v0.2.0; those that are no versions are ignored).
func newer(args []string) error {
	if len(args) == 0 {
		usage()
	}
	v, tags := args[0], args[1:]
	if !semver.IsValid(v) || semver.Canonical(v) != v {
		return fmt.Errorf("%q is not a release version: give vMAJOR.MINOR.PATCH, e.g. v0.2.0 (or v0.2.0-rc.1)", v)
	}
	if semver.Build(v) != "" {
		return fmt.Errorf("%q: build metadata (+...) is not allowed in a module version", v)
	}
	if m := semver.Major(v); m != "v0" && m != "v1" {
		return fmt.Errorf("%q: major version %s needs module paths ending in /%s; this release process handles v0 and v1", v, m, m)
	}
	last := ""
	for _, t := range tags {
		tv := t[strings.LastIndex(t, "/")+1:]
		if semver.IsValid(tv) && (last == "" || semver.Compare(tv, last) > 0) {
			last = tv
		}
	}
	if last != "" && semver.Compare(v, last) <= 0 {
		return fmt.Errorf("%s is not above the last released version %s", v, last)
	}
	if last == "" {
		fmt.Printf("%s: first release (no version tag yet)\n", v)
	} else {
		fmt.Printf("%s: above the last released version %s\n", v, last)
	}
	return nil
}

func gomod(args []string) error {
	if len(args) == 0 {
		usage()
	}
	at := func(m module.Version) string {
		if m.Version == "" {
			return m.Path
		}
		return m.Path + "@" + m.Version
	}
	for _, arg := range args {
		name, label := filepath.Join(arg, "go.mod"), arg
		if strings.HasSuffix(arg, ".work") {
			name = arg
		}
		data, err := os.ReadFile(name)
		if err != nil {
			return err
		}
		var reqs []*modfile.Require
		var reps []*modfile.Replace
		if name == arg {
			f, err := modfile.ParseWork(name, data, nil)
			if err != nil {
				return err
			}
			reps = f.Replace
		} else {
			f, err := modfile.Parse(name, data, nil)
			if err != nil {
				return err
			}
			reqs, reps = f.Require, f.Replace
		}
		for _, r := range reqs {
			fmt.Printf("require %s %s %s\n", label, r.Mod.Path, r.Mod.Version)
		}
		for _, r := range reps {
			fmt.Printf("replace %s %s %s\n", label, at(r.Old), at(r.New))
		}
	}
	return nil
}
