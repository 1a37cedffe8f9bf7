// What both daemons share at their edge; nothing here knows about storage.
export * from "./program.js";
export * from "./flags.js";
export * from "./log.js";
export * from "./kubeconfig.js";
export * from "./version.js";
export * from "./process.js";
export * from "./listen-address.js";
