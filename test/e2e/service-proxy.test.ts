import test from "ava";
import { readyBackends } from "./service-proxy.js";

const slice = (endpoints: unknown[], ports = [{ name: "http", port: 23000 }]) => ({ ports, endpoints }) as never;

const cases: Array<[string, unknown[], string[]]> = [
  ["empty slice", [slice([])], []],
  ["a ready endpoint", [slice([{ addresses: ["10.0.0.1"], conditions: { ready: true } }])], ["10.0.0.1:23000"]],
  ["ready unset counts as ready (as kube-proxy)", [slice([{ addresses: ["10.0.0.1"] }])], ["10.0.0.1:23000"]],
  ["not ready is skipped", [slice([{ addresses: ["10.0.0.1"], conditions: { ready: false } }])], []],
  [
    "the port is the one named as the Service port",
    [
      slice(
        [{ addresses: ["10.0.0.1"] }],
        [
          { name: "reserve", port: 23002 },
          { name: "http", port: 23000 },
        ],
      ),
    ],
    ["10.0.0.1:23000"],
  ],
  [
    "a slice without that port name is skipped",
    [slice([{ addresses: ["10.0.0.1"] }], [{ name: "debug", port: 1 }])],
    [],
  ],
  [
    "every slice of the Service counts",
    [slice([{ addresses: ["10.0.0.1"] }]), slice([{ addresses: ["10.0.0.2"] }])],
    ["10.0.0.1:23000", "10.0.0.2:23000"],
  ],
];
for (const [name, slices, want] of cases) {
  test(`kube-proxy stand-in backends: ${name}`, (t) => {
    t.deepEqual(
      readyBackends(slices as never, "http").map((b) => `${b.ip}:${b.port}`),
      want,
    );
  });
}
