/** go-plugin's core protocol version; a host accepts exactly this value in handshake field 1. */
export const CORE_PROTOCOL_VERSION = 1;

/** Health-service name that go-plugin's Ping() checks. */
export const HEALTH_SERVICE_NAME = 'plugin';

/** Port range go-plugin's host passes when none is configured. */
export const DEFAULT_MIN_PORT = 10000;
export const DEFAULT_MAX_PORT = 25000;

/** go-plugin's StartTimeout default. */
export const DEFAULT_START_TIMEOUT_MS = 60_000;
/** How long go-plugin's Kill() waits for a graceful exit before SIGKILL. */
export const DEFAULT_GRACEFUL_SHUTDOWN_MS = 2_000;
/**
 * Payload bytes a TS plugin puts in one GRPCStdio message at most. A Go plugin sends what one 1 KiB
 * pipe read returns; a Go host writes each message's data whole, of any size, so larger messages only
 * cut the per-message cost (a gRPC frame, an HTTP/2 write and its callback each).
 */
export const STDIO_MESSAGE_MAX_BYTES = 64 * 1024;
/** go-plugin's default PluginLogBufferSize: stderr lines longer than this are passed through as fragments. */
export const DEFAULT_LOG_BUFFER_BYTES = 65536;
/** The Go host's bufio.Scanner token limit for the handshake line. */
export const MAX_HANDSHAKE_LINE_BYTES = 65536;
/** Linux sun_path limit minus the terminating NUL. */
export const MAX_UNIX_SOCKET_PATH_BYTES = 107;
/**
 * SETTINGS_MAX_CONCURRENT_STREAMS that loopp's gRPC servers (plugin main server, broker sub-servers)
 * announce. Node's HTTP/2 server stalls for good when a client opens several thousand streams at once
 * (10 000 concurrent unary calls never completed; 2 000 did; grpc-go has no such problem): with the
 * limit announced, grpc-js and grpc-go clients queue the excess streams themselves. A stream beyond
 * the limit waits for one to finish, so a connection can hold at most this many long-lived streams.
 */
export const SERVER_MAX_CONCURRENT_STREAMS = 1000;
