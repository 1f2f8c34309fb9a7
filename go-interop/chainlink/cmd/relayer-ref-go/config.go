package main

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/pelletier/go-toml/v2"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// relayerConfig is the TOML NewRelayer receives. Unknown keys are errors.
//
//	ReferenceFile = "/abs/path/fixtures/relayer/reference.json"   # required
//	[Median]
//	LatestAnswer = "1000"          # optional: LatestTransmissionDetails answer before any transmit
//	LatestTimestamp = 1767225000   # optional: its timestamp, unix seconds
type relayerConfig struct {
	ReferenceFile string
	Median        struct {
		LatestAnswer    *string
		LatestTimestamp *int64
	}
}

// loadConfig parses the TOML and the reference file it names, and applies the
// [Median] overrides to the reference's initial transmission details.
func loadConfig(text string) (*relayerref.Reference, error) {
	var cfg relayerConfig
	dec := toml.NewDecoder(bytes.NewReader([]byte(text)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&cfg); err != nil {
		return nil, fmt.Errorf("relayer-ref: config: %w", err)
	}
	if cfg.ReferenceFile == "" {
		return nil, fmt.Errorf("relayer-ref: config: ReferenceFile is required (the path of fixtures/relayer/reference.json)")
	}
	ref, err := relayerref.Load(cfg.ReferenceFile)
	if err != nil {
		return nil, fmt.Errorf("relayer-ref: %w", err)
	}
	details := &ref.Median.MedianContract.LatestTransmissionDetails
	if a := cfg.Median.LatestAnswer; a != nil {
		if _, ok := new(big.Int).SetString(*a, 10); !ok {
			return nil, fmt.Errorf("relayer-ref: config: Median.LatestAnswer %q is not a decimal integer", *a)
		}
		details.LatestAnswer = *a
	}
	if ts := cfg.Median.LatestTimestamp; ts != nil {
		details.LatestTimestamp = *ts
	}
	return ref, nil
}
