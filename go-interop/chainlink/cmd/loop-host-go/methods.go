package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/google/uuid"
	"google.golang.org/grpc/status"

	"github.com/smartcontractkit/libocr/commontypes"
	"github.com/smartcontractkit/libocr/offchainreporting2/reportingplugin/median"
	ocrtypes "github.com/smartcontractkit/libocr/offchainreporting2plus/types"

	"github.com/smartcontractkit/chainlink-common/pkg/loop"
	"github.com/smartcontractkit/chainlink-common/pkg/types"
	"github.com/smartcontractkit/chainlink-common/pkg/types/query"
	"github.com/smartcontractkit/chainlink-common/pkg/types/query/primitives"

	"loopp/go-interop/chainlink/internal/relayerref"
)

// errorWaitTimeout bounds the calls that are expected to fail inside
// chainlink-common's lazy client connection, which retries a failing
// New*Provider with backoff until its context ends.
const errorWaitTimeout = 2 * time.Second

// results maps a stable method key to {"result": value} or {"error": {...}}.
type results map[string]any

func (r results) put(key string, v any, err error) {
	if err != nil {
		r[key] = map[string]any{"error": errInfo(err)}
		return
	}
	r[key] = map[string]any{"result": v}
}

// putCode records only the error's code: for calls answered by the gRPC runtime
// itself (an unregistered service), whose message differs between gRPC stacks.
func (r results) putCode(key string, err error) {
	if err == nil {
		r[key] = map[string]any{"result": "no error"}
		return
	}
	info := errInfo(err)
	delete(info, "message")
	r[key] = map[string]any{"error": info}
}

// errInfo is {code, message} of the gRPC status inside err (the innermost
// answer of the plugin, without the client's wrapping), or {message} for a
// client-side error.
func errInfo(err error) map[string]any {
	var gs interface{ GRPCStatus() *status.Status }
	if errors.As(err, &gs) {
		if st := gs.GRPCStatus(); st != nil {
			return map[string]any{"code": st.Code().String(), "message": st.Message()}
		}
	}
	return map[string]any{"message": err.Error()}
}

func hexOf(b []byte) string { return hex.EncodeToString(b) }

func headOut(h types.Head) map[string]any {
	return map[string]any{"height": h.Height, "hash": hexOf(h.Hash), "timestamp": h.Timestamp}
}

func bigOut(i *big.Int) string {
	if i == nil {
		return "<nil>"
	}
	return i.String()
}

func contractConfigOut(c ocrtypes.ContractConfig) map[string]any {
	signers := []string{}
	for _, s := range c.Signers {
		signers = append(signers, hexOf(s))
	}
	transmitters := []string{}
	for _, t := range c.Transmitters {
		transmitters = append(transmitters, string(t))
	}
	return map[string]any{"configDigest": hexOf(c.ConfigDigest[:]), "configCount": c.ConfigCount,
		"signers": signers, "transmitters": transmitters, "f": c.F, "onchainConfig": hexOf(c.OnchainConfig),
		"offchainConfigVersion": c.OffchainConfigVersion, "offchainConfig": hexOf(c.OffchainConfig)}
}

func refContractConfig(rc relayerref.ContractConfig) ocrtypes.ContractConfig {
	cc := ocrtypes.ContractConfig{ConfigDigest: relayerref.Digest(rc.ConfigDigest), ConfigCount: rc.ConfigCount,
		F: rc.F, OnchainConfig: relayerref.Hex(rc.OnchainConfig), OffchainConfigVersion: rc.OffchainConfigVersion,
		OffchainConfig: relayerref.Hex(rc.OffchainConfig)}
	for _, s := range rc.Signers {
		cc.Signers = append(cc.Signers, relayerref.Hex(s))
	}
	for _, t := range rc.Transmitters {
		cc.Transmitters = append(cc.Transmitters, ocrtypes.Account(t))
	}
	return cc
}

func relayArgs(ref *relayerref.Reference, providerType string) (types.RelayArgs, error) {
	a := ref.RelayArgs
	id, err := uuid.Parse(a.ExternalJobID)
	if err != nil {
		return types.RelayArgs{}, fmt.Errorf("reference relayArgs.externalJobID: %w", err)
	}
	return types.RelayArgs{ExternalJobID: id, JobID: a.JobID, ContractID: a.ContractID, New: a.New,
		RelayConfig: []byte(a.RelayConfig), ProviderType: providerType}, nil
}

