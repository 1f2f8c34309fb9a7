package main

import (
	"encoding/json"
	"fmt"
	"reflect"
	"sort"

	"loopp/go-interop/chainlink/internal/relayerref"
)

func ok(v any) map[string]any { return map[string]any{"result": v} }

func fails(s relayerref.Status) map[string]any {
	return map[string]any{"error": map[string]any{"code": s.Code, "message": s.Message}}
}

func refHead(h relayerref.Head) map[string]any {
	return map[string]any{"height": h.Height, "hash": h.Hash, "timestamp": h.Timestamp}
}

func refContractConfigOut(c relayerref.ContractConfig) map[string]any {
	return map[string]any{"configDigest": c.ConfigDigest, "configCount": c.ConfigCount, "signers": c.Signers,
		"transmitters": c.Transmitters, "f": c.F, "onchainConfig": c.OnchainConfig,
		"offchainConfigVersion": c.OffchainConfigVersion, "offchainConfig": c.OffchainConfig}
}

func refSequence(s relayerref.Sequence) map[string]any {
	return map[string]any{"cursor": s.Cursor, "txHash": s.TxHash, "head": refHead(s.Head), "data": s.Data}
}

func capped[T any](s []T, n uint64) []T {
	if n > 0 && uint64(len(s)) > n {
		return s[:n]
	}
	return s
}

func refDetails(d relayerref.TransmissionDetails) map[string]any {
	return map[string]any{"configDigest": d.ConfigDigest, "epoch": d.Epoch, "round": d.Round,
		"latestAnswer": d.LatestAnswer, "latestTimestamp": d.LatestTimestamp}
}

// expected is what callAll must print for a relayer serving ref.
func expected(ref *relayerref.Reference) results {
	cs, ci := ref.ChainStatus, ref.ChainInfo
	e := results{
		"getChainStatus": ok(map[string]any{"id": cs.ID, "enabled": cs.Enabled, "config": cs.Config}),
		"getChainInfo": ok(map[string]any{"familyName": ci.FamilyName, "chainID": ci.ChainID,
			"networkName": ci.NetworkName, "networkNameFull": ci.NetworkNameFull}),
		"latestHead":               ok(refHead(ref.LatestHead)),
		"finalizedHead":            ok(refHead(ref.FinalizedHead)),
		"listNodeStatuses":         ok(map[string]any{"pageSize": ref.ListNodeStatuses.PageSize, "pages": pagesOf(ref.Nodes, ref.ListNodeStatuses.PageSize)}),
		"listNodeStatusesBadToken": fails(ref.ListNodeStatuses.BadPageTokenError),
		"transactEchoNone":         fails(ref.Transact.EchoErrorNone),
		"transact":                 ok(nil),
		"transactEcho":             fails(ref.Transact.EchoError),
		"replayEchoNone":           fails(ref.Replay.EchoErrorNone),
		"replay":                   ok(nil),
		"replayEcho":               fails(ref.Replay.EchoError),
		"unsupportedProvider":      fails(ref.UnsupportedProviderError),
		// chainlink-common's client answers this one itself, without a call
		"newLLOProvider":  map[string]any{"error": map[string]any{"message": "llo provider not supported: unsupported operation"}},
		"newCCIPProvider": fails(ref.NotImplemented),
	}
	for _, k := range []string{"evm.getFiltersNames", "ton.getTxStatus", "solana.getFiltersNames", "aptos.ledgerVersion", "stellar.getSigningAccount"} {
		e[k] = map[string]any{"error": map[string]any{"code": ref.NotImplemented.Code}}
	}
	cp := ref.ConfigProvider
	for _, p := range []string{"configProvider.", "median."} {
		e[p+"configDigestPrefix"] = ok(cp.ConfigDigestPrefix)
		e[p+"configDigest"] = ok(cp.ConfigDigest)
		e[p+"latestConfigDetails"] = ok(map[string]any{"changedInBlock": cp.LatestConfigDetails.ChangedInBlock,
			"configDigest": cp.LatestConfigDetails.ConfigDigest})
		e[p+"latestConfig"] = ok(refContractConfigOut(cp.ContractConfig))
		e[p+"latestBlockHeight"] = ok(cp.LatestBlockHeight)
	}
	expectedMedian(ref, e)
	expectedReader(ref, e)
	w := ref.ContractWriter
	e["contractWriter.getTransactionStatusBefore"] = ok(w.StatusBeforeSubmit)
	e["contractWriter.submitTransaction"] = ok(nil)
	e["contractWriter.submitTransactionDuplicate"] = fails(w.DuplicateError)
	e["contractWriter.getTransactionStatus"] = ok(w.StatusAfterSubmit)
	e["contractWriter.getFeeComponents"] = ok(w.FeeComponents)
	e["contractWriter.getEstimateFee"] = ok(w.EstimateFee)
	return e
}

