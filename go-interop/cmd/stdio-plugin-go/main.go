// Command stdio-plugin-go is a go-plugin (v1.8.0) plugin for the stdio
// benchmark. It serves proto.KV under "kv" with values in memory; Get of the
// key "stdout:N" first writes N bytes (a fixed pattern, one Write) to
// os.Stdout, which go-plugin forwards to the host over GRPCStdio, and then
// answers an empty value. Get of "flood:N" writes N bytes of the load tests'
// flood pattern (byte i = i + i>>8 + i>>16 + i>>24, mod 256) in 64 KiB writes,
// each blocking while go-plugin's stdio pipe is full. Every other Get/Put is a
// plain in-memory KV.
package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"

	"github.com/hashicorp/go-plugin"

	"loopp/go-interop/common/kv"
)

type store struct {
	mu sync.Mutex
	m  map[string][]byte
}

func (s *store) Put(key string, value []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.m[key] = append([]byte(nil), value...)
	return nil
}

func (s *store) Get(key string) ([]byte, error) {
	if rest, ok := strings.CutPrefix(key, "flood:"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad byte count %q", rest)
		}
		buf := make([]byte, 64<<10)
		for off := 0; off < n; off += len(buf) {
			m := min(len(buf), n-off)
			for j := 0; j < m; j++ {
				i := uint32(off + j)
				buf[j] = byte(i + i>>8 + i>>16 + i>>24)
			}
			if _, err := os.Stdout.Write(buf[:m]); err != nil {
				return nil, err
			}
		}
		return []byte{}, nil
	}
	if rest, ok := strings.CutPrefix(key, "stdout:"); ok {
		n, err := strconv.Atoi(rest)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("bad byte count %q", rest)
		}
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(i*31 + 1)
		}
		if _, err := os.Stdout.Write(b); err != nil {
			return nil, err
		}
		return []byte{}, nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.m[key], nil
}

func main() {
	plugin.Serve(&plugin.ServeConfig{
		HandshakeConfig: kv.Handshake,
		Plugins:         plugin.PluginSet{"kv": &kv.Plugin{Impl: &store{m: map[string][]byte{}}}},
		GRPCServer:      plugin.DefaultGRPCServer,
	})
}
