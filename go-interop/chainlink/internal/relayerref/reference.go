// Package relayerref holds what relayer-ref-go (the reference relayer LOOP) and
// loop-host-go's relayer mode share: the schema of fixtures/relayer/reference.json
// and the byte layouts of the reference median provider. See ../../README.md.
package relayerref

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
)

// Schema is the value of reference.json's "schema" key this code reads.
const Schema = "loopp-relayer-reference/1"

// Status is an expected gRPC error: the code's name (codes.Code.String()) and the
// status message.
type Status struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

type ChainStatus struct {
	ID      string `json:"id"`
	Enabled bool   `json:"enabled"`
	Config  string `json:"config"`
}

type ChainInfo struct {
	FamilyName      string `json:"familyName"`
	ChainID         string `json:"chainID"`
	NetworkName     string `json:"networkName"`
	NetworkNameFull string `json:"networkNameFull"`
}

// Head's hash is hex without 0x.
type Head struct {
	Height    string `json:"height"`
	Hash      string `json:"hash"`
	Timestamp uint64 `json:"timestamp"`
}

type NodeStatus struct {
	ChainID string `json:"chainID"`
	Name    string `json:"name"`
	Config  string `json:"config"`
	State   string `json:"state"`
}

type Paging struct {
	PageSize          int32  `json:"pageSize"`
	BadPageToken      string `json:"badPageToken"`
	BadPageTokenError Status `json:"badPageTokenError"`
}

type TransactCall struct {
	From         string `json:"from"`
	To           string `json:"to"`
	Amount       string `json:"amount"`
	BalanceCheck bool   `json:"balanceCheck"`
}

type Transact struct {
	Call          TransactCall `json:"call"`
	EchoTo        string       `json:"echoTo"`
	EchoErrorNone Status       `json:"echoErrorNone"`
	EchoError     Status       `json:"echoError"`
}

type ReplayCall struct {
	FromBlock string         `json:"fromBlock"`
	Args      map[string]any `json:"args"`
}

type Replay struct {
	Call          ReplayCall `json:"call"`
	EchoFromBlock string     `json:"echoFromBlock"`
	EchoErrorNone Status     `json:"echoErrorNone"`
	EchoError     Status     `json:"echoError"`
}

type RelayArgs struct {
	ExternalJobID string `json:"externalJobID"`
	JobID         int32  `json:"jobID"`
	ContractID    string `json:"contractID"`
	New           bool   `json:"new"`
	RelayConfig   string `json:"relayConfig"`
	ProviderType  string `json:"providerType"`
}

type PluginArgs struct {
	TransmitterID string `json:"transmitterID"`
	PluginConfig  string `json:"pluginConfig"`
}

type ConfigDetails struct {
	ChangedInBlock uint64 `json:"changedInBlock"`
	ConfigDigest   string `json:"configDigest"`
}

// ContractConfig is libocr's ContractConfig; byte fields are hex.
type ContractConfig struct {
	ConfigDigest          string   `json:"configDigest"`
	ConfigCount           uint64   `json:"configCount"`
	Signers               []string `json:"signers"`
	Transmitters          []string `json:"transmitters"`
	F                     uint8    `json:"f"`
	OnchainConfig         string   `json:"onchainConfig"`
	OffchainConfigVersion uint64   `json:"offchainConfigVersion"`
	OffchainConfig        string   `json:"offchainConfig"`
}

type ConfigProvider struct {
	ConfigDigestPrefix  uint16         `json:"configDigestPrefix"`
	ConfigDigest        string         `json:"configDigest"`
	LatestConfigDetails ConfigDetails  `json:"latestConfigDetails"`
	LatestBlockHeight   uint64         `json:"latestBlockHeight"`
	ContractConfig      ContractConfig `json:"contractConfig"`
}

type DigestEpoch struct {
	ConfigDigest string `json:"configDigest"`
	Epoch        uint32 `json:"epoch"`
}

