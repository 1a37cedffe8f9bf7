// The extender as a library: the pure core, the cache store and the HTTP app (the binary is cli.ts).
export * from "./request.js";
export * from "./node-view.js";
export * from "./placement.js";
export * from "./scoring.js";
export * from "./ledger.js";
export * from "./lv-accounting.js";
export * from "./lease.js";
export * from "./claims.js";
export * from "./decide.js";
export { ClusterStore, type StoreOptions } from "./cache/store.js";
export { makeInformers, type Informers } from "./cache/informers.js";
export { ExtenderMetrics } from "./metrics.js";
export { createApp, listen, type RunningServer } from "./server.js";
export type { ClaimWriter, RouteContext } from "./routes/context.js";
// The simulation behind `npm start`: objects and a pod burst in, placements and usage out.
export * from "./simulate/cluster-objects.js";
export * from "./simulate/pod-burst.js";
export * from "./simulate/simulate.js";
export * from "./simulate/render.js";
export * from "./simulate/report.js";
