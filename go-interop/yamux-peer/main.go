// yamux-peer: a hashicorp/yamux v0.1.2 peer (DefaultConfig) for loopp's yamux interop tests.
//
// It makes one unix-socket connection (-listen: accept exactly one; -connect: dial), runs yamux as
// -role client|server on it, serves every inbound stream with -service (echo: copy back until the
// peer's FIN, then FIN; sink: read until FIN, answer with the hex sha256 of what was read, then FIN),
// and executes commands read line by line from stdin, answering each with one JSON line on stdout:
//
//	open N SIZE echo|sha   open N streams at once; each writes SIZE random bytes, half-closes, reads
//	                       until FIN and checks the answer (byte-exact echo, or the sha256 hex)
//	ping N                 N sequential Session.Ping() calls; reports each rtt
//	stats                  number of streams, whether the session is closed
//	goaway                 Session.GoAway()
//	close                  Session.Close()
//
// Events on stdout: {"event":"listening"} (with -listen), {"event":"ready"} once yamux runs,
// {"event":"session-closed"} when the session ends. EOF on stdin closes the session and exits 0.
package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/yamux"
)

var (
	outMu sync.Mutex
	out   = json.NewEncoder(os.Stdout)
)

func emit(v map[string]any) {
	outMu.Lock()
	defer outMu.Unlock()
	_ = out.Encode(v)
}

func main() {
	role := flag.String("role", "server", "yamux side: client or server")
	listen := flag.String("listen", "", "unix socket path to listen on (accepts exactly one connection)")
	connect := flag.String("connect", "", "unix socket path to connect to")
	service := flag.String("service", "echo", "service for inbound streams: echo or sink")
	keepalive := flag.Duration("keepalive", 30*time.Second, "KeepAliveInterval (0 disables keepalive)")
	writeTimeout := flag.Duration("write-timeout", 10*time.Second, "ConnectionWriteTimeout")
	flag.Parse()

	if (*listen == "") == (*connect == "") {
		fatal("exactly one of -listen and -connect is required")
	}
	if *service != "echo" && *service != "sink" {
		fatal("-service must be echo or sink")
	}

	var conn net.Conn
	var err error
	if *listen != "" {
		l, lerr := net.Listen("unix", *listen)
		if lerr != nil {
			fatal("listen: " + lerr.Error())
		}
		emit(map[string]any{"event": "listening", "path": *listen})
		conn, err = l.Accept()
		l.Close()
	} else {
		conn, err = net.Dial("unix", *connect)
	}
	if err != nil {
		fatal("connect: " + err.Error())
	}

	cfg := yamux.DefaultConfig()
	cfg.LogOutput = os.Stderr
	if *keepalive > 0 {
		cfg.KeepAliveInterval = *keepalive
	} else {
		cfg.EnableKeepAlive = false
	}
	cfg.ConnectionWriteTimeout = *writeTimeout

	var sess *yamux.Session
	switch *role {
	case "server":
		sess, err = yamux.Server(conn, cfg)
	case "client":
		sess, err = yamux.Client(conn, cfg)
	default:
		fatal("-role must be client or server")
	}
	if err != nil {
		fatal("yamux: " + err.Error())
	}
	emit(map[string]any{"event": "ready", "role": *role})

	go func() {
		<-sess.CloseChan()
		emit(map[string]any{"event": "session-closed"})
	}()
	go acceptLoop(sess, *service)

	sc := bufio.NewScanner(os.Stdin)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 {
			continue
		}
		command(sess, fields)
	}
	sess.Close()
}

func fatal(msg string) {
	fmt.Fprintln(os.Stderr, "yamux-peer: "+msg)
	os.Exit(2)
}

func acceptLoop(sess *yamux.Session, service string) {
	for {
		st, err := sess.AcceptStream()
		if err != nil {
			return
		}
		go serve(st, service)
	}
}

