// Command rpc-bench-go measures unary RPC over the plugin connection as a
// go-plugin (v1.8.0) host sees it, against a KV plugin run directly (no shell):
//
//	rpc-bench-go [-seq N] [-inflight C] [-calls M] [-warmup W] [-automtls] PLUGIN [ARGS…]
//
// It starts the plugin (plugin set {"kv"}, AllowedProtocols grpc), dispenses
// "kv", does Put("bench", 64 bytes) and W warm-up Gets, then
//   - N sequential Get("bench") calls, each timed (seqMs), and
//   - M Get("bench") calls spread over C goroutines (C in flight), timed as a whole.
//
// Prints {"seqMs":[…],"seqPerSec":x,"concPerSec":y,"inflight":C} and exits 0
// (defaults N=2000, C=64, M=12800, W=500). Any failure prints "error: …" on
// stderr and exits 1. hclog writes to stderr at RPC_BENCH_LOG_LEVEL (default warn).
package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/internal/benchhost"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	seq := flag.Int("seq", 2000, "sequential timed calls")
	inflight := flag.Int("inflight", 64, "calls in flight for the throughput run")
	calls := flag.Int("calls", 12800, "calls in the throughput run")
	warmup := flag.Int("warmup", 500, "untimed warm-up calls")
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if flag.NArg() == 0 {
		return errors.New("usage: rpc-bench-go [flags] PLUGIN [ARGS...]")
	}
	if *seq < 1 || *inflight < 1 || *calls < *inflight {
		return errors.New("-seq and -inflight must be >= 1, -calls >= -inflight")
	}
	logger, err := benchhost.Logger("rpc-bench-go", "RPC_BENCH_LOG_LEVEL")
	if err != nil {
		return err
	}
	client := plugin.NewClient(benchhost.KVClientConfig(flag.Args(), *autoMTLS, logger))
	defer client.Kill()
	store, err := benchhost.DispenseKV(client)
	if err != nil {
		return err
	}
	if err := store.Put("bench", bytes.Repeat([]byte("v"), 64)); err != nil {
		return fmt.Errorf("put: %w", err)
	}
	get := func() error { _, err := store.Get("bench"); return err }
	for range *warmup {
		if err := get(); err != nil {
			return fmt.Errorf("warm-up get: %w", err)
		}
	}
	ms := make([]float64, 0, *seq)
	t0 := time.Now()
	for range *seq {
		t := time.Now()
		if err := get(); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		ms = append(ms, float64(time.Since(t).Nanoseconds())/1e6)
	}
	seqPerSec := float64(*seq) / time.Since(t0).Seconds()

	var next atomic.Int64
	var firstErr atomic.Value
	var wg sync.WaitGroup
	t0 = time.Now()
	for range *inflight {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for next.Add(1) <= int64(*calls) {
				if err := get(); err != nil {
					firstErr.CompareAndSwap(nil, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	concPerSec := float64(*calls) / time.Since(t0).Seconds()
	if e, ok := firstErr.Load().(error); ok {
		return fmt.Errorf("concurrent get: %w", e)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"seqMs": ms, "seqPerSec": seqPerSec, "concPerSec": concPerSec, "inflight": *inflight})
}
