/**
 * The shared reference suite (relayer-reference-suite.ts) against both reference relayer LOOPs:
 * chainlink-common's serving code (go-interop/bin/relayer-ref-go) and loopp's plugin side
 * (bin/relayer-loop-ts). Both must answer reference.json identically, with loopp's own channel and
 * server and with grpc-js's selected.
 */
import { binary, goBinary } from '../helpers';
import { referenceSuite } from './relayer-reference-suite';

referenceSuite({ name: 'relayer-ref-go', cmd: () => goBinary('relayer-ref-go') });
referenceSuite({ name: 'relayer-loop-ts', cmd: () => binary('relayer-loop-ts') });
// The same with grpc-js selected instead of loopp's own channel (host) and server and channel (TS plugin).
referenceSuite({ name: 'relayer-ref-go', cmd: () => goBinary('relayer-ref-go'), grpcJs: true });
referenceSuite({ name: 'relayer-loop-ts', cmd: () => binary('relayer-loop-ts'), grpcJs: true });
