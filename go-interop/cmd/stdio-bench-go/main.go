// Command stdio-bench-go measures plugin stdout forwarded to a go-plugin
// (v1.8.0) host's SyncStdout:
//
//	stdio-bench-go [-n N] [-bytes B] PLUGIN [ARGS…]
//
// The plugin (run directly, plugin set {"kv"}, AllowedProtocols grpc) must
// answer Get("stdout:B") by writing B bytes to its stdout (stdio-plugin-go,
// fixtures/plugins/stdio-bench.ts). After one untimed warm-up Get, each of the
// N iterations (default 5, B default 8 MiB) times from before the Get until
// SyncStdout has received B more bytes (30 s limit).
//
// Prints {"ms":[…],"bytes":B} and exits 0; failures print "error: …" on
// stderr and exit 1. hclog writes to stderr at STDIO_BENCH_LOG_LEVEL (default warn).
package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"sync"
	"time"

	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/internal/benchhost"
)

// counter is the SyncStdout writer: it counts bytes and wakes waiters.
type counter struct {
	mu   sync.Mutex
	cond *sync.Cond
	n    int64
}

func (c *counter) Write(p []byte) (int, error) {
	c.mu.Lock()
	c.n += int64(len(p))
	c.mu.Unlock()
	c.cond.Broadcast()
	return len(p), nil
}

// waitFor blocks until at least target bytes have arrived or the deadline passes.
func (c *counter) waitFor(target int64, deadline time.Time) error {
	timer := time.AfterFunc(time.Until(deadline), c.cond.Broadcast)
	defer timer.Stop()
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.n < target {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out with %d of %d bytes", c.n, target)
		}
		c.cond.Wait()
	}
	return nil
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "error: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	n := flag.Int("n", 5, "iterations")
	size := flag.Int("bytes", 8<<20, "bytes per iteration")
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if flag.NArg() == 0 || *n < 1 || *size < 1 {
		return errors.New("usage: stdio-bench-go [-n N>=1] [-bytes B>=1] PLUGIN [ARGS...]")
	}
	logger, err := benchhost.Logger("stdio-bench-go", "STDIO_BENCH_LOG_LEVEL")
	if err != nil {
		return err
	}
	out := &counter{}
	out.cond = sync.NewCond(&out.mu)
	cfg := benchhost.KVClientConfig(flag.Args(), false, logger)
	cfg.SyncStdout = out
	client := plugin.NewClient(cfg)
	defer client.Kill()
	store, err := benchhost.DispenseKV(client)
	if err != nil {
		return err
	}
	key := fmt.Sprintf("stdout:%d", *size)
	var target int64
	ms := make([]float64, 0, *n)
	for i := range *n + 1 {
		target += int64(*size)
		t0 := time.Now()
		if _, err := store.Get(key); err != nil {
			return fmt.Errorf("get: %w", err)
		}
		if err := out.waitFor(target, t0.Add(30*time.Second)); err != nil {
			return err
		}
		if i > 0 {
			ms = append(ms, float64(time.Since(t0).Nanoseconds())/1e6)
		}
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"ms": ms, "bytes": *size})
}
