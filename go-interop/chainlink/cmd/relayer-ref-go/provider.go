package main

import (
	"context"
	"math/big"
	"sync"
	"time"

	"github.com/smartcontractkit/libocr/offchainreporting2/reportingplugin/median"
	ocrtypes "github.com/smartcontractkit/libocr/offchainreporting2plus/types"

	"github.com/smartcontractkit/chainlink-common/pkg/types"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// configProvider serves the reference's fixed config: every ConfigDigest call
// answers the reference digest, whatever config it is given.
type configProvider struct {
	service
	ref *relayerref.Reference
}

func newConfigProvider(ref *relayerref.Reference, name string) *configProvider {
	return &configProvider{service: service{name: name}, ref: ref}
}

func (c *configProvider) OffchainConfigDigester() ocrtypes.OffchainConfigDigester { return c }
func (c *configProvider) ContractConfigTracker() ocrtypes.ContractConfigTracker   { return c }

func (c *configProvider) ConfigDigest(context.Context, ocrtypes.ContractConfig) (ocrtypes.ConfigDigest, error) {
	return relayerref.Digest(c.ref.ConfigProvider.ConfigDigest), nil
}

func (c *configProvider) ConfigDigestPrefix(context.Context) (ocrtypes.ConfigDigestPrefix, error) {
	return ocrtypes.ConfigDigestPrefix(c.ref.ConfigProvider.ConfigDigestPrefix), nil
}

func (c *configProvider) Notify() <-chan struct{} { return nil }

func (c *configProvider) LatestConfigDetails(context.Context) (uint64, ocrtypes.ConfigDigest, error) {
	d := c.ref.ConfigProvider.LatestConfigDetails
	return d.ChangedInBlock, relayerref.Digest(d.ConfigDigest), nil
}

func (c *configProvider) LatestConfig(context.Context, uint64) (ocrtypes.ContractConfig, error) {
	rc := c.ref.ConfigProvider.ContractConfig
	cc := ocrtypes.ContractConfig{
		ConfigDigest:          relayerref.Digest(rc.ConfigDigest),
		ConfigCount:           rc.ConfigCount,
		F:                     rc.F,
		OnchainConfig:         relayerref.Hex(rc.OnchainConfig),
		OffchainConfigVersion: rc.OffchainConfigVersion,
		OffchainConfig:        relayerref.Hex(rc.OffchainConfig),
	}
	for _, s := range rc.Signers {
		cc.Signers = append(cc.Signers, relayerref.Hex(s))
	}
	for _, t := range rc.Transmitters {
		cc.Transmitters = append(cc.Transmitters, ocrtypes.Account(t))
	}
	return cc, nil
}

func (c *configProvider) LatestBlockHeight(context.Context) (uint64, error) {
	return c.ref.ConfigProvider.LatestBlockHeight, nil
}

// transmission is the last report the ContractTransmitter accepted; it is what
// MedianContract and LatestConfigDigestAndEpoch answer afterwards, as a contract would.
type transmission struct {
	digest    ocrtypes.ConfigDigest
	epoch     uint32
	round     uint8
	answer    *big.Int
	timestamp time.Time
}

// medianProvider is the reference median provider. It serves no ContractReader
// and no Codec, so a median plugin (chainlink-feeds) falls back to its
// MedianContract and ReportCodec, whose answers follow the live observations.
type medianProvider struct {
	*configProvider
	transmitter string

	mu   sync.Mutex
	last *transmission
}

var _ types.MedianProvider = (*medianProvider)(nil)

func newMedianProvider(ref *relayerref.Reference, pargs types.PluginArgs) *medianProvider {
	return &medianProvider{configProvider: newConfigProvider(ref, "MedianProviderRef"), transmitter: pargs.TransmitterID}
}

func (m *medianProvider) ContractTransmitter() ocrtypes.ContractTransmitter { return m }
func (m *medianProvider) ReportCodec() median.ReportCodec                   { return m }
func (m *medianProvider) MedianContract() median.MedianContract             { return m }
func (m *medianProvider) OnchainConfigCodec() median.OnchainConfigCodec     { return onchainCodec{} }
func (m *medianProvider) ContractReader() types.ContractReader              { return nil }
func (m *medianProvider) Codec() types.Codec                                { return nil }

func (m *medianProvider) Transmit(_ context.Context, rc ocrtypes.ReportContext, report ocrtypes.Report, _ []ocrtypes.AttributedOnchainSignature) error {
	parsed, err := relayerref.ParseReport(report)
	if err != nil {
		return types.InvalidArgumentError(err.Error())
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.last = &transmission{digest: rc.ConfigDigest, epoch: rc.Epoch, round: rc.Round,
		answer: parsed.Median(), timestamp: time.Unix(int64(parsed.ObservationsTimestamp), 0)}
	return nil
}

func (m *medianProvider) LatestConfigDigestAndEpoch(context.Context) (ocrtypes.ConfigDigest, uint32, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.last != nil {
		return m.last.digest, m.last.epoch, nil
	}
	d := m.ref.Median.ContractTransmitter.LatestConfigDigestAndEpoch
	return relayerref.Digest(d.ConfigDigest), d.Epoch, nil
}

func (m *medianProvider) FromAccount(context.Context) (ocrtypes.Account, error) {
	return ocrtypes.Account(m.transmitter), nil
}

func (m *medianProvider) BuildReport(_ context.Context, obs []median.ParsedAttributedObservation) (ocrtypes.Report, error) {
	in := make([]relayerref.ReportObservation, 0, len(obs))
	for _, o := range obs {
		in = append(in, relayerref.ReportObservation{Timestamp: o.Timestamp, Value: o.Value,
			JuelsPerFeeCoin: o.JuelsPerFeeCoin, GasPriceSubunits: o.GasPriceSubunits, Observer: uint8(o.Observer)})
	}
	r, err := relayerref.BuildReport(in)
	if err != nil {
		return nil, types.InvalidArgumentError(err.Error())
	}
	return r, nil
}

func (m *medianProvider) MedianFromReport(_ context.Context, report ocrtypes.Report) (*big.Int, error) {
	parsed, err := relayerref.ParseReport(report)
	if err != nil {
		return nil, types.InvalidArgumentError(err.Error())
	}
	return parsed.Median(), nil
}

func (m *medianProvider) MaxReportLength(_ context.Context, n int) (int, error) {
	return relayerref.MaxReportLength(n), nil
}

func (m *medianProvider) LatestTransmissionDetails(context.Context) (ocrtypes.ConfigDigest, uint32, uint8, *big.Int, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l := m.last; l != nil {
		return l.digest, l.epoch, l.round, l.answer, l.timestamp, nil
	}
	d := m.ref.Median.MedianContract.LatestTransmissionDetails
	return relayerref.Digest(d.ConfigDigest), d.Epoch, d.Round, relayerref.Int(d.LatestAnswer), time.Unix(d.LatestTimestamp, 0), nil
}

func (m *medianProvider) LatestRoundRequested(context.Context, time.Duration) (ocrtypes.ConfigDigest, uint32, uint8, error) {
	d := m.ref.Median.MedianContract.LatestRoundRequested
	return relayerref.Digest(d.ConfigDigest), d.Epoch, d.Round, nil
}

type onchainCodec struct{}

func (onchainCodec) Encode(_ context.Context, c median.OnchainConfig) ([]byte, error) {
	b, err := relayerref.EncodeOnchainConfig(c.Min, c.Max)
	if err != nil {
		return nil, types.InvalidArgumentError(err.Error())
	}
	return b, nil
}

func (onchainCodec) Decode(_ context.Context, b []byte) (median.OnchainConfig, error) {
	lo, hi, err := relayerref.DecodeOnchainConfig(b)
	if err != nil {
		return median.OnchainConfig{}, types.InvalidArgumentError(err.Error())
	}
	return median.OnchainConfig{Min: lo, Max: hi}, nil
}
