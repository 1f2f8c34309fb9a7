// The layers of src/ and the one-way imports between them, checked by `make test` (make check-layers).
//
//   core <- wire <- net <- shared <- {host | plugin} <- index.ts, protocol.ts <- loop
//   (src/cli, the loopp command, sits on top: nothing imports it)
//
// core: errors, constants, debug, Go-compatible parsing; wire: the protocol's texts (handshake line,
// environment, hclog); net: sockets, AutoMTLS certificates, yamux, grpc-js plumbing; shared: what
// both sides run (broker, stdio codec, plugin sets); host and plugin: the two sides, which never
// import each other; loop: Chainlink's LOOP layer, which reaches the protocol only through the
// package's public entries. Every rule's name is printed when an import breaks it.
'use strict';

const below = (layers) => `^src/(?!(${layers.join('|')})/)`;

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'Import cycles make layers meaningless (a cycle through type-only imports loads nothing at run time).',
      from: {},
      to: { circular: true, viaOnly: { dependencyTypesNot: ['type-only'] } },
    },
    {
      name: 'core-is-the-bottom',
      severity: 'error',
      comment: 'src/core imports nothing of loopp outside core.',
      from: { path: '^src/core/' },
      to: { path: below(['core']) },
    },
    {
      name: 'wire-imports-core-only',
      severity: 'error',
      comment: 'The protocol texts (handshake, env, hclog) are pure: core only (decoding a certificate is net/mtls\'s job).',
      from: { path: '^src/wire/' },
      to: { path: below(['core', 'wire']) },
    },
    {
      name: 'net-imports-core-and-wire',
      severity: 'error',
      from: { path: '^src/net/' },
      to: { path: below(['core', 'wire', 'net']) },
    },
    {
      name: 'shared-below-the-sides',
      severity: 'error',
      comment: 'What both sides run cannot depend on either side.',
      from: { path: '^src/shared/' },
      to: { path: below(['core', 'wire', 'net', 'shared']), pathNot: '^src/gen\\.ts$' },
    },
    { name: 'host-never-imports-plugin', severity: 'error', from: { path: '^src/host/' }, to: { path: '^src/plugin/' } },
    { name: 'plugin-never-imports-host', severity: 'error', from: { path: '^src/plugin/' }, to: { path: '^src/host/' } },
    {
      name: 'sides-below-the-entries',
      severity: 'error',
      comment: 'host/ and plugin/ never reach up into loop/ or the public entries.',
      from: { path: '^src/(host|plugin)/' },
      to: { path: '^src/(loop/|cli/|index\\.ts$|protocol\\.ts$|testing\\.ts$)' },
    },
    {
      name: 'cli-on-top',
      severity: 'error',
      comment: 'The loopp command (src/cli) is a user of the library: nothing in the package imports it.',
      from: { path: '^src/', pathNot: '^src/cli/' },
      to: { path: '^src/cli/' },
    },
    {
      name: 'one-door-to-generated-code',
      severity: 'error',
      comment: 'Generated code is reached through src/gen.ts only.',
      from: { path: '^(src|fixtures|test)/', pathNot: '^src/gen(\\.ts$|/)' },
      to: { path: '^src/gen/' },
    },
    {
      name: 'generated-code-above-net',
      severity: 'error',
      comment: 'core, wire and net know nothing of protobuf messages.',
      from: { path: '^src/(core|wire|net)/' },
      to: { path: '^src/gen(\\.ts$|/)' },
    },
    {
      name: 'package-never-imports-tests',
      severity: 'error',
      comment: 'Test protos and fixtures are not shipped.',
      from: { path: '^src/' },
      to: { path: '^(fixtures|test)/' },
    },
    {
      name: 'loop-through-the-public-entries',
      severity: 'error',
      comment: 'loop/ uses the protocol as a user does: src/index.ts (and src/protocol.ts), plus core and gen.ts.',
      from: { path: '^src/loop/' },
      to: { path: '^src/(wire|net|shared|host|plugin)/' },
    },
    {
      name: 'loop-wire-below-loop-sides',
      severity: 'error',
      from: { path: '^src/loop/wire/' },
      to: { path: '^src/loop/(host|plugin)/|^src/loop/[^/]+$' },
    },
    { name: 'loop-host-never-imports-loop-plugin', severity: 'error', from: { path: '^src/loop/host/' }, to: { path: '^src/loop/plugin/' } },
    { name: 'loop-plugin-never-imports-loop-host', severity: 'error', from: { path: '^src/loop/plugin/' }, to: { path: '^src/loop/host/' } },
    {
      name: 'prom-client-on-the-loop-plugin-side-only',
      severity: 'error',
      comment: 'prom-client is an optional peer: only LOOP plugin-side code and discovery may know it.',
      from: { path: '^src/', pathNot: '^src/loop/(plugin/|host/discovery\\.ts$)' },
      to: { path: 'node_modules/prom-client/' },
    },
    {
      name: 'prom-client-loaded-lazily',
      severity: 'error',
      comment: 'A LOOP host works without prom-client: only src/loop/plugin/prom-client.ts loads it, on first use.',
      from: { path: '^src/', pathNot: '^src/loop/plugin/prom-client\\.ts$' },
      to: { path: 'node_modules/prom-client/', dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'fixtures-use-public-entries',
      severity: 'error',
      comment: 'Fixture plugins and hosts are written as users write theirs.',
      from: { path: '^fixtures/' },
      to: { path: '^src/', pathNot: '^src/(index|protocol|loop/index)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^dist/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js', '.json'] },
  },
};
