import test from "ava";
import type { NodeLocalStorage } from "@nls/api";
import { createLogger } from "@nls/daemon";
import { FakeKube } from "../../testing/fake-kube.js";
import type { AgentEvent } from "../kube/client.js";
import { AgentMetrics } from "../metrics.js";
import { EventRecorder } from "./event-recorder.js";

const nls: NodeLocalStorage = { metadata: { name: "node-1" } };
const refused = (message: string): AgentEvent => ({ type: "Warning", reason: "InitRefused", message });

function setup() {
  const kube = new FakeKube();
  const metrics = new AgentMetrics({ defaultMetrics: false });
  const events = new EventRecorder(kube, "kube-system", metrics, createLogger("nls-agent", "silent"));
  const recorded = () => kube.events.map((e) => `${e.namespace} ${e.involved} ${e.event.message}`);
  return { kube, metrics, events, recorded };
}

test("an Event is recorded once per subject until what it says changes", async (t) => {
  const { events, recorded } = setup();
  await events.record(nls, "vg:a", refused("a is dirty"));
  await events.record(nls, "vg:a", refused("a is dirty"));
  await events.record(nls, "vg:b", refused("a is dirty"));
  await events.record(nls, "vg:a", refused("a is mounted"));
  await events.record(nls, "vg:a", refused("a is dirty"));
  t.deepEqual(recorded(), [
    "kube-system node-1 a is dirty",
    "kube-system node-1 a is dirty",
    "kube-system node-1 a is mounted",
    "kube-system node-1 a is dirty",
  ]);
});

test("a forgotten subject records its Event again", async (t) => {
  const { events, recorded } = setup();
  await events.record(nls, "vg:a", refused("a is dirty"));
  await events.record(nls, "vg:b", refused("b is dirty"));
  events.forget((subject) => subject === "vg:a");
  await events.record(nls, "vg:a", refused("a is dirty"));
  await events.record(nls, "vg:b", refused("b is dirty"));
  t.is(recorded().length, 3);
});

test("a failed Event is counted and tried again next time, never thrown", async (t) => {
  const { kube, events, metrics, recorded } = setup();
  const createEvent = kube.createEvent.bind(kube);
  kube.createEvent = async () => {
    throw new Error("forbidden");
  };
  await t.notThrowsAsync(events.record(nls, "vg:a", refused("a is dirty")));
  kube.createEvent = createEvent;
  await events.record(nls, "vg:a", refused("a is dirty"));
  t.deepEqual(recorded(), ["kube-system node-1 a is dirty"]);
  const text = await metrics.text();
  t.regex(text, /^nls_agent_api_writes_total\{kind="event",result="error"\} 1$/m);
  t.regex(text, /^nls_agent_api_writes_total\{kind="event",result="ok"\} 1$/m);
});
