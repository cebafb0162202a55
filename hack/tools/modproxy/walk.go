package main

import (
	"errors"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
)

// vcsNames are never part of a module.
var vcsNames = []string{".git", ".hg", ".svn", ".bzr"}

// walkFiles lists the module's files outside a git checkout: every
// regular file except those the root .gitignore ignores, version-control
// directories and nested modules.
func walkFiles() ([]string, error) {
	ignore, err := readIgnore(".gitignore")
	if err != nil {
		return nil, err
	}
	var files []string
	err = filepath.WalkDir(".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || name == "." {
			return err
		}
		rel := filepath.ToSlash(name)
		if d.IsDir() {
			_, nested := os.Stat(filepath.Join(name, "go.mod"))
			if isVCS(d.Name()) || nested == nil || ignore.matches(rel, true) {
				return filepath.SkipDir
			}
			return nil
		}
		if isVCS(d.Name()) {
			return nil // a worktree's .git is a file
		}
		if d.Type().IsRegular() && !ignore.matches(rel, false) {
			files = append(files, name)
		}
		return nil
	})
	return files, err
}

func isVCS(name string) bool {
	return slices.Contains(vcsNames, name)
}

// ignorePattern is one line of a .gitignore, of the kinds without "**"
// or "!": a name or glob matched against every path element, or, with a
// slash before its end, a glob anchored at the root; a trailing slash
// matches directories only.
type ignorePattern struct {
	glob     string
	anchored bool
	dirOnly  bool
}

type ignoreList []ignorePattern

func readIgnore(file string) (ignoreList, error) {
	data, err := os.ReadFile(file)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var list ignoreList
	for line := range strings.SplitSeq(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "!") {
			continue
		}
		p := ignorePattern{}
		if trimmed, ok := strings.CutSuffix(line, "/"); ok {
			line, p.dirOnly = trimmed, true
		}
		p.anchored = strings.Contains(line, "/")
		p.glob = strings.TrimPrefix(line, "/")
		list = append(list, p)
	}
	return list, nil
}

// matches reports whether the slash-separated path rel, a directory when
// isDir, is ignored. Directories are matched on the way down, so a file
// only needs its own name checked.
func (l ignoreList) matches(rel string, isDir bool) bool {
	for _, p := range l {
		if p.dirOnly && !isDir {
			continue
		}
		subject := path.Base(rel)
		if p.anchored {
			subject = rel
		}
		if ok, _ := path.Match(p.glob, subject); ok {
			return true
		}
	}
	return false
}
