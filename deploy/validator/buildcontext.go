package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/moby/patternmatcher"
	"github.com/moby/patternmatcher/ignorefile"
)

// copyBuildContext copies to dest the files of root that docker sends as the build context:
// all but those root/.dockerignore excludes, matched by the library docker itself uses
// (moby/patternmatcher). Building ledgerd from dest then shows that .dockerignore keeps
// everything the build reads; the sizes show what it leaves out.
func copyBuildContext(p *problems, root, dest string) {
	f, err := os.Open(filepath.Join(root, ".dockerignore"))
	if err != nil {
		p.addf("%v", err)
		return
	}
	patterns, err := ignorefile.ReadAll(f)
	f.Close()
	if err != nil {
		p.addf(".dockerignore: %v", err)
		return
	}
	pm, err := patternmatcher.New(patterns)
	if err != nil {
		p.addf(".dockerignore: %v", err)
		return
	}
	var kept, left int
	var keptBytes int64
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || rel == "." {
			return err
		}
		rel = filepath.ToSlash(rel)
		excluded, err := pm.MatchesOrParentMatches(rel)
		if err != nil {
			return err
		}
		if d.IsDir() {
			// Walk into an excluded directory only when a ! pattern may take something back.
			if excluded && !pm.Exclusions() {
				left++
				return filepath.SkipDir
			}
			return nil
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		if excluded || !info.Mode().IsRegular() {
			left++
			return nil
		}
		kept++
		keptBytes += info.Size()
		return copyFile(path, filepath.Join(dest, rel), info.Mode())
	})
	if err != nil {
		p.addf("build context: %v", err)
		return
	}
	fmt.Printf("build context: %d files (%d KiB) sent; %d files and directories left out by .dockerignore\n",
		kept, keptBytes/1024, left)
}

func copyFile(from, to string, mode fs.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
		return err
	}
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, mode.Perm())
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
