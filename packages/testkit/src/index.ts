// Test-only: builders of API objects and helpers that run the built daemons, for the tests and the
// benchmark. Nothing here ships in a daemon.
export * from "./api-objects.js";
export * from "./built-cli.js";
export * from "./image-flags.js";
export * from "./pki.js";