func serve(st *yamux.Stream, service string) {
	defer st.Close()
	switch service {
	case "echo":
		if _, err := io.Copy(st, st); err != nil {
			fmt.Fprintf(os.Stderr, "yamux-peer: echo stream %d: %v\n", st.StreamID(), err)
		}
	case "sink":
		h := sha256.New()
		if _, err := io.Copy(h, st); err != nil {
			fmt.Fprintf(os.Stderr, "yamux-peer: sink stream %d: %v\n", st.StreamID(), err)
			return
		}
		_, _ = st.Write([]byte(hex.EncodeToString(h.Sum(nil))))
	}
}

func atoi(s string) int {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return -1
	}
	return n
}

func command(sess *yamux.Session, f []string) {
	switch f[0] {
	case "open":
		if len(f) != 4 || atoi(f[1]) < 1 || atoi(f[2]) < 0 || (f[3] != "echo" && f[3] != "sha") {
			emit(map[string]any{"event": "open", "ok": false, "error": "usage: open N SIZE echo|sha"})
			return
		}
		openStreams(sess, atoi(f[1]), atoi(f[2]), f[3])
	case "ping":
		n := 1
		if len(f) > 1 {
			n = atoi(f[1])
		}
		var rtts []float64
		for i := 0; i < n; i++ {
			d, err := sess.Ping()
			if err != nil {
				emit(map[string]any{"event": "ping", "ok": false, "error": err.Error(), "rtts_ms": rtts})
				return
			}
			rtts = append(rtts, float64(d.Microseconds())/1000)
		}
		emit(map[string]any{"event": "ping", "ok": true, "rtts_ms": rtts})
	case "stats":
		emit(map[string]any{"event": "stats", "numStreams": sess.NumStreams(), "closed": sess.IsClosed()})
	case "goaway":
		err := sess.GoAway()
		emit(map[string]any{"event": "goaway", "ok": err == nil})
	case "close":
		err := sess.Close()
		emit(map[string]any{"event": "close", "ok": err == nil})
	default:
		emit(map[string]any{"event": "error", "error": "unknown command " + f[0]})
	}
}

// openStreams opens n streams concurrently; each sends size random bytes, half-closes and checks the answer.
func openStreams(sess *yamux.Session, n, size int, check string) {
	payloads := make([][]byte, n)
	for i := range payloads {
		payloads[i] = make([]byte, size)
		if _, err := rand.Read(payloads[i]); err != nil {
			fatal("rand: " + err.Error())
		}
	}
	start := time.Now()
	errs := make(chan error, n)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- oneStream(sess, payloads[i], check)
		}()
	}
	wg.Wait()
	close(errs)
	elapsed := time.Since(start)
	var failures []string
	for err := range errs {
		if err != nil {
			failures = append(failures, err.Error())
		}
	}
	ms := float64(elapsed.Microseconds()) / 1000
	emit(map[string]any{
		"event": "open", "ok": len(failures) == 0, "streams": n, "size": size, "check": check,
		"ms": ms, "mibps": float64(n*size) / (1 << 20) / elapsed.Seconds(), "errors": failures,
	})
}

func oneStream(sess *yamux.Session, payload []byte, check string) error {
	st, err := sess.OpenStream()
	if err != nil {
		return fmt.Errorf("open: %w", err)
	}
	defer st.Close()
	werr := make(chan error, 1)
	go func() {
		_, err := st.Write(payload)
		if err == nil {
			err = st.Close() // half-close: FIN, reading goes on
		}
		werr <- err
	}()
	got, rerr := io.ReadAll(st)
	if err := <-werr; err != nil {
		return fmt.Errorf("stream %d write: %w", st.StreamID(), err)
	}
	if rerr != nil {
		return fmt.Errorf("stream %d read: %w", st.StreamID(), rerr)
	}
	switch check {
	case "echo":
		if !bytes.Equal(got, payload) {
			return fmt.Errorf("stream %d: echo mismatch (%d bytes back, want %d)", st.StreamID(), len(got), len(payload))
		}
	case "sha":
		sum := sha256.Sum256(payload)
		if string(got) != hex.EncodeToString(sum[:]) {
			return fmt.Errorf("stream %d: sha mismatch: %q", st.StreamID(), got)
		}
	default:
		return errors.New("bad check")
	}
	return nil
}