type ReportContext struct {
	ConfigDigest string `json:"configDigest"`
	Epoch        uint32 `json:"epoch"`
	Round        uint8  `json:"round"`
	ExtraHash    string `json:"extraHash"`
}

type Signature struct {
	Signature string `json:"signature"`
	Signer    uint8  `json:"signer"`
}

type TransmitCall struct {
	ReportContext ReportContext `json:"reportContext"`
	Signatures    []Signature   `json:"signatures"`
}

type ContractTransmitter struct {
	LatestConfigDigestAndEpoch              DigestEpoch  `json:"latestConfigDigestAndEpoch"`
	Transmit                                TransmitCall `json:"transmit"`
	LatestConfigDigestAndEpochAfterTransmit DigestEpoch  `json:"latestConfigDigestAndEpochAfterTransmit"`
	BadReport                               string       `json:"badReport"`
	BadReportError                          Status       `json:"badReportError"`
}

// Observation is libocr's median.ParsedAttributedObservation; big integers are
// decimal strings.
type Observation struct {
	Timestamp        uint32 `json:"timestamp"`
	Value            string `json:"value"`
	JuelsPerFeeCoin  string `json:"juelsPerFeeCoin"`
	GasPriceSubunits string `json:"gasPriceSubunits"`
	Observer         uint8  `json:"observer"`
}

type ReportLength struct {
	N   int `json:"n"`
	Max int `json:"max"`
}

type ReportCodec struct {
	Observations          []Observation `json:"observations"`
	Report                string        `json:"report"`
	Median                string        `json:"median"`
	ObservationsTimestamp uint32        `json:"observationsTimestamp"`
	MaxReportLength       ReportLength  `json:"maxReportLength"`
	EmptyError            Status        `json:"emptyError"`
}

type TransmissionDetails struct {
	ConfigDigest    string `json:"configDigest"`
	Epoch           uint32 `json:"epoch"`
	Round           uint8  `json:"round"`
	LatestAnswer    string `json:"latestAnswer"`
	LatestTimestamp int64  `json:"latestTimestamp"`
}

type RoundRequested struct {
	LookbackNanoseconds int64  `json:"lookbackNanoseconds"`
	ConfigDigest        string `json:"configDigest"`
	Epoch               uint32 `json:"epoch"`
	Round               uint8  `json:"round"`
}

type MedianContract struct {
	LatestTransmissionDetails              TransmissionDetails `json:"latestTransmissionDetails"`
	LatestTransmissionDetailsAfterTransmit TransmissionDetails `json:"latestTransmissionDetailsAfterTransmit"`
	LatestRoundRequested                   RoundRequested      `json:"latestRoundRequested"`
}

type OnchainConfigCodec struct {
	Min             string `json:"min"`
	Max             string `json:"max"`
	Encoded         string `json:"encoded"`
	BadEncoded      string `json:"badEncoded"`
	BadEncodedError Status `json:"badEncodedError"`
}

type Median struct {
	ContractTransmitter  ContractTransmitter `json:"contractTransmitter"`
	ReportCodec          ReportCodec         `json:"reportCodec"`
	MedianContract       MedianContract      `json:"medianContract"`
	OnchainConfigCodec   OnchainConfigCodec  `json:"onchainConfigCodec"`
	ContractReaderServed bool                `json:"contractReaderServed"`
	CodecServed          bool                `json:"codecServed"`
}

type BoundContract struct {
	Address string `json:"address"`
	Name    string `json:"name"`
}

// Sequence is types.Sequence; hashes are hex.
type Sequence struct {
	Cursor string         `json:"cursor"`
	TxHash string         `json:"txHash"`
	Head   Head           `json:"head"`
	Data   map[string]any `json:"data"`
}

type ReadCall struct {
	ReadName string         `json:"readName"`
	Params   map[string]any `json:"params"`
}

type QueryKey struct {
	Key   string `json:"key"`
	Limit uint64 `json:"limit"`
}

