export * from "./constants.js";
export * from "./nodelocalstorage.js";
export * from "./initconfig.js";
export * from "./extender-wire.js";
export * from "./quantity.js";
export * from "./selection.js";
export * from "./label-selector.js";
export * from "./crd/definitions.js";
