package main

import (
	"context"
	"encoding/json"
	"fmt"
	"math/big"
	"strconv"
	"sync"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/smartcontractkit/chainlink-common/pkg/logger"
	"github.com/smartcontractkit/chainlink-common/pkg/loop"
	"github.com/smartcontractkit/chainlink-common/pkg/types"
	"github.com/smartcontractkit/chainlink-common/pkg/types/core"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// errNotImplemented is the answer of the methods the reference leaves out.
const errNotImplemented = types.UnimplementedError("not implemented")

type pluginRelayer struct {
	service
	lggr logger.Logger
}

func newPluginRelayer(lggr logger.Logger) *pluginRelayer {
	return &pluginRelayer{service: service{name: "PluginRelayerRef"}, lggr: lggr}
}

func (p *pluginRelayer) NewRelayer(_ context.Context, config string, _, _ core.Keystore, _ core.CapabilitiesRegistry) (loop.Relayer, error) {
	ref, err := loadConfig(config)
	if err != nil {
		return nil, err
	}
	p.lggr.Infow("reference relayer created", "chainID", ref.ChainInfo.ChainID)
	return &relayer{service: service{name: "RelayerRef"}, ref: ref}, nil
}

// relayer serves reference.json. Transact and Replay record their last call;
// a call to the reference's echo sentinel answers FailedPrecondition with that
// record, which is how a host observes what the relayer received.
type relayer struct {
	service
	ref *relayerref.Reference

	mu           sync.Mutex
	lastTransact string
	lastReplay   string
}

var _ loop.Relayer = (*relayer)(nil)

func head(h relayerref.Head) types.Head {
	return types.Head{Height: h.Height, Hash: relayerref.Hex(h.Hash), Timestamp: h.Timestamp}
}

func (r *relayer) LatestHead(context.Context) (types.Head, error) { return head(r.ref.LatestHead), nil }

func (r *relayer) FinalizedHead(context.Context) (types.Head, error) {
	return head(r.ref.FinalizedHead), nil
}

func (r *relayer) GetChainStatus(context.Context) (types.ChainStatus, error) {
	c := r.ref.ChainStatus
	return types.ChainStatus{ID: c.ID, Enabled: c.Enabled, Config: c.Config}, nil
}

func (r *relayer) GetChainInfo(context.Context) (types.ChainInfo, error) {
	c := r.ref.ChainInfo
	return types.ChainInfo{FamilyName: c.FamilyName, ChainID: c.ChainID, NetworkName: c.NetworkName, NetworkNameFull: c.NetworkNameFull}, nil
}

// ListNodeStatuses pages the reference nodes. The page token is the decimal
// index of the first node of the page; "" starts at 0 and, as next token, means
// no more pages. pageSize <= 0 means everything left.
func (r *relayer) ListNodeStatuses(_ context.Context, pageSize int32, pageToken string) ([]types.NodeStatus, string, int, error) {
	nodes := r.ref.Nodes
	start := 0
	if pageToken != "" {
		i, err := strconv.Atoi(pageToken)
		if err != nil || i < 0 || i > len(nodes) || strconv.Itoa(i) != pageToken {
			return nil, "", 0, status.Errorf(codes.InvalidArgument, "invalid page_token %q", pageToken)
		}
		start = i
	}
	end := len(nodes)
	if pageSize > 0 && start+int(pageSize) < end {
		end = start + int(pageSize)
	}
	page := make([]types.NodeStatus, 0, end-start)
	for _, n := range nodes[start:end] {
		page = append(page, types.NodeStatus{ChainID: n.ChainID, Name: n.Name, Config: n.Config, State: n.State})
	}
	next := ""
	if end < len(nodes) {
		next = strconv.Itoa(end)
	}
	return page, next, len(nodes), nil
}

func (r *relayer) Transact(_ context.Context, from, to string, amount *big.Int, balanceCheck bool) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if to == r.ref.Transact.EchoTo {
		if r.lastTransact == "" {
			return status.Error(codes.FailedPrecondition, "last transact: none")
		}
		return status.Error(codes.FailedPrecondition, "last transact: "+r.lastTransact)
	}
	if amount == nil {
		amount = new(big.Int)
	}
	r.lastTransact = fmt.Sprintf("from=%s to=%s amount=%s balanceCheck=%t", from, to, amount, balanceCheck)
	return nil
}

func (r *relayer) Replay(_ context.Context, fromBlock string, args map[string]any) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if fromBlock == r.ref.Replay.EchoFromBlock {
		if r.lastReplay == "" {
			return status.Error(codes.FailedPrecondition, "last replay: none")
		}
		return status.Error(codes.FailedPrecondition, "last replay: "+r.lastReplay)
	}
	if args == nil {
		args = map[string]any{}
	}
	// encoding/json sorts map keys, so the record is deterministic.
	b, err := json.Marshal(args)
	if err != nil {
		return status.Errorf(codes.InvalidArgument, "replay args: %v", err)
	}
	r.lastReplay = fmt.Sprintf("fromBlock=%s args=%s", fromBlock, b)
	return nil
}

func (r *relayer) NewContractReader(_ context.Context, _ []byte) (types.ContractReader, error) {
	return newContractReader(r.ref), nil
}

func (r *relayer) NewContractWriter(_ context.Context, _ []byte) (types.ContractWriter, error) {
	return newContractWriter(r.ref), nil
}

func (r *relayer) NewConfigProvider(_ context.Context, _ types.RelayArgs) (types.ConfigProvider, error) {
	return newConfigProvider(r.ref, "ConfigProviderRef"), nil
}

// NewMedianProvider is what chainlink-common's relayer server calls for
// ProviderType "median" (loop's MedianProvider interface).
func (r *relayer) NewMedianProvider(_ context.Context, _ types.RelayArgs, pargs types.PluginArgs) (types.MedianProvider, error) {
	return newMedianProvider(r.ref, pargs), nil
}

// NewPluginProvider is reached by the server only for provider types it routes
// to the generic path; median is answered too, for in-process callers.
func (r *relayer) NewPluginProvider(ctx context.Context, rargs types.RelayArgs, pargs types.PluginArgs) (types.PluginProvider, error) {
	if rargs.ProviderType == string(types.Median) {
		return r.NewMedianProvider(ctx, rargs, pargs)
	}
	return nil, types.InvalidArgumentError(fmt.Sprintf("relayer-ref: provider type %q is not supported (supported: median)", rargs.ProviderType))
}

func (r *relayer) NewLLOProvider(context.Context, types.RelayArgs, types.PluginArgs) (types.LLOProvider, error) {
	return nil, errNotImplemented
}

func (r *relayer) NewCCIPProvider(context.Context, types.CCIPProviderArgs) (types.CCIPProvider, error) {
	return nil, errNotImplemented
}

func (r *relayer) EVM() (types.EVMService, error)         { return nil, errNotImplemented }
func (r *relayer) TON() (types.TONService, error)         { return nil, errNotImplemented }
func (r *relayer) Solana() (types.SolanaService, error)   { return nil, errNotImplemented }
func (r *relayer) Aptos() (types.AptosService, error)     { return nil, errNotImplemented }
func (r *relayer) Stellar() (types.StellarService, error) { return nil, errNotImplemented }
