/**
 * The only door to generated code (ts-proto output under ./gen, made by `make proto` from proto/).
 * Everything else in src/ imports protobuf messages and grpc-js service definitions from here, so a
 * change of generator or of its options touches this file, not the importers. Test-only protos are
 * generated under fixtures/gen and never shipped.
 */

// go-plugin protocol services
export { ConnInfo, GRPCBrokerClient, GRPCBrokerService } from './gen/plugin/grpc_broker';
export { GRPCControllerClient, GRPCControllerService } from './gen/plugin/grpc_controller';
export { GRPCStdioClient, GRPCStdioService, StdioData, StdioData_Channel } from './gen/plugin/grpc_stdio';

// gRPC health
export { HealthCheckRequest, HealthCheckResponse, HealthCheckResponse_ServingStatus, HealthClient, HealthServer, HealthService } from './gen/grpc/health/v1/health';

// gRPC server reflection. v1alpha is v1 under its first package name, the same messages: servers
// answer it with v1's codecs, and its own generated module (for clients, e.g. tests) loads on demand.
export { ServerReflectionClient as ReflectionV1Client, ServerReflectionService as ReflectionV1Service } from './gen/grpc/reflection/v1/reflection';
export type { ServerReflectionRequest, ServerReflectionResponse } from './gen/grpc/reflection/v1/reflection';
import type * as ReflectionV1AlphaPb from './gen/grpc/reflection/v1alpha/reflection';
export const reflectionV1Alpha = (): typeof ReflectionV1AlphaPb => require('./gen/grpc/reflection/v1alpha/reflection') as typeof ReflectionV1AlphaPb;

/** Every proto under src/gen (with imports, without source info) as a serialized FileDescriptorSet; loaded on first use. */
import type * as DescriptorSetModule from './gen/descriptor-set';
export const shippedDescriptorSet = (): Uint8Array => (require('./gen/descriptor-set') as typeof DescriptorSetModule).fileDescriptorSet();

// well-known types
export { Empty } from './gen/google/protobuf/empty';
export { Timestamp } from './gen/google/protobuf/timestamp';

// chainlink-common LOOP services (pkg/loop/internal/pb at v1.3.1). Their types cost nothing at run time;
// their values (service definitions, clients, codecs) load on first use through loopProtos, so a process
// that imports loopp and no LOOP does not load them (about 7 ms of every start, measured).
import type * as RelayerPb from './gen/loop/relayer';
import type * as KeystorePb from './gen/loop/keystore';
import type * as CapabilitiesRegistryPb from './gen/loop/capabilities_registry';
import type * as ContractReaderPb from './gen/loop/contract_reader';
import type * as ContractWriterPb from './gen/loop/contract_writer';
import type * as ChainQueryPb from './gen/loop/chain/common/query';
import type * as EvmPb from './gen/loop/chain/evm/evm';
import type * as MedianPb from './gen/loop/median';
import type * as MedianDatasourcePb from './gen/loop/median_datasource';
import type * as ReportingPb from './gen/loop/reporting';
export type { AttributedOnchainSignature, BigInt, ChainInfo, ChainStatus, ConfigDigestRequest, FinalizedHeadReply, LatestHeadReply, NewConfigProviderReply, NewConfigProviderRequest, NewContractReaderReply, NewContractWriterReply, NewPluginProviderReply, NewPluginProviderRequest, NodeStatus, PluginArgs, RelayArgs, ReplayRequest, TransactionRequest, ContractConfig, ContractConfigTrackerService, ContractTransmitterService, GetChainInfoReply, GetChainStatusReply, HealthReportReply, LatestConfigRequest, ListNodeStatusesReply, ListNodeStatusesRequest, NameReply, NewRelayerReply, NewRelayerRequest, OffchainConfigDigesterService, PluginRelayerClient, PluginRelayerService, RelayerClient, RelayerService, ReportContext, ReportTimestamp, ServiceService, TransmitRequest } from './gen/loop/relayer';
export type { AccountsReply, DecryptRequest, KeystoreClient, KeystoreService, SignRequest } from './gen/loop/keystore';
export type { CapabilitiesRegistryService } from './gen/loop/capabilities_registry';
export type { BatchGetLatestValuesReply, BatchGetLatestValuesRequest, BatchRead, BatchReadResult, BindRequest, BoundContract, ContractBatch, ContractBatchResult, ContractKeyFilter, ContractReaderService, GetLatestValueReply, GetLatestValueRequest, Head, QueryKeyFilter, QueryKeyReply, QueryKeyRequest, QueryKeysReply, QueryKeysRequest, Sequence, SequenceWithKey, UnbindRequest } from './gen/loop/contract_reader';
export type { ContractWriterService, GetEstimateFeeReply, GetEstimateFeeRequest, GetFeeComponentsReply, SubmitTransactionRequest, TransactionMeta } from './gen/loop/contract_writer';
export type { Block as QueryBlock, BooleanExpression, Comparator, Expression, Limit, LimitAndSort, Primitive, SortBy, Timestamp as QueryTimestamp, TxHash as QueryTxHash, ValueComparator } from './gen/loop/chain/common/query';
export type { GetTransactionStatusReply, GetTransactionStatusRequest } from './gen/loop/chain/evm/evm';
export type { BuildReportRequest, DecodeRequest, EncodeRequest, ErrorLogService, LatestRoundRequestedRequest, LatestTransmissionDetailsReply, MaxReportLengthRequest, MedianContractService, MedianFromReportReply, MedianFromReportRequest, NewMedianFactoryReply, NewMedianFactoryRequest, OnchainConfigCodecService, PluginMedianClient, ReportCodecService, SaveErrorRequest } from './gen/loop/median';
export type { DataSourceService, ObserveRequest } from './gen/loop/median_datasource';
export type { AttributedObservation, NewReportingPluginReply, ReportingPluginConfig, ReportingPluginFactoryClient, ReportingPluginInfo, ReportingPluginService } from './gen/loop/reporting';

/** Loaders of the LOOP protos' modules (each is loaded once, then cached by Node). */
export const loopProtos = {
  relayer: (): typeof RelayerPb => require('./gen/loop/relayer') as typeof RelayerPb,
  keystore: (): typeof KeystorePb => require('./gen/loop/keystore') as typeof KeystorePb,
  capabilitiesRegistry: (): typeof CapabilitiesRegistryPb => require('./gen/loop/capabilities_registry') as typeof CapabilitiesRegistryPb,
  contractReader: (): typeof ContractReaderPb => require('./gen/loop/contract_reader') as typeof ContractReaderPb,
  contractWriter: (): typeof ContractWriterPb => require('./gen/loop/contract_writer') as typeof ContractWriterPb,
  chainQuery: (): typeof ChainQueryPb => require('./gen/loop/chain/common/query') as typeof ChainQueryPb,
  evm: (): typeof EvmPb => require('./gen/loop/chain/evm/evm') as typeof EvmPb,
  median: (): typeof MedianPb => require('./gen/loop/median') as typeof MedianPb,
  medianDatasource: (): typeof MedianDatasourcePb => require('./gen/loop/median_datasource') as typeof MedianDatasourcePb,
  reporting: (): typeof ReportingPb => require('./gen/loop/reporting') as typeof ReportingPb,
};
