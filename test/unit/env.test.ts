import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfigError } from '../../src/core/errors';
import { COOKIE_MISCONFIGURED_TEXT, NOT_A_PLUGIN_TEXT, buildPluginEnv, checkMagicCookie, readPluginEnv } from '../../src/wire/env';

const handshake = { protocolVersion: 1, magicCookieKey: 'BASIC_PLUGIN', magicCookieValue: 'hello' };

describe('buildPluginEnv', () => {
  it('appends the protocol variables in go-plugin order after app and host variables', () => {
    const env = buildPluginEnv({ handshake, versions: [1, 2], hostEnv: { HOME: '/h', PATH: '/bin' }, extraEnv: { APP: 'x' } });
    assert.deepEqual(Object.keys(env), ['APP', 'HOME', 'PATH', 'BASIC_PLUGIN', 'PLUGIN_MIN_PORT', 'PLUGIN_MAX_PORT', 'PLUGIN_PROTOCOL_VERSIONS']);
    assert.equal(env.PLUGIN_MIN_PORT, '10000');
    assert.equal(env.PLUGIN_MAX_PORT, '25000');
    assert.equal(env.PLUGIN_PROTOCOL_VERSIONS, '1,2');
  });
  it('lets protocol variables win over inherited ones, and inherited over app ones (Go quirk)', () => {
    const env = buildPluginEnv({ handshake, versions: [1], hostEnv: { BASIC_PLUGIN: 'evil', X: 'host' }, extraEnv: { X: 'app' } });
    assert.equal(env.BASIC_PLUGIN, 'hello');
    assert.equal(env.X, 'host');
  });
  it('skips the host environment when hostEnv is null', () => {
    const env = buildPluginEnv({ handshake, versions: [1], hostEnv: null, extraEnv: { ONLY: '1' } });
    assert.equal(env.HOME, undefined);
    assert.equal(env.ONLY, '1');
  });
  it('adds the optional variables', () => {
    const env = buildPluginEnv({ handshake, versions: [1], hostEnv: null, multiplex: true, clientCertPem: 'PEM\n', unixSocketGroup: 'wheel', unixSocketDir: '/d', minPort: 5, maxPort: 6 });
    assert.equal(env.PLUGIN_MULTIPLEX_GRPC, 'true');
    assert.equal(env.PLUGIN_CLIENT_CERT, 'PEM\n');
    assert.equal(env.PLUGIN_UNIX_SOCKET_GROUP, 'wheel');
    assert.equal(env.PLUGIN_UNIX_SOCKET_DIR, '/d');
    assert.equal(env.PLUGIN_MIN_PORT, '5');
    assert.equal(env.PLUGIN_MAX_PORT, '6');
  });
});

describe('checkMagicCookie', () => {
  it('accepts the exact value only', () => {
    assert.equal(checkMagicCookie(handshake, { BASIC_PLUGIN: 'hello' }), undefined);
    assert.equal(checkMagicCookie(handshake, { BASIC_PLUGIN: 'Hello' }), NOT_A_PLUGIN_TEXT);
    assert.equal(checkMagicCookie(handshake, {}), NOT_A_PLUGIN_TEXT);
  });
  it('reports a plugin built without a cookie', () => {
    assert.equal(checkMagicCookie({ ...handshake, magicCookieKey: '' }, {}), COOKIE_MISCONFIGURED_TEXT);
  });
  it('uses go-plugin\'s texts', () => {
    assert.equal(NOT_A_PLUGIN_TEXT, 'This binary is a plugin. These are not meant to be executed directly.\nPlease execute the program that consumes these plugins, which will\nload any plugins automatically\n');
  });
});

describe('readPluginEnv', () => {
  it('reads everything a host may send', () => {
    const e = readPluginEnv({
      PLUGIN_PROTOCOL_VERSIONS: '1,2,x',
      PLUGIN_MIN_PORT: '10000',
      PLUGIN_MAX_PORT: '10010',
      PLUGIN_CLIENT_CERT: 'pem',
      PLUGIN_MULTIPLEX_GRPC: 'true',
      PLUGIN_UNIX_SOCKET_DIR: '/s',
      PLUGIN_UNIX_SOCKET_GROUP: 'g',
    });
    assert.deepEqual(e, {
      hostVersions: [1, 2],
      invalidVersions: ['x'],
      minPort: 10000,
      maxPort: 10010,
      clientCertPem: 'pem',
      muxAsked: true,
      muxEnabled: true,
      unixSocketDir: '/s',
      unixSocketGroup: 'g',
    });
  });
  it('distinguishes asking for mux (non-empty) from enabling it (ParseBool true)', () => {
    const e = readPluginEnv({ PLUGIN_MULTIPLEX_GRPC: 'no' });
    assert.equal(e.muxAsked, true);
    assert.equal(e.muxEnabled, false);
    assert.equal(readPluginEnv({}).muxAsked, false);
  });
  it('defaults to an ephemeral port and no host list', () => {
    const e = readPluginEnv({});
    assert.equal(e.minPort, 0);
    assert.equal(e.maxPort, 0);
    assert.equal(e.hostVersions, undefined);
  });
  it('fails with Go\'s texts on bad ports', () => {
    assert.throws(() => readPluginEnv({ PLUGIN_MIN_PORT: 'abc' }), (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.code, 'ERR_LOOPP_ENV');
      assert.equal(err.message, 'Couldn\'t get value from PLUGIN_MIN_PORT: strconv.ParseInt: parsing "abc": invalid syntax');
      assert.equal(err.input, 'abc');
      return true;
    });
    assert.throws(() => readPluginEnv({ PLUGIN_MIN_PORT: '20', PLUGIN_MAX_PORT: '10' }), /PLUGIN_MIN_PORT value of 20 is greater than PLUGIN_MAX_PORT value of 10/);
    assert.throws(() => readPluginEnv({ PLUGIN_MAX_PORT: '99999999999' }), /value out of range/);
  });
});
