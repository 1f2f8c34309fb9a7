/**
 * loopp's gRPC channel: grpc-js's public Channel interface on one node:http2 session at a time, over
 * whatever `dial` returns (a unix or TCP socket, a TLS socket, a yamux stream). It keeps grpc-js's
 * behaviour where callers can see it: connectivity states and their watchers, calls queued while
 * connecting, failing fast with UNAVAILABLE in TRANSIENT_FAILURE (unless waitForReady), reconnect with
 * backoff, the session dropped → IDLE → redial on the next call, close() letting calls in flight end.
 * What it leaves out is what loopp's connections never use: name resolution, load balancing, retries,
 * service configs, channelz, compression, idle timeout.
 */
import * as grpc from '@grpc/grpc-js';
import * as http2 from 'node:http2';
import type { Duplex } from 'node:stream';
import * as tls from 'node:tls';
import type { Log } from '../../core/debug';
import { messageOf } from '../../core/errors';
import { H2Call, type CallConnection, type CallHost } from './call';
import { Keepalive } from './keepalive';
import { statusOf } from './status';

const S = grpc.connectivityState;

export interface H2ChannelOptions {
  /** What getTarget() reports (e.g. `unix:///tmp/plugin123`); informational. */
  target: string;
  /** Opens one connection (raw bytes, TLS already set up when used). Rejects when it cannot. */
  dial: (signal: AbortSignal) => Promise<Duplex>;
  /** True when `dial` returns TLS sockets (scheme https). */
  secure?: boolean;
  /** grpc-js channel options; see docs/host.md for the ones this channel reads. */
  options?: grpc.ChannelOptions;
  log?: Log;
}

let callNumbers = 0;

interface Watcher {
  from: grpc.connectivityState;
  callback: (error?: Error) => void;
  timer: NodeJS.Timeout | undefined;
}

class Connection implements CallConnection {
  readonly calls = new Set<H2Call>();
  readonly authContext: { transportSecurityType?: string; sslPeerCertificate?: tls.PeerCertificate };
  constructor(
    readonly session: http2.ClientHttp2Session,
    readonly peer: string,
    socket: Duplex,
  ) {
    this.authContext =
      socket instanceof tls.TLSSocket && socket.authorized ? { transportSecurityType: 'ssl', sslPeerCertificate: socket.getPeerCertificate() } : {};
  }
}

function numberOption(options: grpc.ChannelOptions, name: string, fallback: number): number {
  const v = options[name] as unknown;
  return typeof v === 'number' && Number.isFinite(v) ? v : fallback;
}

export class H2Channel implements grpc.ChannelInterface, CallHost {
  readonly target: string;
  readonly authority: string;
  readonly userAgent: string;
  readonly maxSendBytes: number;
  readonly maxReceiveBytes: number;
  readonly #o: H2ChannelOptions;
  readonly #options: grpc.ChannelOptions;
  #state: grpc.connectivityState = S.IDLE;
  #watchers: Watcher[] = [];
  #conn: Connection | undefined;
  /** Every session not yet closed (the current one and ones draining after GOAWAY). */
  #sessions = new Set<http2.ClientHttp2Session>();
  #waiting = new Set<H2Call>();
  #dialing: AbortController | undefined;
  #backoffTimer: NodeJS.Timeout | undefined;
  #backoffMs: number;
  #lastError: Error | undefined;

