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

// well-known types
export { Empty } from './gen/google/protobuf/empty';
export { Timestamp } from './gen/google/protobuf/timestamp';

// chainlink-common LOOP services (pkg/loop/internal/pb at v1.3.1)
export { AttributedOnchainSignature, BigInt, ChainInfo, ChainStatus, ConfigDigestRequest, ContractConfig, ContractConfigTrackerService, ContractTransmitterService, GetChainInfoReply, GetChainStatusReply, HealthReportReply, LatestConfigRequest, ListNodeStatusesReply, ListNodeStatusesRequest, NameReply, NewRelayerReply, NewRelayerRequest, OffchainConfigDigesterService, PluginRelayerClient, PluginRelayerService, RelayerClient, RelayerService, ReportContext, ReportTimestamp, ServiceService, TransmitRequest } from './gen/loop/relayer';
export { AccountsReply, DecryptRequest, KeystoreClient, KeystoreService, SignRequest } from './gen/loop/keystore';
export { CapabilitiesRegistryService } from './gen/loop/capabilities_registry';
export { ContractReaderService, GetLatestValueReply, GetLatestValueRequest } from './gen/loop/contract_reader';
export { BuildReportRequest, DecodeRequest, EncodeRequest, ErrorLogService, LatestRoundRequestedRequest, LatestTransmissionDetailsReply, MaxReportLengthRequest, MedianContractService, MedianFromReportRequest, NewMedianFactoryReply, NewMedianFactoryRequest, OnchainConfigCodecService, PluginMedianClient, ReportCodecService, SaveErrorRequest } from './gen/loop/median';
export { DataSourceService, ObserveRequest } from './gen/loop/median_datasource';
export { AttributedObservation, NewReportingPluginReply, ReportingPluginConfig, ReportingPluginFactoryClient, ReportingPluginInfo, ReportingPluginService } from './gen/loop/reporting';
