// hashicorp/yamux v0.1.2 peer for loopp's yamux interop tests (test/interop/yamux-go.test.ts).
module loopp/go-interop/yamux-peer

go 1.26.0

require github.com/hashicorp/yamux v0.1.2