type QueryKeys struct {
	Keys  []string `json:"keys"`
	Limit uint64   `json:"limit"`
}

type ContractReader struct {
	Config           string                    `json:"config"`
	Binding          BoundContract             `json:"binding"`
	Reads            map[string]map[string]any `json:"reads"`
	GetLatestValue   ReadCall                  `json:"getLatestValue"`
	UnknownRead      string                    `json:"unknownRead"`
	UnknownReadError Status                    `json:"unknownReadError"`
	UnboundError     Status                    `json:"unboundError"`
	Batch            []string                  `json:"batch"`
	Sequences        map[string][]Sequence     `json:"sequences"`
	QueryKey         QueryKey                  `json:"queryKey"`
	QueryKeys        QueryKeys                 `json:"queryKeys"`
}

type Submit struct {
	ContractName  string         `json:"contractName"`
	Method        string         `json:"method"`
	Args          map[string]any `json:"args"`
	TransactionID string         `json:"transactionID"`
	ToAddress     string         `json:"toAddress"`
	Value         string         `json:"value"`
}

type FeeComponents struct {
	ExecutionFee        string `json:"executionFee"`
	DataAvailabilityFee string `json:"dataAvailabilityFee"`
}

type EstimateFee struct {
	Fee      string `json:"fee"`
	Decimals uint32 `json:"decimals"`
}

type ContractWriter struct {
	Config             string        `json:"config"`
	Submit             Submit        `json:"submit"`
	StatusBeforeSubmit int           `json:"statusBeforeSubmit"`
	StatusAfterSubmit  int           `json:"statusAfterSubmit"`
	DuplicateError     Status        `json:"duplicateError"`
	FeeComponents      FeeComponents `json:"feeComponents"`
	EstimateFee        EstimateFee   `json:"estimateFee"`
}

// Reference is the whole of reference.json.
type Reference struct {
	Schema                   string         `json:"schema"`
	ChainStatus              ChainStatus    `json:"chainStatus"`
	ChainInfo                ChainInfo      `json:"chainInfo"`
	LatestHead               Head           `json:"latestHead"`
	FinalizedHead            Head           `json:"finalizedHead"`
	Nodes                    []NodeStatus   `json:"nodes"`
	ListNodeStatuses         Paging         `json:"listNodeStatuses"`
	Transact                 Transact       `json:"transact"`
	Replay                   Replay         `json:"replay"`
	RelayArgs                RelayArgs      `json:"relayArgs"`
	PluginArgs               PluginArgs     `json:"pluginArgs"`
	UnsupportedProviderType  string         `json:"unsupportedProviderType"`
	UnsupportedProviderError Status         `json:"unsupportedProviderError"`
	ConfigProvider           ConfigProvider `json:"configProvider"`
	Median                   Median         `json:"median"`
	ContractReader           ContractReader `json:"contractReader"`
	ContractWriter           ContractWriter `json:"contractWriter"`
	NotImplemented           Status         `json:"notImplemented"`
}

// Load reads and checks a reference file. Unknown keys are errors, so a typo in
// the file cannot silently drop a value; JSON numbers inside free-form maps
// (reads, sequence data, params) become int64 when they are integers, so they
// travel as CBOR integers rather than floats.
func Load(path string) (*Reference, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reference file: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	dec.UseNumber()
	var ref Reference
	if err := dec.Decode(&ref); err != nil {
		return nil, fmt.Errorf("reference file %s: %w", path, err)
	}
	if ref.Schema != Schema {
		return nil, fmt.Errorf("reference file %s: schema %q, want %q", path, ref.Schema, Schema)
	}
	for _, m := range ref.ContractReader.Reads {
		normalizeMap(m)
	}
	for _, seqs := range ref.ContractReader.Sequences {
		for _, s := range seqs {
			normalizeMap(s.Data)
		}
	}
	normalizeMap(ref.ContractReader.GetLatestValue.Params)
	normalizeMap(ref.ContractWriter.Submit.Args)
	normalizeMap(ref.Replay.Call.Args)
	if err := validate(&ref); err != nil {
		return nil, fmt.Errorf("reference file %s: %w", path, err)
	}
	return &ref, nil
}