// callAll calls every chainlink-common v1.3.1 Relayer method, and every method
// of what the factories return, with the inputs of the reference file.
func callAll(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference) (results, error) {
	out := results{}
	callChain(ctx, rs, ref, out)
	rargs, err := relayArgs(ref, ref.RelayArgs.ProviderType)
	if err != nil {
		return nil, err
	}
	cp, err := rs.NewConfigProvider(ctx, rargs)
	if err != nil {
		out.put("configProvider", nil, err)
	} else {
		callConfigProvider(ctx, "configProvider.", cp, ref, out)
	}
	pargs := types.PluginArgs{TransmitterID: ref.PluginArgs.TransmitterID, PluginConfig: []byte(ref.PluginArgs.PluginConfig)}
	pp, err := rs.NewPluginProvider(ctx, rargs, pargs)
	if mp, ok := pp.(types.MedianProvider); err == nil && ok {
		callMedian(ctx, mp, ref, out)
	} else {
		out.put("median", nil, errors.Join(err, fmt.Errorf("provider is %T, not a MedianProvider", pp)))
	}
	callUnsupported(ctx, rs, ref, out)
	callReader(ctx, rs, ref, out)
	callWriter(ctx, rs, ref, out)
	return out, nil
}

func callChain(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference, out results) {
	st, err := rs.GetChainStatus(ctx)
	out.put("getChainStatus", map[string]any{"id": st.ID, "enabled": st.Enabled, "config": st.Config}, err)
	info, err := rs.GetChainInfo(ctx)
	out.put("getChainInfo", map[string]any{"familyName": info.FamilyName, "chainID": info.ChainID,
		"networkName": info.NetworkName, "networkNameFull": info.NetworkNameFull}, err)
	h, err := rs.LatestHead(ctx)
	out.put("latestHead", headOut(h), err)
	h, err = rs.FinalizedHead(ctx)
	out.put("finalizedHead", headOut(h), err)
	listNodes(ctx, rs, ref.ListNodeStatuses.PageSize, out)
	_, _, _, err = rs.ListNodeStatuses(ctx, ref.ListNodeStatuses.PageSize, ref.ListNodeStatuses.BadPageToken)
	out.put("listNodeStatusesBadToken", nil, err)

	t := ref.Transact
	out.put("transactEchoNone", nil, rs.Transact(ctx, t.Call.From, t.EchoTo, new(big.Int), false))
	out.put("transact", nil, rs.Transact(ctx, t.Call.From, t.Call.To, relayerref.Int(t.Call.Amount), t.Call.BalanceCheck))
	out.put("transactEcho", nil, rs.Transact(ctx, t.Call.From, t.EchoTo, new(big.Int), false))
	rp := ref.Replay
	out.put("replayEchoNone", nil, rs.Replay(ctx, rp.EchoFromBlock, map[string]any{}))
	out.put("replay", nil, rs.Replay(ctx, rp.Call.FromBlock, rp.Call.Args))
	out.put("replayEcho", nil, rs.Replay(ctx, rp.EchoFromBlock, map[string]any{}))
}

// listNodes pages ListNodeStatuses to the end. chainlink-common v1.3.1's
// relayer client never copies next_page_token out of the reply (it always
// returns ""), so the host cannot follow the plugin's tokens: it sends the
// reference's token format instead (the decimal index of the page's first node)
// and stops once it has seen total nodes. Each page records the token the
// client handed back as clientNextPageToken.
func listNodes(ctx context.Context, rs *loop.RelayerService, pageSize int32, out results) {
	pages := []any{}
	seen := 0
	for i := 0; i < 1000; i++ {
		token := ""
		if seen > 0 {
			token = strconv.Itoa(seen)
		}
		nodes, next, total, err := rs.ListNodeStatuses(ctx, pageSize, token)
		if err != nil {
			out.put("listNodeStatuses", nil, fmt.Errorf("page %d (token %q): %w", i, token, err))
			return
		}
		pages = append(pages, map[string]any{"pageToken": token, "nodes": nodesOut(nodes),
			"clientNextPageToken": next, "total": total})
		seen += len(nodes)
		if len(nodes) == 0 || seen >= total {
			out.put("listNodeStatuses", map[string]any{"pageSize": pageSize, "pages": pages}, nil)
			return
		}
	}
	out.put("listNodeStatuses", nil, errors.New("more than 1000 pages"))
}

func nodesOut(nodes []types.NodeStatus) []any {
	list := []any{}
	for _, n := range nodes {
		list = append(list, map[string]any{"chainID": n.ChainID, "name": n.Name, "config": n.Config, "state": n.State})
	}
	return list
}

