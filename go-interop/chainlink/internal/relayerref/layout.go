package relayerref

import (
	"encoding/binary"
	"fmt"
	"math/big"
	"sort"
)

// Int192Width is the byte width of every integer in the layouts below: libocr's
// median values are int192, stored big-endian in two's complement.
const Int192Width = 24

// ReportVersion is the first byte of a reference report.
const ReportVersion = 1

// reportFixed is the report length without the per-observation parts: version,
// timestamp, count, then the juels and gas medians.
const reportFixed = 1 + 4 + 1 + 2*Int192Width

// OnchainConfigVersion and OnchainConfigLength follow libocr's median onchain
// config: version byte 1, min, max.
const (
	OnchainConfigVersion = 1
	OnchainConfigLength  = 1 + 2*Int192Width
)

var (
	int192Max = new(big.Int).Sub(new(big.Int).Lsh(big.NewInt(1), 191), big.NewInt(1))
	int192Min = new(big.Int).Neg(new(big.Int).Lsh(big.NewInt(1), 191))
	two192    = new(big.Int).Lsh(big.NewInt(1), 192)
)

// EncodeInt192 writes v as 24 bytes of two's complement.
func EncodeInt192(v *big.Int) ([]byte, error) {
	if v == nil {
		return nil, fmt.Errorf("nil integer")
	}
	if v.Cmp(int192Min) < 0 || v.Cmp(int192Max) > 0 {
		return nil, fmt.Errorf("%s does not fit in int192", v)
	}
	u := new(big.Int).Set(v)
	if u.Sign() < 0 {
		u.Add(u, two192)
	}
	return u.FillBytes(make([]byte, Int192Width)), nil
}

// DecodeInt192 reads 24 bytes of two's complement.
func DecodeInt192(b []byte) *big.Int {
	v := new(big.Int).SetBytes(b[:Int192Width])
	if b[0]&0x80 != 0 {
		v.Sub(v, two192)
	}
	return v
}

// ReportObservation is one parsed observation, as BuildReport receives it.
type ReportObservation struct {
	Timestamp        uint32
	Value            *big.Int
	JuelsPerFeeCoin  *big.Int
	GasPriceSubunits *big.Int
	Observer         uint8
}

// MaxReportLength is the length of a report of n observations.
func MaxReportLength(n int) int { return reportFixed + n*(1+Int192Width) }

// upperMedian returns the element at index n/2 of the sorted values, the median
// libocr's EVM codec uses.
func upperMedian(vals []*big.Int) *big.Int {
	s := append([]*big.Int(nil), vals...)
	sort.Slice(s, func(i, j int) bool { return s[i].Cmp(s[j]) < 0 })
	return s[len(s)/2]
}

// BuildReport encodes observations in the reference layout:
//
//	[0]              version (1)
//	[1:5]            observationsTimestamp, uint32 big-endian: median timestamp
//	[5]              n, the number of observations (1..255)
//	[6:6+n]          observer of each value, in value order
//	next n*24 bytes  the values, ascending (ties by observer), int192
//	next 24          median juelsPerFeeCoin, int192
//	next 24          median gasPriceSubunits, int192
func BuildReport(obs []ReportObservation) ([]byte, error) {
	n := len(obs)
	if n == 0 {
		return nil, fmt.Errorf("cannot build a report from 0 observations")
	}
	if n > 255 {
		return nil, fmt.Errorf("cannot build a report from %d observations (max 255)", n)
	}
	sorted := append([]ReportObservation(nil), obs...)
	sort.Slice(sorted, func(i, j int) bool {
		if c := sorted[i].Value.Cmp(sorted[j].Value); c != 0 {
			return c < 0
		}
		return sorted[i].Observer < sorted[j].Observer
	})
	ts := make([]uint32, n)
	juels := make([]*big.Int, n)
	gas := make([]*big.Int, n)
	for i, o := range obs {
		ts[i], juels[i], gas[i] = o.Timestamp, o.JuelsPerFeeCoin, o.GasPriceSubunits
	}
	sort.Slice(ts, func(i, j int) bool { return ts[i] < ts[j] })

	out := make([]byte, 0, MaxReportLength(n))
	out = append(out, ReportVersion)
	out = binary.BigEndian.AppendUint32(out, ts[n/2])
	out = append(out, byte(n))
	for _, o := range sorted {
		out = append(out, o.Observer)
	}
	values := make([]*big.Int, 0, n+2)
	for _, o := range sorted {
		values = append(values, o.Value)
	}
	values = append(values, upperMedian(juels), upperMedian(gas))
	for _, v := range values {
		b, err := EncodeInt192(v)
		if err != nil {
			return nil, err
		}
		out = append(out, b...)
	}
	return out, nil
}

// ParsedReport is what a reference report carries.
type ParsedReport struct {
	ObservationsTimestamp uint32
	Observers             []uint8
	Values                []*big.Int
	JuelsPerFeeCoin       *big.Int
	GasPriceSubunits      *big.Int
}

// Median is the value at index n/2.
func (r ParsedReport) Median() *big.Int { return r.Values[len(r.Values)/2] }

// ParseReport checks and decodes a report of the layout BuildReport writes.
func ParseReport(b []byte) (ParsedReport, error) {
	var r ParsedReport
	if len(b) < reportFixed {
		return r, fmt.Errorf("invalid report: length %d, want at least %d", len(b), reportFixed)
	}
	if b[0] != ReportVersion {
		return r, fmt.Errorf("invalid report: version %d, want %d", b[0], ReportVersion)
	}
	n := int(b[5])
	if n == 0 {
		return r, fmt.Errorf("invalid report: 0 observations")
	}
	if want := MaxReportLength(n); len(b) != want {
		return r, fmt.Errorf("invalid report: length %d, want %d for %d observations", len(b), want, n)
	}
	r.ObservationsTimestamp = binary.BigEndian.Uint32(b[1:5])
	r.Observers = append([]uint8(nil), b[6:6+n]...)
	off := 6 + n
	for i := 0; i < n; i++ {
		r.Values = append(r.Values, DecodeInt192(b[off:]))
		off += Int192Width
	}
	r.JuelsPerFeeCoin = DecodeInt192(b[off:])
	r.GasPriceSubunits = DecodeInt192(b[off+Int192Width:])
	return r, nil
}

// EncodeOnchainConfig writes libocr's median onchain config layout.
func EncodeOnchainConfig(min, max *big.Int) ([]byte, error) {
	lo, err := EncodeInt192(min)
	if err != nil {
		return nil, fmt.Errorf("invalid onchain config: min: %w", err)
	}
	hi, err := EncodeInt192(max)
	if err != nil {
		return nil, fmt.Errorf("invalid onchain config: max: %w", err)
	}
	return append(append([]byte{OnchainConfigVersion}, lo...), hi...), nil
}

// DecodeOnchainConfig reads libocr's median onchain config layout; min must not
// exceed max, as in libocr.
func DecodeOnchainConfig(b []byte) (min, max *big.Int, err error) {
	if len(b) != OnchainConfigLength {
		return nil, nil, fmt.Errorf("invalid onchain config: length %d, want %d", len(b), OnchainConfigLength)
	}
	if b[0] != OnchainConfigVersion {
		return nil, nil, fmt.Errorf("invalid onchain config: version %d, want %d", b[0], OnchainConfigVersion)
	}
	min, max = DecodeInt192(b[1:]), DecodeInt192(b[1+Int192Width:])
	if min.Cmp(max) > 0 {
		return nil, nil, fmt.Errorf("invalid onchain config: min %s is greater than max %s", min, max)
	}
	return min, max, nil
}
