import test from "ava";
import { selfEndpoint, sliceDecision, type Self, type SliceEndpoint, type SliceView } from "./endpoint-slice.js";

const self: Self = { ip: "10.244.1.7", podName: "nls-extender-abc", podNamespace: "kube-system", nodeName: "node-a" };
const mine = selfEndpoint(self);
const other: SliceEndpoint = {
  addresses: ["10.244.2.9"],
  conditions: { ready: true, serving: true, terminating: false },
  nodeName: "node-b",
  targetRef: { kind: "Pod", name: "nls-extender-old", namespace: "kube-system" },
};

const cases: Array<{ name: string; slice: SliceView; self?: Self; expect: string; replaced?: string[] }> = [
  {
    name: "empty, as shipped in deploy/",
    slice: { addressType: "IPv4", endpoints: [] },
    expect: "write",
    replaced: [],
  },
  { name: "no endpoints field at all", slice: { addressType: "IPv4", endpoints: undefined }, expect: "write" },
  { name: "already this replica alone", slice: { addressType: "IPv4", endpoints: [mine] }, expect: "keep" },
  {
    name: "a dead or old leader's address",
    slice: { addressType: "IPv4", endpoints: [other] },
    expect: "write",
    replaced: ["10.244.2.9"],
  },
  {
    name: "this replica and another (two writers raced)",
    slice: { addressType: "IPv4", endpoints: [mine, other] },
    expect: "write",
    replaced: ["10.244.1.7", "10.244.2.9"],
  },
  {
    name: "this replica's address, but marked not ready",
    slice: { addressType: "IPv4", endpoints: [{ ...mine, conditions: { ready: false } }] },
    expect: "write",
  },
  {
    name: "this replica's address under another pod's name (the IP was reused)",
    slice: { addressType: "IPv4", endpoints: [{ ...mine, targetRef: { kind: "Pod", name: "gone" } }] },
    expect: "write",
  },
  {
    name: "an IPv6 pod in an IPv6 slice",
    slice: { addressType: "IPv6", endpoints: [] },
    self: { ip: "fd00::7" },
    expect: "write",
  },
  {
    name: "an IPv6 pod in an IPv4 slice",
    slice: { addressType: "IPv4", endpoints: [] },
    self: { ip: "fd00::7" },
    expect: "refuse",
  },
  { name: "an IPv4 pod in an FQDN slice", slice: { addressType: "FQDN", endpoints: [] }, expect: "refuse" },
  {
    name: "a pod IP that is no IP",
    slice: { addressType: "IPv4", endpoints: [] },
    self: { ip: "node-a" },
    expect: "refuse",
  },
  ...[
    ["a loopback pod IP", "IPv4", "127.0.0.1"],
    ["a link-local pod IP", "IPv4", "169.254.1.2"],
    ["IPv6 loopback", "IPv6", "::1"],
    ["IPv6 link-local", "IPv6", "fe80::1"],
  ].map(([name, addressType, ip]) => ({
    name: name!,
    slice: { addressType: addressType!, endpoints: [] },
    self: { ip: ip! },
    expect: "refuse",
  })),
];

for (const c of cases) {
  test(`slice decision: ${c.name} → ${c.expect}`, (t) => {
    const d = sliceDecision(c.slice, c.self ?? self);
    t.is(d.action as string, c.expect);
    if (d.action === "write") {
      t.deepEqual(d.endpoints, [selfEndpoint(c.self ?? self)]);
      if (c.replaced) t.deepEqual(d.replaced, c.replaced);
    }
    if (d.action === "refuse") t.regex(d.problem, /addressType|not an IP|loopback or link-local/);
  });
}

test("the published endpoint is this pod, ready, on its node", (t) => {
  t.deepEqual(mine, {
    addresses: ["10.244.1.7"],
    conditions: { ready: true, serving: true, terminating: false },
    nodeName: "node-a",
    targetRef: { kind: "Pod", name: "nls-extender-abc", namespace: "kube-system" },
  });
  t.deepEqual(selfEndpoint({ ip: "127.0.0.1" }), {
    addresses: ["127.0.0.1"],
    conditions: { ready: true, serving: true, terminating: false },
  });
});
