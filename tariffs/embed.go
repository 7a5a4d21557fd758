// Package tariffs ships the example tariff set that ledgerd uses when --tariffs is not given,
// embedded in the binary so that it runs from anywhere.
package tariffs

import (
	"embed"
	"io/fs"
)

//go:embed example/*.csv
var example embed.FS

// Example returns the example tariff files (prices.csv, surcharges.csv, cpi.csv, interest.csv).
func Example() fs.FS {
	sub, err := fs.Sub(example, "example")
	if err != nil {
		panic(err) // the embedded directory is part of the build
	}
	return sub
}