func callConfigProvider(ctx context.Context, prefix string, cp types.ConfigProvider, ref *relayerref.Reference, out results) {
	d := cp.OffchainConfigDigester()
	p, err := d.ConfigDigestPrefix(ctx)
	out.put(prefix+"configDigestPrefix", uint16(p), err)
	dg, err := d.ConfigDigest(ctx, refContractConfig(ref.ConfigProvider.ContractConfig))
	out.put(prefix+"configDigest", hexOf(dg[:]), err)
	t := cp.ContractConfigTracker()
	block, dg, err := t.LatestConfigDetails(ctx)
	out.put(prefix+"latestConfigDetails", map[string]any{"changedInBlock": block, "configDigest": hexOf(dg[:])}, err)
	cc, err := t.LatestConfig(ctx, block)
	out.put(prefix+"latestConfig", contractConfigOut(cc), err)
	height, err := t.LatestBlockHeight(ctx)
	out.put(prefix+"latestBlockHeight", height, err)
}

func transmissionOut(dg ocrtypes.ConfigDigest, epoch uint32, round uint8, answer *big.Int, ts time.Time) map[string]any {
	return map[string]any{"configDigest": hexOf(dg[:]), "epoch": epoch, "round": round,
		"latestAnswer": bigOut(answer), "latestTimestamp": ts.Unix()}
}

func callMedian(ctx context.Context, mp types.MedianProvider, ref *relayerref.Reference, out results) {
	m := ref.Median
	callConfigProvider(ctx, "median.", mp, ref, out)
	out.put("median.contractReaderServed", mp.ContractReader() != nil, nil)
	out.put("median.codecServed", mp.Codec() != nil, nil)

	ct := mp.ContractTransmitter()
	acct, err := ct.FromAccount(ctx)
	out.put("median.fromAccount", string(acct), err)
	digestEpoch := func(key string) {
		dg, epoch, err := ct.LatestConfigDigestAndEpoch(ctx)
		out.put(key, map[string]any{"configDigest": hexOf(dg[:]), "epoch": epoch}, err)
	}
	mc := mp.MedianContract()
	details := func(key string) {
		dg, epoch, round, answer, ts, err := mc.LatestTransmissionDetails(ctx)
		out.put(key, transmissionOut(dg, epoch, round, answer, ts), err)
	}
	digestEpoch("median.latestConfigDigestAndEpoch")
	details("median.latestTransmissionDetails")
	rr := m.MedianContract.LatestRoundRequested
	dg, epoch, round, err := mc.LatestRoundRequested(ctx, time.Duration(rr.LookbackNanoseconds))
	out.put("median.latestRoundRequested", map[string]any{"configDigest": hexOf(dg[:]), "epoch": epoch, "round": round}, err)

	rc := mp.ReportCodec()
	var obs []median.ParsedAttributedObservation
	for _, o := range m.ReportCodec.Observations {
		obs = append(obs, median.ParsedAttributedObservation{Timestamp: o.Timestamp, Value: relayerref.Int(o.Value),
			JuelsPerFeeCoin: relayerref.Int(o.JuelsPerFeeCoin), GasPriceSubunits: relayerref.Int(o.GasPriceSubunits),
			Observer: commontypes.OracleID(o.Observer)})
	}
	report, err := rc.BuildReport(ctx, obs)
	out.put("median.buildReport", hexOf(report), err)
	_, err = rc.BuildReport(ctx, nil)
	out.put("median.buildReportEmpty", nil, err)
	med, err := rc.MedianFromReport(ctx, relayerref.Hex(m.ReportCodec.Report))
	out.put("median.medianFromReport", bigOut(med), err)
	n, err := rc.MaxReportLength(ctx, m.ReportCodec.MaxReportLength.N)
	out.put("median.maxReportLength", n, err)

	occ := mp.OnchainConfigCodec()
	oc := m.OnchainConfigCodec
	enc, err := occ.Encode(ctx, median.OnchainConfig{Min: relayerref.Int(oc.Min), Max: relayerref.Int(oc.Max)})
	out.put("median.onchainConfigEncode", hexOf(enc), err)
	dec, err := occ.Decode(ctx, relayerref.Hex(oc.Encoded))
	out.put("median.onchainConfigDecode", map[string]any{"min": bigOut(dec.Min), "max": bigOut(dec.Max)}, err)
	_, err = occ.Decode(ctx, relayerref.Hex(oc.BadEncoded))
	out.put("median.onchainConfigDecodeBad", nil, err)

	tr := m.ContractTransmitter.Transmit
	repCtx := ocrtypes.ReportContext{ReportTimestamp: ocrtypes.ReportTimestamp{
		ConfigDigest: relayerref.Digest(tr.ReportContext.ConfigDigest), Epoch: tr.ReportContext.Epoch, Round: tr.ReportContext.Round},
		ExtraHash: relayerref.Digest(tr.ReportContext.ExtraHash)}
	var sigs []ocrtypes.AttributedOnchainSignature
	for _, s := range tr.Signatures {
		sigs = append(sigs, ocrtypes.AttributedOnchainSignature{Signature: relayerref.Hex(s.Signature), Signer: commontypes.OracleID(s.Signer)})
	}
	out.put("median.transmitBadReport", nil, ct.Transmit(ctx, repCtx, relayerref.Hex(m.ContractTransmitter.BadReport), sigs))
	out.put("median.transmit", nil, ct.Transmit(ctx, repCtx, relayerref.Hex(m.ReportCodec.Report), sigs))
	digestEpoch("median.latestConfigDigestAndEpochAfterTransmit")
	details("median.latestTransmissionDetailsAfterTransmit")
}

