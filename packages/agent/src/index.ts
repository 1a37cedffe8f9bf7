// The agent as a library: the reconcile loop and its ports, for embedding and for end-to-end tests.
export * from "./agent.js";
export type { ReconcileResult } from "./loop/reconcile.js";
export { initBackoffMs, type InitTargetOutcome } from "./loop/init-tracker.js";
export * from "./status.js";
export * from "./metrics.js";
export * from "./server.js";
export * from "./flags.js";
export * from "./kube/client.js";
export * from "./kube/http-kube.js";
export { apiEndpoint, type ApiEndpoint, type Credentials } from "./kube/api-endpoint.js";
export {
  discoverHost,
  DEFAULT_DEVICE_GLOBS,
  DEFAULT_MOUNT_ROOT,
  type DiscoveryOptions,
  type HostFacts,
} from "./discovery/host.js";
export { execaRunner, type CommandRunner, type CommandResult } from "./discovery/run.js";
export { planInit, type InitPlan } from "./init/plan.js";
export { applyInit, type InitOutcome } from "./init/apply.js";
export { buildStatus, type ReportOptions } from "./report.js";
export { realHost, type HostPort, type InitOutcomes } from "./host-port.js";
export { scanHost, renderScan } from "./scan.js";
