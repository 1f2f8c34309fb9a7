package main

import (
	"context"
	"math/big"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/smartcontractkit/chainlink-common/pkg/types"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// contractWriter records submitted transaction ids: a submitted id has the
// reference's statusAfterSubmit, any other id statusBeforeSubmit, and a second
// submit of one id is AlreadyExists.
type contractWriter struct {
	service
	ref *relayerref.ContractWriter

	mu        sync.Mutex
	submitted map[string]bool
}

func newContractWriter(ref *relayerref.Reference) *contractWriter {
	return &contractWriter{service: service{name: "ContractWriterRef"}, ref: &ref.ContractWriter, submitted: map[string]bool{}}
}

func (w *contractWriter) SubmitTransaction(_ context.Context, _, _ string, _ any, transactionID types.IdempotencyKey, _ string, _ *types.TxMeta, _ *big.Int) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.submitted[transactionID] {
		return status.Error(codes.AlreadyExists, "duplicate transaction id: "+transactionID)
	}
	w.submitted[transactionID] = true
	return nil
}

func (w *contractWriter) GetTransactionStatus(_ context.Context, transactionID types.IdempotencyKey) (types.TransactionStatus, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.submitted[transactionID] {
		return types.TransactionStatus(w.ref.StatusAfterSubmit), nil
	}
	return types.TransactionStatus(w.ref.StatusBeforeSubmit), nil
}

func (w *contractWriter) GetFeeComponents(context.Context) (*types.ChainFeeComponents, error) {
	f := w.ref.FeeComponents
	return &types.ChainFeeComponents{ExecutionFee: relayerref.Int(f.ExecutionFee), DataAvailabilityFee: relayerref.Int(f.DataAvailabilityFee)}, nil
}

func (w *contractWriter) GetEstimateFee(context.Context, string, string, any, string, *types.TxMeta, *big.Int) (types.EstimateFee, error) {
	return types.EstimateFee{Fee: relayerref.Int(w.ref.EstimateFee.Fee), Decimals: w.ref.EstimateFee.Decimals}, nil
}
