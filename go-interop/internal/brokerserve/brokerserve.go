// Package brokerserve serves a gRPC service on a go-plugin broker id and
// stops it again, without the data race of go-plugin's examples (they assign
// the *grpc.Server inside AcceptAndServe's goroutine and Stop it from the
// caller, which panics when the server was never created).
package brokerserve

import (
	"sync"

	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
)

// Handle stops a server started by Serve.
type Handle struct {
	mu      sync.Mutex
	srv     *grpc.Server
	stopped bool
}

// Serve runs `go broker.AcceptAndServe(id, …)` with a fresh grpc.Server on
// which register installs the services.
func Serve(broker *plugin.GRPCBroker, id uint32, register func(*grpc.Server)) *Handle {
	h := &Handle{}
	go broker.AcceptAndServe(id, func(opts []grpc.ServerOption) *grpc.Server {
		s := grpc.NewServer(opts...)
		register(s)
		h.mu.Lock()
		defer h.mu.Unlock()
		h.srv = s
		if h.stopped {
			// Stop came first: Serve on a stopped server returns at once,
			// which makes AcceptAndServe close the listener and return.
			s.Stop()
		}
		return s
	})
	return h
}

// Stop stops the server (now, or as soon as AcceptAndServe creates it).
// Safe to call more than once.
func (h *Handle) Stop() {
	h.mu.Lock()
	s := h.srv
	h.stopped = true
	h.mu.Unlock()
	if s != nil {
		s.Stop()
	}
}
