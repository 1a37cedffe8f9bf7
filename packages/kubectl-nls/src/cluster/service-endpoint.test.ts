import test from "ava";
import type { V1EndpointSlice, V1Service } from "@kubernetes/client-node";
import { hasSelector, podEndpoint, servicePortName, type EndpointChoice } from "./service-endpoint.js";

/** The nls-extender Service with the debug views' port, as deploy/ and components/extender-debug-views make it. */
const service = (extra: Partial<NonNullable<V1Service["spec"]>> = {}): V1Service => ({
  metadata: { namespace: "kube-system", name: "nls-extender" },
  spec: {
    ports: [
      { name: "http", port: 23000 },
      { name: "debug", port: 23001 },
    ],
    ...extra,
  },
});

type Endpoint = NonNullable<V1EndpointSlice["endpoints"]>[number];
const leader = (pod: string, extra: Partial<Endpoint> = {}): Endpoint => ({
  addresses: ["10.0.0.7"],
  conditions: { ready: true, serving: true, terminating: false },
  nodeName: "n1",
  targetRef: { kind: "Pod", name: pod, namespace: "kube-system" },
  ...extra,
});
const slice = (
  name: string,
  endpoints: Endpoint[],
  ports: V1EndpointSlice["ports"] = [
    { name: "http", port: 23000 },
    { name: "debug", port: 24001 },
  ],
): V1EndpointSlice => ({
  metadata: { name, namespace: "kube-system", labels: { "kubernetes.io/service-name": "nls-extender" } },
  addressType: "IPv4",
  endpoints,
  ports,
});

const cases: Array<[string, V1Service, V1EndpointSlice[], string | undefined, EndpointChoice]> = [
  [
    "the leader the slice names, on the slice's port of the Service port asked for by number",
    service(),
    [slice("nls-extender", [leader("nls-extender-a")])],
    "23001",
    { ok: true, target: { pod: "nls-extender-a", port: 24001, slice: "nls-extender" } },
  ],
  [
    "the Service port asked for by name",
    service(),
    [slice("nls-extender", [leader("nls-extender-a")])],
    "http",
    { ok: true, target: { pod: "nls-extender-a", port: 23000, slice: "nls-extender" } },
  ],
  [
    "no port asked: the Service's only port, unnamed",
    service({ ports: [{ port: 80 }] }),
    [slice("s", [leader("p")], [{ port: 8080 }])],
    undefined,
    { ok: true, target: { pod: "p", port: 8080, slice: "s" } },
  ],
  [
    "ready unset counts as ready; a targetRef without a namespace is the Service's",
    service(),
    [slice("s", [leader("p", { conditions: {}, targetRef: { kind: "Pod", name: "p" } })])],
    "debug",
    { ok: true, target: { pod: "p", port: 24001, slice: "s" } },
  ],
  [
    "endpoints not ready, not a Pod, or a Pod of another namespace are passed over",
    service(),
    [
      slice("b", [leader("chosen")]),
      slice("a", [
        leader("old", { conditions: { ready: false, terminating: true } }),
        leader("node", { targetRef: { kind: "Node", name: "n1" } }),
        leader("", { targetRef: undefined }),
        leader("elsewhere", { targetRef: { kind: "Pod", name: "elsewhere", namespace: "default" } }),
      ]),
    ],
    "debug",
    { ok: true, target: { pod: "chosen", port: 24001, slice: "b" } },
  ],
  [
    "slices are read in name order, each in its endpoints' order",
    service(),
    [slice("b", [leader("second")]), slice("a", [leader("first"), leader("other")])],
    "debug",
    { ok: true, target: { pod: "first", port: 24001, slice: "a" } },
  ],
  [
    "a slice without the port is passed over",
    service(),
    [slice("a", [leader("http-only")], [{ name: "http", port: 23000 }]), slice("b", [leader("both")])],
    "debug",
    { ok: true, target: { pod: "both", port: 24001, slice: "b" } },
  ],
  [
    "a port number the Service does not have",
    service(),
    [slice("s", [leader("p")])],
    "9999",
    { ok: false, why: "the Service has no port 9999 (its ports: http 23000, debug 23001)" },
  ],
  [
    "a port name the Service does not have",
    service(),
    [slice("s", [leader("p")])],
    "metrics",
    { ok: false, why: "the Service has no port metrics (its ports: http 23000, debug 23001)" },
  ],
  [
    "no port asked of a Service with two",
    service(),
    [slice("s", [leader("p")])],
    undefined,
    { ok: false, why: "the Service has 2 ports (http 23000, debug 23001): name one" },
  ],
  ["no slice", service(), [], "debug", { ok: false, why: "it has no EndpointSlice" }],
  [
    "the slice lacks the port (the debug views' component left out of the slice)",
    service(),
    [slice("nls-extender", [leader("p")], [{ name: "http", port: 23000 }])],
    "debug",
    { ok: false, why: "no EndpointSlice has a port named debug (nls-extender: http 23000)" },
  ],
  [
    "an empty slice: no leader has written itself yet",
    service(),
    [slice("nls-extender", [])],
    "debug",
    { ok: false, why: "its EndpointSlices (nls-extender) have no endpoint" },
  ],
  [
    "only endpoints that are no ready pod",
    service(),
    [
      slice("nls-extender", [
        leader("old", { conditions: { ready: false } }),
        leader("x", { targetRef: { kind: "Node", name: "n1" } }),
      ]),
    ],
    "debug",
    {
      ok: false,
      why: "none of the 2 endpoints of its EndpointSlices (nls-extender) is a ready Pod (1 not ready, 1 not a Pod of kube-system)",
    },
  ],
];

for (const [name, svc, slices, asked, want] of cases) {
  test(`podEndpoint: ${name}`, (t) => {
    t.deepEqual(podEndpoint(svc, slices, asked), want);
  });
}

test("servicePortName: a number is the Service's port, not its slice's; a name is matched as given", (t) => {
  t.deepEqual(servicePortName(service(), "23000"), { ok: true, name: "http" });
  t.deepEqual(servicePortName(service(), "debug"), { ok: true, name: "debug" });
  t.false(servicePortName(service(), "24001").ok, "the slice's port number is no Service port");
});

test("hasSelector: only a non-empty selector counts", (t) => {
  t.false(hasSelector(service()));
  t.false(hasSelector(service({ selector: {} })));
  t.true(hasSelector(service({ selector: { app: "x" } })));
});
