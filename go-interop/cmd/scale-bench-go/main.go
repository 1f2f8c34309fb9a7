// Command scale-bench-go launches N plugins concurrently from one go-plugin
// (v1.8.0) host:
//
//	scale-bench-go [-n 100] [-automtls] PLUGIN [ARGS…]
//
// Each of N goroutines runs NewClient (plugin set {"kv"}, AllowedProtocols
// grpc, plugin run directly), Client(), Dispense("kv") and Get("bench") (gRPC
// Unknown/NotFound count as a completed round trip). wallMs runs from before
// the first launch until every plugin has answered. The host's VmRSS is read
// from /proc/self/status before the launches and with all N plugins connected;
// then every plugin is killed.
//
// Prints {"wallMs":x,"rssBeforeKB":a,"rssAfterKB":b,"n":N} and exits 0;
// failures print "error: …" on stderr and exit 1.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
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

func rssKB() (int64, error) {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if rest, ok := strings.CutPrefix(s.Text(), "VmRSS:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmRSS in /proc/self/status")
}

func run() error {
	n := flag.Int("n", 100, "plugins")
	autoMTLS := flag.Bool("automtls", false, "set ClientConfig.AutoMTLS")
	flag.CommandLine.Init(os.Args[0], flag.ContinueOnError)
	if err := flag.CommandLine.Parse(os.Args[1:]); err != nil {
		return err
	}
	if flag.NArg() == 0 || *n < 1 {
		return errors.New("usage: scale-bench-go [-n N>=1] [-automtls] PLUGIN [ARGS...]")
	}
	logger := hclog.New(&hclog.LoggerOptions{Name: "scale-bench-go", Output: os.Stderr, Level: hclog.Warn})
	argv := flag.Args()
	before, err := rssKB()
	if err != nil {
		return err
	}
	clients := make([]*plugin.Client, *n)
	errs := make([]error, *n)
	var wg sync.WaitGroup
	t0 := time.Now()
	for i := range *n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := plugin.NewClient(benchhost.KVClientConfig(argv, *autoMTLS, logger))
			clients[i] = c
			store, err := benchhost.DispenseKV(c)
			if err == nil {
				err = benchhost.FirstGet(store)
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	wall := time.Since(t0)
	after, rssErr := rssKB()
	var kills sync.WaitGroup
	for _, c := range clients {
		kills.Add(1)
		go func() { defer kills.Done(); c.Kill() }()
	}
	kills.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	if rssErr != nil {
		return rssErr
	}
	return json.NewEncoder(os.Stdout).Encode(map[string]any{"wallMs": float64(wall.Nanoseconds()) / 1e6, "rssBeforeKB": before, "rssAfterKB": after, "n": *n})
}