// callUnsupported covers the methods the reference answers with an error.
func callUnsupported(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference, out results) {
	ectx, cancel := context.WithTimeout(ctx, errorWaitTimeout)
	defer cancel()
	rargs, _ := relayArgs(ref, ref.UnsupportedProviderType)
	pp, err := rs.NewPluginProvider(ectx, rargs, types.PluginArgs{TransmitterID: ref.PluginArgs.TransmitterID})
	if err == nil {
		// the provider is created lazily: the first call makes the plugin build it
		_, err = pp.OffchainConfigDigester().ConfigDigestPrefix(ectx)
	}
	out.put("unsupportedProvider", nil, err)

	_, err = rs.NewLLOProvider(ctx, rargs, types.PluginArgs{})
	out.put("newLLOProvider", nil, err)
	ccip, err := rs.NewCCIPProvider(ctx, types.CCIPProviderArgs{ExternalJobID: rargs.ExternalJobID})
	if err == nil {
		err = ccip.Ready() // lazily creates the provider, within its own 1 s bound
	}
	out.put("newCCIPProvider", nil, err)

	if evm, err := rs.EVM(); err == nil {
		_, err = evm.GetFiltersNames(ctx)
		out.putCode("evm.getFiltersNames", err)
	} else {
		out.putCode("evm.getFiltersNames", err)
	}
	if ton, err := rs.TON(); err == nil {
		_, _, err = ton.GetTxStatus(ctx, 0)
		out.putCode("ton.getTxStatus", err)
	} else {
		out.putCode("ton.getTxStatus", err)
	}
	if sol, err := rs.Solana(); err == nil {
		_, err = sol.GetFiltersNames(ctx)
		out.putCode("solana.getFiltersNames", err)
	} else {
		out.putCode("solana.getFiltersNames", err)
	}
	if apt, err := rs.Aptos(); err == nil {
		_, err = apt.LedgerVersion(ctx)
		out.putCode("aptos.ledgerVersion", err)
	} else {
		out.putCode("aptos.ledgerVersion", err)
	}
	if stl, err := rs.Stellar(); err == nil {
		_, err = stl.GetSigningAccount(ctx)
		out.putCode("stellar.getSigningAccount", err)
	} else {
		out.putCode("stellar.getSigningAccount", err)
	}
}

func sequenceOut(s types.Sequence) map[string]any {
	return map[string]any{"cursor": s.Cursor, "txHash": hexOf(s.TxHash), "head": headOut(s.Head), "data": s.Data}
}

