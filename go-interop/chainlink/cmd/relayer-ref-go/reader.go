package main

import (
	"context"
	"fmt"
	"iter"
	"maps"
	"strings"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/smartcontractkit/chainlink-common/pkg/types"
	"github.com/smartcontractkit/chainlink-common/pkg/types/query"
	"github.com/smartcontractkit/chainlink-common/pkg/types/query/primitives"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// contractReader answers reads of the reference binding once it is bound.
// Read identifiers are "<address>-<name>-<readName>" (types.BoundContract.ReadIdentifier).
// Reading a contract that is not bound is FailedPrecondition; an unknown read of
// a bound contract is NotFound. Query filters' expressions are ignored; the
// limit's Count, when > 0, caps the number of sequences.
type contractReader struct {
	types.UnimplementedContractReader
	ref   *relayerref.ContractReader
	mu    sync.Mutex
	bound map[string]bool
}

func newContractReader(ref *relayerref.Reference) *contractReader {
	return &contractReader{ref: &ref.ContractReader, bound: map[string]bool{}}
}

func (c *contractReader) Name() string                   { return "ContractReaderRef" }
func (c *contractReader) HealthReport() map[string]error { return map[string]error{c.Name(): nil} }

func notBound(contract string) error {
	return status.Error(codes.FailedPrecondition, "contract not bound: "+contract)
}

func (c *contractReader) isBound(contract string) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.bound[contract]
}

// read looks up one read of a bound contract.
func (c *contractReader) read(contract, readName string) (map[string]any, error) {
	b := c.ref.Binding
	if contract == (types.BoundContract{Address: b.Address, Name: b.Name}).String() {
		if v, ok := c.ref.Reads[readName]; ok {
			return maps.Clone(v), nil
		}
	}
	return nil, types.NotFoundError("not found: " + contract + "-" + readName)
}

// fill stores v into the *map[string]any chainlink-common's server decodes into.
func fill(into any, v map[string]any) error {
	p, ok := into.(*map[string]any)
	if !ok {
		return types.InvalidArgumentError(fmt.Sprintf("invalid type: want *map[string]any, got %T", into))
	}
	*p = v
	return nil
}

func (c *contractReader) GetLatestValue(_ context.Context, readIdentifier string, _ primitives.ConfidenceLevel, _, returnVal any) error {
	i := strings.LastIndex(readIdentifier, "-")
	if i < 0 {
		return types.NotFoundError("not found: " + readIdentifier)
	}
	contract, readName := readIdentifier[:i], readIdentifier[i+1:]
	if !c.isBound(contract) {
		return notBound(contract)
	}
	v, err := c.read(contract, readName)
	if err != nil {
		return err
	}
	return fill(returnVal, v)
}

func (c *contractReader) GetLatestValueWithHeadData(ctx context.Context, readIdentifier string, cl primitives.ConfidenceLevel, params, returnVal any) (*types.Head, error) {
	return nil, errNotImplemented
}

// BatchGetLatestValues answers each read on its own: an unknown read is a
// per-read "not found: …" error, not an error of the call.
func (c *contractReader) BatchGetLatestValues(_ context.Context, req types.BatchGetLatestValuesRequest) (types.BatchGetLatestValuesResult, error) {
	out := types.BatchGetLatestValuesResult{}
	for bc, batch := range req {
		if !c.isBound(bc.String()) {
			return nil, notBound(bc.String())
		}
		results := make(types.ContractBatchResults, 0, len(batch))
		for _, read := range batch {
			res := types.BatchReadResult{ReadName: read.ReadName}
			v, err := c.read(bc.String(), read.ReadName)
			if err == nil {
				err = fill(read.ReturnVal, v)
			}
			res.SetResult(read.ReturnVal, err)
			results = append(results, res)
		}
		out[bc] = results
	}
	return out, nil
}

// sequences returns the reference sequences of one key of a bound contract.
func (c *contractReader) sequences(bc types.BoundContract, key string) ([]types.Sequence, error) {
	if !c.isBound(bc.String()) {
		return nil, notBound(bc.String())
	}
	if bc.Address != c.ref.Binding.Address || bc.Name != c.ref.Binding.Name {
		return nil, nil
	}
	var out []types.Sequence
	for _, s := range c.ref.Sequences[key] {
		out = append(out, types.Sequence{Cursor: s.Cursor, TxHash: relayerref.Hex(s.TxHash),
			Head: types.Head{Height: s.Head.Height, Hash: relayerref.Hex(s.Head.Hash), Timestamp: s.Head.Timestamp},
			Data: maps.Clone(s.Data)})
	}
	return out, nil
}

func limit[T any](s []T, ls query.LimitAndSort) []T {
	if n := ls.Limit.Count; n > 0 && uint64(len(s)) > n {
		return s[:n]
	}
	return s
}

func (c *contractReader) QueryKey(_ context.Context, bc types.BoundContract, filter query.KeyFilter, ls query.LimitAndSort, _ any) ([]types.Sequence, error) {
	seqs, err := c.sequences(bc, filter.Key)
	if err != nil {
		return nil, err
	}
	return limit(seqs, ls), nil
}

// QueryKeys yields the sequences of each filter in filter order; the limit
// applies to the whole answer.
func (c *contractReader) QueryKeys(_ context.Context, filters []types.ContractKeyFilter, ls query.LimitAndSort) (iter.Seq2[string, types.Sequence], error) {
	type keyed struct {
		key string
		seq types.Sequence
	}
	var all []keyed
	for _, f := range filters {
		seqs, err := c.sequences(f.Contract, f.Key)
		if err != nil {
			return nil, err
		}
		for _, s := range seqs {
			all = append(all, keyed{f.Key, s})
		}
	}
	all = limit(all, ls)
	return func(yield func(string, types.Sequence) bool) {
		for _, k := range all {
			if !yield(k.key, k.seq) {
				return
			}
		}
	}, nil
}

func (c *contractReader) Bind(_ context.Context, bindings []types.BoundContract) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range bindings {
		c.bound[b.String()] = true
	}
	return nil
}

func (c *contractReader) Unbind(_ context.Context, bindings []types.BoundContract) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, b := range bindings {
		delete(c.bound, b.String())
	}
	return nil
}