  constructor(o: H2ChannelOptions) {
    this.#o = o;
    this.#options = o.options ?? {};
    this.target = o.target;
    this.authority = (this.#options['grpc.default_authority'] as string | undefined) ?? 'localhost';
    const prefix = this.#options['grpc.primary_user_agent'] as string | undefined;
    this.userAgent = `${prefix === undefined ? '' : `${prefix} `}loopp-h2/1`;
    this.maxSendBytes = numberOption(this.#options, 'grpc.max_send_message_length', -1);
    this.maxReceiveBytes = numberOption(this.#options, 'grpc.max_receive_message_length', 4 * 1024 * 1024);
    this.#backoffMs = numberOption(this.#options, 'grpc.initial_reconnect_backoff_ms', 1000);
  }

  /** The error of the last failed connection attempt (undefined once connected). */
  get lastConnectError(): Error | undefined {
    return this.#lastError;
  }

  getTarget(): string {
    return this.target;
  }

  getChannelzRef(): ReturnType<grpc.ChannelInterface['getChannelzRef']> {
    return { kind: 'channel', id: 0, name: this.target } as ReturnType<grpc.ChannelInterface['getChannelzRef']>;
  }

  getConnectivityState(tryToConnect: boolean): grpc.connectivityState {
    // As grpc-js: the state before this call's connection attempt (which then reports CONNECTING).
    const state = this.#state;
    if (tryToConnect && state === S.IDLE) this.#connect();
    return state;
  }

  watchConnectivityState(currentState: grpc.connectivityState, deadline: Date | number, callback: (error?: Error) => void): void {
    if (this.#state === S.SHUTDOWN) throw new Error('Channel has been shut down');
    const at = deadline instanceof Date ? deadline.getTime() : deadline;
    if (at !== Infinity && at <= Date.now()) {
      process.nextTick(callback, new Error('Deadline passed without connectivity state change'));
      return;
    }
    const watcher: Watcher = { from: currentState, callback, timer: undefined };
    if (at !== Infinity) {
      watcher.timer = setTimeout(() => {
        this.#watchers = this.#watchers.filter((w) => w !== watcher);
        callback(new Error('Deadline passed without connectivity state change'));
      }, Math.min(at - Date.now(), 2 ** 31 - 1));
    }
    this.#watchers.push(watcher);
    if (currentState !== this.#state) this.#notify();
  }

  createCall(method: string, deadline: grpc.Deadline, _host: string | null | undefined, parentCall: unknown, propagateFlags: number | null | undefined): H2Call {
    if (typeof method !== 'string') throw new TypeError('Channel#createCall: method must be a string');
    if (!(typeof deadline === 'number' || deadline instanceof Date)) throw new TypeError('Channel#createCall: deadline must be a number or Date');
    if (this.#state === S.SHUTDOWN) throw new Error('Channel has been shut down');
    return new H2Call(this, method, deadline, (parentCall ?? null) as ConstructorParameters<typeof H2Call>[3], propagateFlags, ++callNumbers);
  }

  /** Shuts the channel: calls still waiting for a connection fail; calls in flight may finish. */
  close(): void {
    if (this.#state === S.SHUTDOWN) return;
    this.#setState(S.SHUTDOWN);
    this.#dialing?.abort();
    clearTimeout(this.#backoffTimer);
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const call of waiting) call.fail(statusOf(grpc.status.UNAVAILABLE, 'Channel closed before call started'));
    for (const session of this.#sessions) session.close();
    this.#conn = undefined;
    for (const w of this.#watchers) clearTimeout(w.timer);
    this.#watchers = [];
  }

  attach(call: H2Call): void {
    if (this.#conn !== undefined) return call.begin(this.#conn);
    if (this.#state === S.SHUTDOWN) return call.fail(statusOf(grpc.status.UNAVAILABLE, 'Channel closed before call started'));
    if (this.#state === S.TRANSIENT_FAILURE && !call.waitForReady) return call.fail(this.#failureStatus());
    this.#waiting.add(call);
    if (this.#state === S.IDLE) this.#connect();
  }

  detach(call: H2Call): void {
    this.#waiting.delete(call);
  }

  #failureStatus() {
    return statusOf(grpc.status.UNAVAILABLE, `No connection established. Last error: ${this.#lastError === undefined ? 'none' : String(this.#lastError)}`);
  }

  #setState(state: grpc.connectivityState): void {
    if (state === this.#state) return;
    this.#o.log?.('channel %s: %s -> %s', this.target, S[this.#state], S[state]);
    this.#state = state;
    this.#notify();
  }

  #notify(): void {
    const due = this.#watchers.filter((w) => w.from !== this.#state);
    if (due.length === 0) return;
    this.#watchers = this.#watchers.filter((w) => w.from === this.#state);
    for (const w of due) {
      clearTimeout(w.timer);
      process.nextTick(w.callback);
    }
  }

  #connect(): void {
    clearTimeout(this.#backoffTimer);
    this.#setState(S.CONNECTING);
    const dialing = new AbortController();
    this.#dialing = dialing;
    this.#o.dial(dialing.signal).then(
      (socket) => {
        if (dialing.signal.aborted) {
          socket.destroy();
          return;
        }
        this.#startSession(socket, dialing);
      },
      (err: unknown) => {
        if (!dialing.signal.aborted) this.#connectFailed(err instanceof Error ? err : new Error(messageOf(err)));
      },
    );
  }

  #startSession(socket: Duplex, dialing: AbortController): void {
    const window = numberOption(this.#options, 'grpc-node.flow_control_window', 0);
    const session = http2.connect(`${this.#o.secure ? 'https' : 'http'}://${this.authority}`, {
      createConnection: () => socket,
      // As grpc-js: Node's default (10 MB) refuses new streams with ENHANCE_YOUR_CALM (RESOURCE_EXHAUSTED
      // "Bandwidth exhausted…") once thousands of calls are in flight; Node 24 reaches it at 10 000.
      maxSessionMemory: numberOption(this.#options, 'grpc-node.max_session_memory', Number.MAX_SAFE_INTEGER),
      ...(window > 0 ? { settings: { initialWindowSize: window } } : {}),
    });
    this.#sessions.add(session);
    const conn = new Connection(session, this.target, socket);
    let ready = false;
    let down = false;
    let error: Error | undefined;
    // Once, from whichever comes first: the session's 'close', or the socket's 'error' or 'close'. A TLS
    // alert after the handshake (a server refusing our certificate, TLS 1.3) is an 'error' on the TLS
    // socket after which the session, reading that socket natively, never emits 'close'.
    const onDown = () => {
      if (down) return;
      down = true;
      this.#sessions.delete(session);
      if (!session.destroyed) session.destroy();
      if (!ready) {
        if (!dialing.signal.aborted) this.#connectFailed(error ?? new Error('Connection closed before the HTTP/2 session was established'));
        return;
      }
      this.#lost(conn);
      for (const call of conn.calls) call.onDisconnect();
    };
    session.on('error', (err) => (error ??= err));
    socket.on('error', (err) => {
      error ??= err;
      onDown();
    });
    session.once('close', onDown);
    socket.once('close', onDown);
    session.once('remoteSettings', () => {
      if (dialing.signal.aborted || down) return;
      ready = true;
      if (window > 0) session.setLocalWindowSize(window);
      this.#ready(conn);
    });
    session.once('goaway', () => this.#lost(conn));
  }

  #ready(conn: Connection): void {
    this.#dialing = undefined;
    this.#lastError = undefined;
    this.#backoffMs = numberOption(this.#options, 'grpc.initial_reconnect_backoff_ms', 1000);
    this.#conn = conn;
    const keepalive = new Keepalive(conn.session, this.#options, () => conn.calls.size > 0);
    conn.session.once('close', () => keepalive.stop());
    this.#setState(S.READY);
    const waiting = [...this.#waiting];
    this.#waiting.clear();
    for (const call of waiting) call.begin(conn);
  }

  /** The session stops taking new calls (GOAWAY, or it closed): the next call dials again. */
  #lost(conn: Connection): void {
    if (this.#conn !== conn) return;
    this.#conn = undefined;
    // Graceful: streams in flight go on; the session closes after the last.
    if (!conn.session.closed) conn.session.close();
    if (this.#state === S.SHUTDOWN) return;
    this.#setState(S.IDLE);
    if (this.#waiting.size > 0) this.#connect();
  }

  #connectFailed(err: Error): void {
    if (this.#state === S.SHUTDOWN) return;
    this.#dialing = undefined;
    this.#lastError = err;
    this.#setState(S.TRANSIENT_FAILURE);
    for (const call of [...this.#waiting]) {
      if (call.waitForReady) continue;
      this.#waiting.delete(call);
      call.fail(this.#failureStatus());
    }
    const max = numberOption(this.#options, 'grpc.max_reconnect_backoff_ms', 120_000);
    const delay = this.#backoffMs * (0.8 + Math.random() * 0.4);
    this.#backoffMs = Math.min(this.#backoffMs * 1.6, max);
    this.#backoffTimer = setTimeout(() => {
      if (this.#state !== S.TRANSIENT_FAILURE) return;
      if (this.#waiting.size > 0) this.#connect();
      else this.#setState(S.IDLE);
    }, delay);
    this.#backoffTimer.unref();
  }
}
