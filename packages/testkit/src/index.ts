// Test-only: builders of API objects for the tests and the benchmark. Nothing here ships in a daemon.
export * from "./api-objects.js";