// validate converts every hex and integer field once, so that a bad file fails
// at load time rather than inside a call.
func validate(ref *Reference) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%v", r)
		}
	}()
	Hex(ref.LatestHead.Hash)
	Hex(ref.FinalizedHead.Hash)
	Int(ref.Transact.Call.Amount)
	cp := ref.ConfigProvider
	Digest(cp.ConfigDigest)
	Digest(cp.LatestConfigDetails.ConfigDigest)
	cc := cp.ContractConfig
	Digest(cc.ConfigDigest)
	Hex(cc.OnchainConfig)
	Hex(cc.OffchainConfig)
	for _, s := range cc.Signers {
		Hex(s)
	}
	m := ref.Median
	ct := m.ContractTransmitter
	Digest(ct.LatestConfigDigestAndEpoch.ConfigDigest)
	Digest(ct.LatestConfigDigestAndEpochAfterTransmit.ConfigDigest)
	Digest(ct.Transmit.ReportContext.ConfigDigest)
	Digest(ct.Transmit.ReportContext.ExtraHash)
	for _, s := range ct.Transmit.Signatures {
		Hex(s.Signature)
	}
	Hex(ct.BadReport)
	for _, o := range m.ReportCodec.Observations {
		Int(o.Value)
		Int(o.JuelsPerFeeCoin)
		Int(o.GasPriceSubunits)
	}
	Hex(m.ReportCodec.Report)
	Int(m.ReportCodec.Median)
	for _, d := range []TransmissionDetails{m.MedianContract.LatestTransmissionDetails, m.MedianContract.LatestTransmissionDetailsAfterTransmit} {
		Digest(d.ConfigDigest)
		Int(d.LatestAnswer)
	}
	Digest(m.MedianContract.LatestRoundRequested.ConfigDigest)
	Int(m.OnchainConfigCodec.Min)
	Int(m.OnchainConfigCodec.Max)
	Hex(m.OnchainConfigCodec.Encoded)
	Hex(m.OnchainConfigCodec.BadEncoded)
	for _, seqs := range ref.ContractReader.Sequences {
		for _, s := range seqs {
			Hex(s.TxHash)
			Hex(s.Head.Hash)
		}
	}
	w := ref.ContractWriter
	Int(w.Submit.Value)
	Int(w.FeeComponents.ExecutionFee)
	Int(w.FeeComponents.DataAvailabilityFee)
	Int(w.EstimateFee.Fee)
	return nil
}

func normalizeMap(m map[string]any) {
	for k, v := range m {
		m[k] = Normalize(v)
	}
}

// Normalize turns json.Number into int64 (or float64 when not integral) and
// recurses into maps and slices.
func Normalize(v any) any {
	switch x := v.(type) {
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	case map[string]any:
		normalizeMap(x)
		return x
	case []any:
		for i := range x {
			x[i] = Normalize(x[i])
		}
		return x
	}
	return v
}

// Hex decodes a hex field of the reference; the reference is checked data, so a
// bad field is a programming error in the file and panics with its value.
func Hex(s string) []byte {
	b, err := hex.DecodeString(s)
	if err != nil {
		panic(fmt.Sprintf("reference: bad hex %q: %v", s, err))
	}
	return b
}

// Digest decodes a 32-byte hex field.
func Digest(s string) [32]byte {
	var d [32]byte
	b := Hex(s)
	if len(b) != 32 {
		panic(fmt.Sprintf("reference: digest %q has %d bytes, want 32", s, len(b)))
	}
	copy(d[:], b)
	return d
}

// Int parses a decimal big integer field.
func Int(s string) *big.Int {
	i, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(fmt.Sprintf("reference: bad integer %q", s))
	}
	return i
}
