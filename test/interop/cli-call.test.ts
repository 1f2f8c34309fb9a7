/**
 * `loopp call` as the user runs it (the built command, a real process, one fresh plugin per call):
 * the Go KV plugins, go-interop's and go-plugin's own example (Put, then Get from the file the first
 * plugin wrote), its counter (int64 as
 * JSON strings), health Watch (server-streaming, ended by --deadline), loopp's KV plugin on both of its
 * servers, and a LOOP; then every kind of mistake: unknown service or method (what is served is
 * listed), invalid JSON (where), JSON that does not fit (the field), a plugin without reflection or
 * without descriptors (what to do), a failing call (status), an interrupted stream (130). Nothing is
 * left running, and no socket is left in the plugins' TMPDIR.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { binary, goBinary, listDir, markedProcesses, rmDir, run, sleep, tmpDir, type RunResult, LOOPP_CLI } from '../helpers';

const KV = ['--cookie', 'BASIC_PLUGIN=hello'];
const b64 = (text: string): string => Buffer.from(text).toString('base64');

let work: string;
let sockTmp: string;
before(() => {
  work = tmpDir('loopp-call-');
  sockTmp = tmpDir('loopp-call-tmp-');
});
after(() => {
  rmDir(work);
  rmDir(sockTmp);
});

let runs = 0;

/** The plugin is loopp's child, not ours: a marker in its environment finds it if it outlives loopp. */
async function loopp(...args: string[]): Promise<RunResult> {
  const marker = `LOOPP_CALL_TEST=${process.pid}-${++runs}`;
  const r = await run(process.execPath, [LOOPP_CLI, 'call', '--env', marker, ...args], { cwd: work, env: { ...process.env, TMPDIR: sockTmp }, timeoutMs: 60_000 });
  assert.deepEqual(listDir(sockTmp), [], 'a socket left behind');
  assert.deepEqual(markedProcesses(marker), [], 'a plugin left running');
  return r;
}

function assertRun(r: RunResult, code: number, stdout: string, stderr: string | RegExp): void {
  assert.equal(r.code, code, `exit ${r.code}\n${r.stderr}`);
  assert.equal(r.stdout, stdout);
  if (typeof stderr === 'string') assert.equal(r.stderr, stderr);
  else assert.match(r.stderr, stderr);
}

