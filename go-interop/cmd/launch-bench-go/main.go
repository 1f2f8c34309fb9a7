// Command launch-bench-go measures launch-to-first-RPC as a go-plugin
// (v1.8.0) host sees it, for a KV plugin run directly (no shell):
//
//	launch-bench-go [-n N] [-automtls] PLUGIN [ARGS…]
//
// Each of the N iterations (default 10) times, from before NewClient:
// NewClient (plugin set {"kv"}, AllowedProtocols grpc, AutoMTLS per flag),
// Client(), Dispense("kv") and Get("bench"). A Get answered with gRPC status
// Unknown or NotFound counts (it is a completed round trip: the Go and TS KV
// plugins answer a missing key that way). Then Kill(), untimed.
//
// Prints {"ms":[…per iteration]} on stdout and exits 0; any failure prints
// "error: …" on stderr and exits 1. The host's hclog logger writes to stderr
// at LAUNCH_BENCH_LOG_LEVEL (default "warn").
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/hashicorp/go-hclog"
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
	n := flag.Int("n", 10, "iterations")
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: %s [flags] PLUGIN [ARGS...]\n", os.Args[0])
		flag.PrintDefaults()
	}
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if flag.NArg() == 0 {
		flag.Usage()
		return errors.New("no plugin command given")
	}
	if *n < 1 {
		return errors.New("-n must be at least 1")
	}
	logger, err := benchhost.Logger("launch-bench-go", "LAUNCH_BENCH_LOG_LEVEL")
	if err != nil {
		return err
	}

	ms := make([]float64, 0, *n)
	for i := range *n {
		d, err := once(flag.Args(), *autoMTLS, logger)
		if err != nil {
			return fmt.Errorf("iteration %d: %w", i, err)
		}
		ms = append(ms, float64(d.Nanoseconds())/1e6)
	}
	return json.NewEncoder(os.Stdout).Encode(map[string][]float64{"ms": ms})
}

func once(argv []string, autoMTLS bool, logger hclog.Logger) (time.Duration, error) {
	t0 := time.Now()
	client := plugin.NewClient(benchhost.KVClientConfig(argv, autoMTLS, logger))
	defer client.Kill()
	store, err := benchhost.DispenseKV(client)
	if err != nil {
		return 0, err
	}
	if err := benchhost.FirstGet(store); err != nil {
		return 0, err
	}
	return time.Since(t0), nil
}