func callReader(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference, out results) {
	r := ref.ContractReader
	cr, err := rs.NewContractReader(ctx, []byte(r.Config))
	if err != nil {
		out.put("contractReader", nil, err)
		return
	}
	bc := types.BoundContract{Address: r.Binding.Address, Name: r.Binding.Name}
	get := func(key, readName string) {
		var v map[string]any
		err := cr.GetLatestValue(ctx, bc.ReadIdentifier(readName), primitives.Unconfirmed, r.GetLatestValue.Params, &v)
		out.put(key, v, err)
	}
	get("contractReader.getLatestValueUnbound", r.GetLatestValue.ReadName)
	out.put("contractReader.bind", nil, cr.Bind(ctx, []types.BoundContract{bc}))
	get("contractReader.getLatestValue", r.GetLatestValue.ReadName)
	get("contractReader.getLatestValueUnknown", r.UnknownRead)

	batch := types.ContractBatch{}
	for _, name := range r.Batch {
		batch = append(batch, types.BatchRead{ReadName: name, Params: map[string]any{}, ReturnVal: &map[string]any{}})
	}
	res, err := cr.BatchGetLatestValues(ctx, types.BatchGetLatestValuesRequest{bc: batch})
	list := []any{}
	for _, br := range res[bc] {
		v, rerr := br.GetResult()
		if rerr != nil {
			list = append(list, map[string]any{"readName": br.ReadName, "error": rerr.Error()})
		} else {
			list = append(list, map[string]any{"readName": br.ReadName, "value": v})
		}
	}
	out.put("contractReader.batchGetLatestValues", list, err)

	qk := r.QueryKey
	seqs, err := cr.QueryKey(ctx, bc, query.KeyFilter{Key: qk.Key}, query.LimitAndSort{Limit: query.Limit{Count: qk.Limit}}, &map[string]any{})
	list = []any{}
	for _, s := range seqs {
		list = append(list, sequenceOut(s))
	}
	out.put("contractReader.queryKey", list, err)

	var filters []types.ContractKeyFilter
	for _, k := range r.QueryKeys.Keys {
		filters = append(filters, types.ContractKeyFilter{KeyFilter: query.KeyFilter{Key: k}, Contract: bc, SequenceDataType: &map[string]any{}})
	}
	it, err := cr.QueryKeys(ctx, filters, query.LimitAndSort{Limit: query.Limit{Count: r.QueryKeys.Limit}})
	list = []any{}
	if err == nil {
		for key, s := range it {
			o := sequenceOut(s)
			o["key"] = key
			list = append(list, o)
		}
	}
	out.put("contractReader.queryKeys", list, err)

	out.put("contractReader.unbind", nil, cr.Unbind(ctx, []types.BoundContract{bc}))
	get("contractReader.getLatestValueAfterUnbind", r.GetLatestValue.ReadName)
}

func callWriter(ctx context.Context, rs *loop.RelayerService, ref *relayerref.Reference, out results) {
	w := ref.ContractWriter
	cw, err := rs.NewContractWriter(ctx, []byte(w.Config))
	if err != nil {
		out.put("contractWriter", nil, err)
		return
	}
	s := w.Submit
	txStatus := func(key string) {
		st, err := cw.GetTransactionStatus(ctx, s.TransactionID)
		out.put(key, int(st), err)
	}
	txStatus("contractWriter.getTransactionStatusBefore")
	submit := func() error {
		return cw.SubmitTransaction(ctx, s.ContractName, s.Method, s.Args, s.TransactionID, s.ToAddress, nil, relayerref.Int(s.Value))
	}
	out.put("contractWriter.submitTransaction", nil, submit())
	out.put("contractWriter.submitTransactionDuplicate", nil, submit())
	txStatus("contractWriter.getTransactionStatus")
	fc, err := cw.GetFeeComponents(ctx)
	if err == nil {
		out.put("contractWriter.getFeeComponents", map[string]any{"executionFee": bigOut(fc.ExecutionFee),
			"dataAvailabilityFee": bigOut(fc.DataAvailabilityFee)}, nil)
	} else {
		out.put("contractWriter.getFeeComponents", nil, err)
	}
	fee, err := cw.GetEstimateFee(ctx, s.ContractName, s.Method, s.Args, s.ToAddress, nil, relayerref.Int(s.Value))
	out.put("contractWriter.getEstimateFee", map[string]any{"fee": bigOut(fee.Fee), "decimals": fee.Decimals}, err)
}

// pagesOf is what listNodes must see: pages of pageSize whose tokens are the
// decimal index of their first node, and, from the v1.3.1 client, an empty
// clientNextPageToken on every page.
func pagesOf(nodes []relayerref.NodeStatus, pageSize int32) []any {
	pages := []any{}
	start := 0
	for {
		end := len(nodes)
		if pageSize > 0 && start+int(pageSize) < end {
			end = start + int(pageSize)
		}
		list := []any{}
		for _, n := range nodes[start:end] {
			list = append(list, map[string]any{"chainID": n.ChainID, "name": n.Name, "config": n.Config, "state": n.State})
		}
		token := ""
		if start > 0 {
			token = strconv.Itoa(start)
		}
		pages = append(pages, map[string]any{"pageToken": token, "nodes": list, "clientNextPageToken": "", "total": len(nodes)})
		if end >= len(nodes) {
			return pages
		}
		start = end
	}
}
