import test from "ava";
import { ApiException, type V1EndpointSlice, type V1Service } from "@kubernetes/client-node";
import type { ServiceRef } from "./reader.js";
import { getThroughService, type ProxyApi } from "./service-proxy-get.js";

const forbidden = (what: string) => new ApiException(403, "Forbidden", { message: `${what} is forbidden` }, {});

/** A ProxyApi over fixed answers (an Error is thrown); records every call. */
function fakeApi(answers: {
  service: V1Service | Error;
  slices?: V1EndpointSlice[] | Error;
  pod?: unknown;
  serviceProxy?: unknown;
}) {
  const calls: string[] = [];
  const answer = <T>(a: T | Error) => (a instanceof Error ? Promise.reject(a) : Promise.resolve(a));
  const api: ProxyApi = {
    service: (ns, name) => (calls.push(`get services ${ns}/${name}`), answer(answers.service)),
    endpointSlices: (ns, svc) => (calls.push(`list endpointslices ${ns} ${svc}`), answer(answers.slices ?? [])),
    podProxy: (ns, name, path) => (calls.push(`pods/proxy ${ns}/${name}/${path}`), answer(answers.pod)),
    serviceProxy: (ns, name, path) => (
      calls.push(`services/proxy ${ns}/${name}/${path}`),
      answer(answers.serviceProxy)
    ),
  };
  return { api, calls };
}

const ref: ServiceRef = { namespace: "kube-system", name: "nls-extender", port: "23001" };
const selectorLess: V1Service = {
  metadata: { namespace: "kube-system", name: "nls-extender" },
  spec: { ports: [{ name: "debug", port: 23001 }] },
};
const withSelector: V1Service = { ...selectorLess, spec: { ...selectorLess.spec, selector: { app: "x" } } };
const leaderSlice = (endpoints: V1EndpointSlice["endpoints"]): V1EndpointSlice => ({
  metadata: { name: "nls-extender" },
  addressType: "IPv4",
  endpoints,
  ports: [{ name: "debug", port: 23001 }],
});
const leader = leaderSlice([{ addresses: ["10.0.0.7"], targetRef: { kind: "Pod", name: "ext-a" } }]);
const empty = leaderSlice([]);
const body = { ledger: {} };
const needs = "get services, list endpointslices (discovery.k8s.io) and get pods/proxy in kube-system";

const reached: Array<[string, ServiceRef, Parameters<typeof fakeApi>[0], string[], string]> = [
  [
    "a selector-less Service: its slice's pod through pods/proxy, nothing else",
    ref,
    { service: selectorLess, slices: [leader], pod: body },
    [
      "get services kube-system/nls-extender",
      "list endpointslices kube-system nls-extender",
      "pods/proxy kube-system/ext-a:23001/cache",
    ],
    "pod kube-system/ext-a",
  ],
  [
    "https: is kept for the pod",
    { ...ref, scheme: "https" },
    { service: selectorLess, slices: [leader], pod: body },
    [
      "get services kube-system/nls-extender",
      "list endpointslices kube-system nls-extender",
      "pods/proxy kube-system/https:ext-a:23001/cache",
    ],
    "pod kube-system/ext-a",
  ],
  [
    "a Service with a selector whose slices name no pod: the service proxy",
    ref,
    { service: withSelector, slices: [empty], serviceProxy: body },
    [
      "get services kube-system/nls-extender",
      "list endpointslices kube-system nls-extender",
      "services/proxy kube-system/nls-extender:23001/cache",
    ],
    "service kube-system/nls-extender:23001",
  ],
  [
    "the Service not readable (forbidden): the service proxy",
    ref,
    { service: forbidden("services"), serviceProxy: body },
    ["get services kube-system/nls-extender", "services/proxy kube-system/nls-extender:23001/cache"],
    "service kube-system/nls-extender:23001",
  ],
  [
    "pods/proxy forbidden, the Service has a selector: the service proxy",
    { ...ref, scheme: "https" },
    { service: withSelector, slices: [leader], pod: forbidden("pods/proxy"), serviceProxy: body },
    [
      "get services kube-system/nls-extender",
      "list endpointslices kube-system nls-extender",
      "pods/proxy kube-system/https:ext-a:23001/cache",
      "services/proxy kube-system/https:nls-extender:23001/cache",
    ],
    "service https:kube-system/nls-extender:23001",
  ],
];
for (const [name, target, answers, calls, from] of reached) {
  test(`reached: ${name}`, async (t) => {
    const fake = fakeApi(answers);
    const reply = await getThroughService(fake.api, target, "cache");
    t.is(reply.body, body);
    t.is(reply.from, from, "who answered: the pod asked, or only the Service");
    t.deepEqual(fake.calls, calls);
  });
}

const failed: Array<[string, Parameters<typeof fakeApi>[0], string, number]> = [
  [
    "a selector-less Service whose slice is empty: no service proxy (it reads Endpoints nothing writes)",
    { service: selectorLess, slices: [empty] },
    "Service kube-system/nls-extender: its EndpointSlices (nls-extender) have no endpoint " +
      `(this route needs ${needs}; a Service without a selector has no other)`,
    2,
  ],
  [
    "slices not listable for a selector-less Service",
    { service: selectorLess, slices: forbidden("endpointslices") },
    "list the EndpointSlices of Service kube-system/nls-extender: HTTP 403: endpointslices is forbidden " +
      `(this route needs ${needs}; a Service without a selector has no other)`,
    2,
  ],
  [
    "the pod reached but failing: the service proxy would reach the same pod",
    {
      service: withSelector,
      slices: [leader],
      pod: new ApiException(503, "Service Unavailable", "standby: not the leader", {}),
    },
    "GET cache through pods/proxy of kube-system/ext-a:23001 (the endpoint in EndpointSlice nls-extender): " +
      `HTTP 503: standby: not the leader (this route needs ${needs})`,
    3,
  ],
  [
    "no such Service",
    { service: new ApiException(404, "Not Found", { message: 'services "nls-extender" not found' }, {}) },
    `get Service kube-system/nls-extender: HTTP 404: services "nls-extender" not found (this route needs ${needs})`,
    1,
  ],
  [
    "both routes fail: both said, with the RBAC of each",
    { service: forbidden("services"), serviceProxy: forbidden("services/proxy") },
    "get Service kube-system/nls-extender: HTTP 403: services is forbidden; then GET cache through the service " +
      "proxy of kube-system/nls-extender:23001: HTTP 403: services/proxy is forbidden " +
      `(needs ${needs}, or get services/proxy in kube-system for a Service with a selector)`,
    2,
  ],
];
for (const [name, answers, message, calls] of failed) {
  test(`failed: ${name}`, async (t) => {
    const fake = fakeApi(answers);
    await t.throwsAsync(getThroughService(fake.api, ref, "cache"), { message });
    t.is(fake.calls.length, calls, fake.calls.join("\n"));
  });
}

test("a network error is reported as it is, without another route", async (t) => {
  const fake = fakeApi({ service: new Error("connect ECONNREFUSED 127.0.0.1:6443") });
  await t.throwsAsync(getThroughService(fake.api, ref, "cache"), {
    message: `get Service kube-system/nls-extender: connect ECONNREFUSED 127.0.0.1:6443 (this route needs ${needs})`,
  });
  t.is(fake.calls.length, 1);
});
