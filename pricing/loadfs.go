package pricing

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
)

// LoadFS reads a tariff set from a file system (the example set embedded in the binary), with
// the same files and rules as Load.
func LoadFS(fsys fs.FS) (*Tariffs, error) {
	prices, err := loadFSFile(fsys, PricesFile, true, ParsePrices)
	if err != nil {
		return nil, err
	}
	surcharges, err := loadFSFile(fsys, SurchargesFile, true, ParseSurcharges)
	if err != nil {
		return nil, err
	}
	cpi, err := loadFSFile(fsys, CPIFile, false, ParseCPI)
	if err != nil {
		return nil, err
	}
	interest, err := loadFSFile(fsys, InterestFile, false, ParseInterest)
	if err != nil {
		return nil, err
	}
	return New(prices, surcharges, cpi, interest)
}

func loadFSFile[R any](fsys fs.FS, name string, required bool, parse func(string, io.Reader) ([]R, error)) ([]R, error) {
	f, err := fsys.Open(name)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, fmt.Errorf("tariffs: %w", err)
	}
	defer f.Close()
	return parse(name, f)
}