func expectedMedian(ref *relayerref.Reference, e results) {
	m := ref.Median
	ct, rc, mc, oc := m.ContractTransmitter, m.ReportCodec, m.MedianContract, m.OnchainConfigCodec
	e["median.contractReaderServed"] = ok(m.ContractReaderServed)
	e["median.codecServed"] = ok(m.CodecServed)
	e["median.fromAccount"] = ok(ref.PluginArgs.TransmitterID)
	e["median.latestConfigDigestAndEpoch"] = ok(ct.LatestConfigDigestAndEpoch)
	e["median.latestTransmissionDetails"] = ok(refDetails(mc.LatestTransmissionDetails))
	rr := mc.LatestRoundRequested
	e["median.latestRoundRequested"] = ok(map[string]any{"configDigest": rr.ConfigDigest, "epoch": rr.Epoch, "round": rr.Round})
	e["median.buildReport"] = ok(rc.Report)
	e["median.buildReportEmpty"] = fails(rc.EmptyError)
	e["median.medianFromReport"] = ok(rc.Median)
	e["median.maxReportLength"] = ok(rc.MaxReportLength.Max)
	e["median.onchainConfigEncode"] = ok(oc.Encoded)
	e["median.onchainConfigDecode"] = ok(map[string]any{"min": oc.Min, "max": oc.Max})
	e["median.onchainConfigDecodeBad"] = fails(oc.BadEncodedError)
	e["median.transmitBadReport"] = fails(ct.BadReportError)
	e["median.transmit"] = ok(nil)
	e["median.latestConfigDigestAndEpochAfterTransmit"] = ok(ct.LatestConfigDigestAndEpochAfterTransmit)
	e["median.latestTransmissionDetailsAfterTransmit"] = ok(refDetails(mc.LatestTransmissionDetailsAfterTransmit))
}

func expectedReader(ref *relayerref.Reference, e results) {
	r := ref.ContractReader
	e["contractReader.getLatestValueUnbound"] = fails(r.UnboundError)
	e["contractReader.bind"] = ok(nil)
	e["contractReader.getLatestValue"] = ok(r.Reads[r.GetLatestValue.ReadName])
	e["contractReader.getLatestValueUnknown"] = fails(r.UnknownReadError)
	batch := []any{}
	for _, name := range r.Batch {
		if v, found := r.Reads[name]; found {
			batch = append(batch, map[string]any{"readName": name, "value": v})
		} else {
			id := r.Binding.Address + "-" + r.Binding.Name + "-" + name
			batch = append(batch, map[string]any{"readName": name, "error": "not found: " + id})
		}
	}
	e["contractReader.batchGetLatestValues"] = ok(batch)
	seqs := []any{}
	for _, s := range capped(r.Sequences[r.QueryKey.Key], r.QueryKey.Limit) {
		seqs = append(seqs, refSequence(s))
	}
	e["contractReader.queryKey"] = ok(seqs)
	var keyed []map[string]any
	for _, k := range r.QueryKeys.Keys {
		for _, s := range r.Sequences[k] {
			o := refSequence(s)
			o["key"] = k
			keyed = append(keyed, o)
		}
	}
	list := []any{}
	for _, o := range capped(keyed, r.QueryKeys.Limit) {
		list = append(list, o)
	}
	e["contractReader.queryKeys"] = ok(list)
	e["contractReader.unbind"] = ok(nil)
	e["contractReader.getLatestValueAfterUnbind"] = fails(r.UnboundError)
}

// normalized round-trips v through JSON, so Go values and reference values
// compare as the JSON a reader of the output sees.
func normalized(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("unmarshalable: %v", err)
	}
	var out any
	_ = json.Unmarshal(b, &out)
	return out
}

// mismatches lists, in key order, every key whose output differs from the
// expectation, and every key missing on either side.
func mismatches(got, want results) []string {
	keys := map[string]bool{}
	for k := range got {
		keys[k] = true
	}
	for k := range want {
		keys[k] = true
	}
	var sorted []string
	for k := range keys {
		sorted = append(sorted, k)
	}
	sort.Strings(sorted)
	var out []string
	for _, k := range sorted {
		g, gok := got[k]
		w, wok := want[k]
		switch {
		case !gok:
			out = append(out, k+": missing from the output")
		case !wok:
			out = append(out, k+": not expected")
		default:
			if gn, wn := normalized(g), normalized(w); !reflect.DeepEqual(gn, wn) {
				gb, _ := json.Marshal(gn)
				wb, _ := json.Marshal(wn)
				out = append(out, fmt.Sprintf("%s: got %s, want %s", k, gb, wb))
			}
		}
	}
	return out
}