describe('loopp call: Go plugins (reflection from go-plugin)', () => {
  it('kv-plugin-go: Put, then Get in a second call (a fresh plugin, the value in its file)', async () => {
    assertRun(await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Put', JSON.stringify({ key: 'go', value: b64('from call') })), 0, '{}\n', '');
    assert.equal(fs.readFileSync(path.join(work, 'kv_go'), 'utf8'), 'from call\n\nWritten from plugin-go-grpc');
    const value = b64('from call\n\nWritten from plugin-go-grpc');
    assertRun(await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Get', '{"key":"go"}'), 0, `{"value":"${value}"}\n`, '');
    // The service without its package, the method in another case, plain text instead of AutoMTLS.
    assertRun(await loopp(...KV, '--no-automtls', goBinary('kv-plugin-go'), 'KV/get', '{"key":"go"}'), 0, `{"value":"${value}"}\n`, '');
  });

  it("go-plugin's own KV example (examples/grpc, built from the module proxy): Put, then Get", async () => {
    assertRun(await loopp(...KV, goBinary('example-kv-go'), 'proto.KV/Put', JSON.stringify({ key: 'example', value: b64('hi') })), 0, '{}\n', '');
    assertRun(await loopp(...KV, goBinary('example-kv-go'), 'proto.KV/Get', '{"key":"example"}'), 0, `{"value":"${b64('hi\n\nWritten from plugin-go-grpc')}"}\n`, '');
  });

  it('a failing call: the status name, number and message, and the method; exit 1', async () => {
    assertRun(
      await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Get', '{"key":"missing"}'),
      1,
      '',
      'loopp call: proto.KV/Get: UNKNOWN (2): open kv_missing: no such file or directory\n  Get(proto.GetRequest) returns (proto.GetResponse)\n',
    );
  });

  it('counter-plugin-go: int64 fields as JSON strings', async () => {
    const r = await loopp(...KV, goBinary('counter-plugin-go'), 'proto.Counter/Get', '{"key":"none"}');
    // A missing key counts 0; proto3 JSON writes an int64 as a string, and call prints zero values.
    assertRun(r, 0, '{"value":"0"}\n', '');
  });

  it('server-streaming (grpc.health.v1.Health/Watch): one line per message, ended by --deadline', async () => {
    assertRun(
      await loopp(...KV, '--deadline', '700ms', goBinary('kv-plugin-go'), 'grpc.health.v1.Health/Watch', '{"service":"plugin"}'),
      1,
      '{"status":"SERVING"}\n',
      // The plugin learns the deadline too (grpc-timeout): when its reset of the stream is read before
      // our own deadline timer runs (a loaded machine), the call ends CANCELLED; seen 1 run in 8.
      /^loopp call: grpc\.health\.v1\.Health\/Watch: (DEADLINE_EXCEEDED \(4\): Deadline exceeded after [\d.]+s|CANCELLED \(1\): Call cancelled)\n {2}Watch\(grpc\.health\.v1\.HealthCheckRequest\) returns \(stream grpc\.health\.v1\.HealthCheckResponse\)\n$/,
    );
  });

  it('interrupted (SIGINT) during a stream: exit 130, the plugin stopped', async () => {
    const marker = `LOOPP_CALL_TEST=${process.pid}-sigint`;
    const child = spawn(process.execPath, [LOOPP_CLI, 'call', '--env', marker, ...KV, goBinary('kv-plugin-go'), 'grpc.health.v1.Health/Watch', '{"service":"plugin"}'], {
      cwd: work,
      env: { ...process.env, TMPDIR: sockTmp },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
    let exitedEarly = false;
    void exited.then(() => (exitedEarly = true));
    while (!out.includes('\n')) {
      assert.equal(exitedEarly, false, 'loopp call exited before printing the first message');
      await sleep(20);
    }
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.equal(out, '{"status":"SERVING"}\n');
    // loopp stopped the plugin before exiting; its end may still be on its way for a moment.
    for (let waited = 0; markedProcesses(marker).length > 0 && waited < 2000; waited += 20) await sleep(20);
    assert.deepEqual(markedProcesses(marker), [], 'kv-plugin-go still runs');
    assert.deepEqual(listDir(sockTmp), []);
  });

  it('an unknown service: exit 2, every service listed with its methods', async () => {
    assertRun(
      await loopp(...KV, goBinary('kv-plugin-go'), 'proto.Nope/Get', '{}'),
      2,
      '',
      'loopp call: the plugin serves no service proto.Nope; it serves:\n' +
        '  grpc.health.v1.Health: Check, List, Watch\n' +
        '  grpc.reflection.v1.ServerReflection: ServerReflectionInfo\n' +
        '  grpc.reflection.v1alpha.ServerReflection: ServerReflectionInfo\n' +
        '  plugin.GRPCBroker: StartStream\n' +
        '  plugin.GRPCController: Shutdown\n' +
        '  plugin.GRPCStdio: StreamStdio\n' +
        '  proto.KV: Get, Put\n',
    );
  });

  it('an unknown method: exit 2, the methods listed with their types', async () => {
    assertRun(
      await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Delete', '{}'),
      2,
      '',
      'loopp call: proto.KV has no method Delete; its methods:\n  Get(proto.GetRequest) returns (proto.GetResponse)\n  Put(proto.PutRequest) returns (proto.Empty)\n',
    );
  });

  it('a bidi method (plugin.GRPCBroker/StartStream): exit 2, loopp call sends one request', async () => {
    assertRun(
      await loopp(...KV, goBinary('kv-plugin-go'), 'plugin.GRPCBroker/StartStream', '{}'),
      2,
      '',
      'loopp call: plugin.GRPCBroker/StartStream takes a stream of requests (bidi-streaming): loopp call sends one request, to unary and server-streaming methods\n',
    );
  });

  it('JSON that does not fit the request: exit 2, the field named and the fields listed', async () => {
    assertRun(
      await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Put', '{"key":"a","valeu":"eA=="}'),
      2,
      '',
      'loopp call: the JSON does not fit proto.PutRequest: cannot decode message proto.PutRequest from JSON: key "valeu" is unknown\n' +
        '  proto.PutRequest has the fields: key (string), value (bytes, base64)\n',
    );
    assertRun(await loopp(...KV, goBinary('kv-plugin-go'), 'proto.KV/Put', '{"key":7}'), 2, '', /^loopp call: the JSON does not fit proto\.PutRequest: cannot decode field proto\.PutRequest\.key from JSON: expected string, got 7\n/);
  });
});

describe('loopp call: loopp plugins (reflection from servePlugin)', () => {
  for (const server of [[], ['--grpc-js-server']]) {
    it(`kv-plugin-ts${server.length ? ' --grpc-js-server' : ''}: Put then Get (the plugin's own arguments pass through)`, async () => {
      const key = `ts${server.length}`;
      assertRun(await loopp(...KV, binary('kv-plugin-ts'), ...server, 'proto.KV/Put', JSON.stringify({ key, value: b64('from ts') })), 0, '{}\n', '');
      assertRun(await loopp(...KV, binary('kv-plugin-ts'), ...server, 'proto.KV/Get', JSON.stringify({ key })), 0, `{"value":"${b64('from ts')}"}\n`, '');
    });
  }

  it('a LOOP (relayer-loop-ts, --loop relayer): loop.Service/Name', async () => {
    assertRun(await loopp('--loop', 'relayer', binary('relayer-loop-ts'), 'loop.Service/Name', '{}'), 0, '{"name":"PluginRelayer"}\n', '');
  });

  it('reflection turned off: exit 1, it says so and how to turn it on', async () => {
    assertRun(
      await loopp(...KV, binary('kv-plugin-ts'), '--no-reflection', 'proto.KV/Get', '{"key":"a"}'),
      1,
      '',
      'loopp call: the plugin does not serve gRPC server reflection (neither grpc.reflection.v1 nor grpc.reflection.v1alpha)\n' +
        '  Go plugins: go-plugin registers reflection on its gRPC server (plugin.Serve); a server of your own needs reflection.Register(server) (google.golang.org/grpc/reflection).\n' +
        '  loopp plugins: reflection is on unless servePlugin({ reflection: false }).\n',
    );
  });

  it('a service served without descriptors: exit 1, the plugin says how to give them', async () => {
    assertRun(
      await loopp(...KV, binary('kv-plugin-ts'), '--no-descriptors', 'proto.KV/Get', '{"key":"a"}'),
      1,
      '',
      /^loopp call: the plugin lists proto\.KV but does not describe it by reflection: fileContainingSymbol proto\.KV answered 5: .*servePlugin\(\{ reflection: \{ descriptors \} \}\).*\n$/,
    );
  });
});

describe('loopp call: command lines refused before any plugin starts', () => {
  it('invalid JSON: exit 2, the line, column and a caret', async () => {
    const r = await loopp(...KV, '/nonexistent/plugin', 'proto.KV/Get', '{"key": "a",\n "x" 1}');
    assertRun(r, 2, '', /^loopp call: the request is not JSON: .* \(line 2, column 6\)\n {3}"x" 1\}\n {7}\^\n$/);
  });

  it('too few words, a malformed method, no cookie', async () => {
    assertRun(await loopp(...KV, 'proto.KV/Get', '{}'), 2, '', "loopp call: expected <plugin> [plugin args...] <service>/<method> '<json>', got 2 word(s); see loopp call --help\n");
    assertRun(await loopp(...KV, '/x', 'Get', '{}'), 2, '', 'loopp call: "Get" is not <service>/<method>, e.g. proto.KV/Get (the service\'s full name, with its package)\n');
    assertRun(await loopp('/x', 'proto.KV/Get', '{}'), 2, '', 'loopp call: --cookie KEY=VALUE is required: the magic cookie the plugin was built with (or --loop KIND for a Chainlink LOOP)\n');
  });

  it('a plugin that cannot be started: exit 3 with what to do', async () => {
    assertRun(await loopp(...KV, path.join(work, 'no such plugin'), 'proto.KV/Get', '{}'), 3, '', /^loopp call: could not start the plugin \(ERR_LOOPP_SPAWN\): .*\n {2}Check the plugin path/);
  });

  it('--help: usage, options, examples, exit statuses', async () => {
    const r = await loopp('--help');
    assert.equal(r.code, 0);
    for (const text of ["Usage: loopp call [options] <plugin> [plugin args...] <service>/<method> '<json>'", '--deadline <duration>', '--cookie KEY=VALUE', 'Examples:', '130  interrupted']) {
      assert.ok(r.stdout.includes(text), `--help lacks ${text}`);
    }
  });
});
