// Package linefile reads the operator's line files (--api-tokens, --nats-users): one entry a
// line, fields separated by white space, blank lines and lines starting with # skipped.
package linefile

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

// Read calls each with the number and the fields of every entry of the file at path; flag names
// the setting the file comes from, for the error when it cannot be opened.
func Read(path, flag string, each func(line int, fields []string) error) error {
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("%s: %w", flag, err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		if err := each(line, strings.Fields(text)); err != nil {
			return err
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
