// The agent's modules are exported from here as they land.
export {};
