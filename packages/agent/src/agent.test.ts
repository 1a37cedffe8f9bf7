import test from "ava";
import {
  leaseNameForNode,
  type NodeLocalStorageSpec,
  type NodeLocalStorageStatus,
  type ResourceToBeInited,
} from "@nls/api";
import {
  Agent,
  DEFAULT_AGENT_CONFIG,
  initBackoffMs,
  type AgentConfig,
  type HostPort,
  type InitOutcomes,
} from "./agent.js";
import { FakeKube } from "../testing/fake-kube.js";
import { createLogger } from "@nls/daemon";
import { AgentMetrics } from "./metrics.js";

/** A host in memory: VGs, mounted paths, devices that carry data, and a switch that makes init fail. */
interface FakeFacts {
  vgs: { name: string; total: number; free: number }[];
  mounted: string[];
  dirtyDevices: string[];
}

class FakeHost implements HostPort<FakeFacts> {
  facts: FakeFacts = { vgs: [{ name: "pool0", total: 1000, free: 1000 }], mounted: [], dirtyDevices: [] };
  failInit = false;
  discoverCalls = 0;
  initCalls: ResourceToBeInited[] = [];

  async discover(): Promise<FakeFacts> {
    this.discoverCalls++;
    return structuredClone(this.facts);
  }

  async init(toInit: ResourceToBeInited, facts: FakeFacts): Promise<InitOutcomes> {
    this.initCalls.push(structuredClone(toInit));
    const dirty = (devices: string[]) => devices.find((d) => facts.dirtyDevices.includes(d));
    const vgs = (toInit.vgs ?? []).map((want): InitOutcomes["vgs"][number] => {
      const base = { vg: want.name, devices: want.devices };
      if (facts.vgs.some((v) => v.name === want.name)) return { ...base, result: "exists" };
      const d = dirty(want.devices);
      if (d) return { ...base, result: "refused", reason: `${d}: has an ext4 signature` };
      if (this.failInit) return { ...base, result: "failed", reason: "vgcreate exited 5" };
      this.facts.vgs.push({ name: want.name, total: 500, free: 500 });
      return { ...base, result: "created" };
    });
    const mountpoints = (toInit.mountpoints ?? []).map((want): InitOutcomes["mountpoints"][number] => {
      const base = { path: want.path, device: want.device };
      if (facts.mounted.includes(want.path)) return { ...base, result: "exists" };
      const d = dirty([want.device]);
      if (d) return { ...base, result: "refused", reason: `${d}: has an ext4 signature` };
      if (this.failInit) return { ...base, result: "failed", reason: "mkfs.ext4 exited 1" };
      this.facts.mounted.push(want.path);
      return { ...base, result: "created" };
    });
    return { vgs, mountpoints };
  }

  buildStatus(
    facts: FakeFacts,
    nls: { spec?: NodeLocalStorageSpec; annotations?: Record<string, string> },
    now: Date,
    _previous: NodeLocalStorageStatus | undefined,
    initProblems: string[],
  ): NodeLocalStorageStatus {
    const include = nls.spec?.listConfig?.vgs?.include ?? [];
    return {
      nodeStorageInfo: {
        volumeGroups: facts.vgs.map((v) => ({
          name: v.name,
          physicalVolumes: [],
          logicalVolumes: [],
          total: v.total,
          available: v.free,
          allocatable: v.total,
          condition: "DiskReady",
        })),
        deviceInfo: [],
        phase: "Running",
        state: {
          type: "DiskReady",
          status: "True",
          reason: initProblems.length > 0 ? "ConfigurationProblems" : "Ready",
          ...(initProblems.length > 0 ? { message: initProblems.join("; ") } : {}),
          lastHeartbeatTime: now.toISOString(),
          lastTransitionTime: now.toISOString(),
        },
      },
      filteredStorageInfo: {
        volumeGroups: facts.vgs.map((v) => v.name).filter((n) => include.includes(n)),
        devices: [],
        mountPoints: [],
        updateStatusInfo: { updateStatus: "accepted", lastUpdateTime: now.toISOString() },
      },
    };
  }

  commandErrors(): number {
    return 0;
  }
}

const NODE = "node-1";

function setup(opts: { config?: Partial<AgentConfig>; nlsSpec?: NodeLocalStorageSpec } = {}) {
  const kube = new FakeKube();
  kube.addNode(NODE, { zone: "a", disk: "nvme" });
  kube.addInitConfig({
    metadata: { name: "open-local" },
    spec: {
      globalConfig: { listConfig: { vgs: { include: ["global-vg"] } } },
      nodesConfig: [
        { selector: { matchLabels: { zone: "a" } }, listConfig: { vgs: { include: ["first-match"] } } },
        { selector: { matchLabels: { disk: "nvme" } }, listConfig: { vgs: { include: ["pool0"] } } },
        { selector: { matchLabels: { zone: "b" } }, listConfig: { vgs: { include: ["not-matching"] } } },
      ],
    },
  });
  if (opts.nlsSpec) {
    kube.nls.set(NODE, { metadata: { name: NODE, resourceVersion: "0", generation: 1, uid: "u" }, spec: opts.nlsSpec });
  }
  const host = new FakeHost();
  const metrics = new AgentMetrics({ defaultMetrics: false });
  let now = new Date("2026-05-01T10:00:00Z");
  const clock = {
    now: () => now,
    advance: (ms: number) => (now = new Date(now.getTime() + ms)),
  };
  const agent = new Agent({
    kube,
    host,
    metrics,
    log: createLogger("nls-agent", "silent"),
    clock: clock.now,
    config: {
      ...DEFAULT_AGENT_CONFIG,
      nodeName: NODE,
      initConfigName: "open-local",
      leaseNamespace: "kube-system",
      ...opts.config,
    },
  });
  return { kube, host, metrics, agent, clock };
}

test("a missing NLS is created from the init config: last matching nodesConfig, owned by the Node", async (t) => {
  const { kube, agent } = setup();
  const r = await agent.reconcile();
  t.true(r.createdNls);
  const nls = kube.nls.get(NODE)!;
  t.deepEqual(nls.spec, { nodeName: NODE, listConfig: { vgs: { include: ["pool0"] } } });
  t.deepEqual(nls.metadata.ownerReferences, [{ apiVersion: "v1", kind: "Node", name: NODE, uid: `uid-${NODE}` }]);
  t.deepEqual(nls.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);
  t.is(kube.writesOf("createNls").length, 1);
  t.true(agent.ready);
});

test("without an init config the NLS gets an empty spec and one warning event", async (t) => {
  const { kube, agent } = setup();
  kube.initConfigs.clear();
  await agent.reconcile();
  t.deepEqual(kube.nls.get(NODE)!.spec, { nodeName: NODE });
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["InitConfigNotFound"],
  );
});

test("a missing Node is a clear error and nothing is created", async (t) => {
  const { kube, agent } = setup();
  kube.nodes.clear();
  await t.throwsAsync(agent.reconcile(), { message: /Node "node-1" does not exist/ });
  t.is(kube.nls.size, 0);
  t.false(agent.ready);
});

test("a user's spec is never overwritten, and is what the status is computed from", async (t) => {
  const userSpec: NodeLocalStorageSpec = { nodeName: NODE, listConfig: { vgs: { include: ["pool0", "other"] } } };
  const { kube, agent, host } = setup({ nlsSpec: userSpec });
  await agent.reconcile();
  host.facts.vgs[0]!.free = 10;
  await agent.reconcile();
  t.deepEqual(kube.nls.get(NODE)!.spec, userSpec);
  t.is(kube.writesOf("createNls").length, 0);
  t.deepEqual(kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);
});

test("another creator winning the race is accepted, not overwritten", async (t) => {
  const { kube, agent } = setup();
  const theirs: NodeLocalStorageSpec = { nodeName: NODE, listConfig: { vgs: { include: ["theirs"] } } };
  const realGet = kube.getNls.bind(kube);
  let first = true;
  // The first read misses; by the time the agent creates, someone else already has.
  kube.getNls = async (name) => {
    if (first) {
      first = false;
      kube.nls.set(NODE, { metadata: { name: NODE, resourceVersion: "77", uid: "theirs" }, spec: theirs });
      return undefined;
    }
    return realGet(name);
  };
  const r = await agent.reconcile();
  t.false(r.createdNls);
  t.deepEqual(kube.nls.get(NODE)!.spec, theirs);
});

test("a steady node makes zero writes after the first status", async (t) => {
  const { kube, agent, clock, metrics } = setup();
  await agent.reconcile();
  const writesAfterFirst = kube.writes.length;
  for (let i = 0; i < 5; i++) {
    clock.advance(60_000);
    const r = await agent.reconcile();
    t.false(r.wroteStatus);
  }
  t.is(kube.writes.length, writesAfterFirst);
  t.is(kube.writesOf("replaceNlsStatus").length, 1);
  t.regex(await metrics.text(), /nls_agent_api_writes_total\{kind="nls_status",result="ok"\} 1$/m);
});

test("a host change is written once, with a new heartbeat", async (t) => {
  const { kube, agent, clock, host } = setup();
  await agent.reconcile();
  const before = kube.nls.get(NODE)!.status!;
  clock.advance(60_000);
  host.facts.vgs[0]!.free = 400;
  t.true((await agent.reconcile()).wroteStatus);
  clock.advance(60_000);
  t.false((await agent.reconcile()).wroteStatus);
  const after = kube.nls.get(NODE)!.status!;
  t.is(after.nodeStorageInfo?.volumeGroups?.[0]?.available, 400);
  t.not(after.nodeStorageInfo?.state?.lastHeartbeatTime, before.nodeStorageInfo?.state?.lastHeartbeatTime);
  t.is(after.nodeStorageInfo?.state?.lastTransitionTime, before.nodeStorageInfo?.state?.lastTransitionTime);
});

test("a status conflict re-reads the NLS and succeeds", async (t) => {
  const { kube, agent, metrics, host } = setup();
  await agent.reconcile(); // creates the NLS and writes the first status
  kube.userSetAnnotations(NODE, { note: "x" });
  host.facts.vgs[0]!.free = 1;
  kube.statusConflicts = 1;
  const r = await agent.reconcile();
  t.true(r.wroteStatus);
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.[0]?.available, 1);
  t.regex(await metrics.text(), /nls_agent_api_writes_total\{kind="nls_status",result="conflict"\} 1$/m);
  // The annotation written concurrently survives: status writes never touch metadata.
  t.deepEqual(kube.nls.get(NODE)!.metadata.annotations, { note: "x" });
});

test("a status write that keeps conflicting gives up with a clear error after maxStatusAttempts", async (t) => {
  const { kube, agent, host } = setup({ config: { maxStatusAttempts: 3 } });
  await agent.reconcile();
  host.facts.vgs[0]!.free = 2;
  kube.statusConflicts = 100;
  await t.throwsAsync(agent.reconcile(), { message: /still conflicting after 3 attempts/ });
  t.is(kube.statusConflicts, 97);
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.[0]?.available, 1000);
});

test("an init refusal records one event however often it repeats, and its reason is in the status", async (t) => {
  const { kube, agent, host, clock, metrics } = setup({
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.facts.dirtyDevices = ["/dev/vdc"];
  for (let i = 0; i < 4; i++) {
    await agent.reconcile();
    clock.advance(60_000);
  }
  const refusals = kube.events.filter((e) => e.event.reason === "InitRefused");
  t.is(refusals.length, 1);
  t.is(refusals[0]!.event.type, "Warning");
  t.is(refusals[0]!.namespace, "kube-system");
  t.is(refusals[0]!.involved, NODE);
  t.regex(refusals[0]!.event.message, /pool1.*\/dev\/vdc: has an ext4 signature/);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /VG pool1 not created: \/dev\/vdc: has an ext4 signature/,
  );
  // Refusals run no command, so they are re-checked every scan (the user may clear the device)…
  t.is(host.initCalls.length, 4);
  t.regex(await metrics.text(), /nls_agent_init_total\{kind="vg",result="refused"\} 4$/m);
  // …and the status stays put: one write for all four scans.
  t.is(kube.writesOf("replaceNlsStatus").length, 1);

  // Once the device is clean the VG is created, with a Normal event, and reported in the same pass.
  host.facts.dirtyDevices = [];
  const r = await agent.reconcile();
  t.deepEqual(
    r.initOutcomes.map((o) => o.result),
    ["created"],
  );
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["InitRefused", "VolumeGroupCreated"],
  );
  t.true(kube.nls.get(NODE)!.status?.nodeStorageInfo?.volumeGroups?.some((v) => v.name === "pool1"));
  t.is(kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message, undefined);
});

test("a failing init is retried with capped exponential backoff and reported once", async (t) => {
  const { kube, agent, host, clock } = setup({
    config: { initBackoffBaseMs: 60_000, initBackoffMaxMs: 240_000 },
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.failInit = true;
  // Scans every 30s for 20 minutes; record at which scans init actually ran.
  const attemptsAt: number[] = [];
  for (let s = 0; s <= 40 * 30; s += 30) {
    const before = host.initCalls.length;
    await agent.reconcile();
    if (host.initCalls.length > before) attemptsAt.push(s);
    clock.advance(30_000);
  }
  // Delays 60, 120, 240, 240, … seconds after each failure.
  t.deepEqual(attemptsAt.slice(0, 7), [0, 60, 180, 420, 660, 900, 1140]);
  t.is(kube.events.filter((e) => e.event.reason === "InitFailed").length, 1);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /VG pool1 initialisation failed: vgcreate exited 5/,
  );
  // While waiting, the problem stays in the status (no flapping writes).
  t.is(kube.writesOf("replaceNlsStatus").length, 1);
});

test("a spec change clears the init backoff", async (t) => {
  const { kube, agent, host, clock } = setup({
    nlsSpec: { nodeName: NODE, resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdc"] }] } },
  });
  host.failInit = true;
  await agent.reconcile();
  clock.advance(1_000);
  await agent.reconcile();
  t.is(host.initCalls.length, 1);
  host.failInit = false;
  kube.userUpdateSpec(NODE, {
    nodeName: NODE,
    resourceToBeInited: { vgs: [{ name: "pool1", devices: ["/dev/vdd"] }] },
  });
  const r = await agent.reconcile();
  t.is(host.initCalls.length, 2);
  t.deepEqual(
    r.initOutcomes.map((o) => o.result),
    ["created"],
  );
});

const backoffCases: { failures: number; want: number }[] = [
  { failures: 0, want: 0 },
  { failures: 1, want: 1_000 },
  { failures: 2, want: 2_000 },
  { failures: 4, want: 8_000 },
  { failures: 5, want: 10_000 },
  { failures: 6, want: 10_000 },
  { failures: 5000, want: 10_000 },
];
for (const c of backoffCases) {
  test(`initBackoffMs after ${c.failures} failures (base 1s, cap 10s)`, (t) => {
    t.is(initBackoffMs(c.failures, 1_000, 10_000), c.want);
  });
}

test("the lease is created, then renewed in place", async (t) => {
  const { kube, agent, clock } = setup();
  await agent.renewLease();
  const name = leaseNameForNode(NODE);
  const created = kube.leases.get(`kube-system/${name}`)!;
  t.is(created.holderIdentity, NODE);
  t.is(created.leaseDurationSeconds, 40);
  t.is(created.renewTime.toISOString(), "2026-05-01T10:00:00.000Z");
  t.deepEqual(created.owner, { name: NODE, uid: `uid-${NODE}`, labels: { zone: "a", disk: "nvme" } });

  clock.advance(10_000);
  await agent.renewLease();
  const renewed = kube.leases.get(`kube-system/${name}`)!;
  t.is(renewed.renewTime.toISOString(), "2026-05-01T10:00:10.000Z");
  t.is(renewed.acquireTime?.toISOString(), "2026-05-01T10:00:00.000Z");
  t.deepEqual(
    kube.writes.filter((w) => w.kind.endsWith("Lease")).map((w) => w.kind),
    ["createLease", "replaceLease"],
  );
});

test("a lease changed behind the agent's back is re-read and taken back", async (t) => {
  const { kube, agent, clock } = setup();
  await agent.renewLease();
  const key = `kube-system/${leaseNameForNode(NODE)}`;
  kube.leases.set(key, { ...kube.leases.get(key)!, holderIdentity: "someone-else", resourceVersion: "9999" });
  clock.advance(10_000);
  await t.throwsAsync(agent.renewLease(), { message: /Operation cannot be fulfilled/ });
  clock.advance(10_000);
  await agent.renewLease();
  const lease = kube.leases.get(key)!;
  t.is(lease.holderIdentity, NODE);
  t.is(lease.acquireTime?.toISOString(), "2026-05-01T10:00:20.000Z");
});

/** Polls `cond` until it holds; the deadline only bounds a broken test, it asserts nothing about speed. */
async function eventually(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`never happened: ${what}`);
}

test("run: a spec change triggers a reconcile without waiting for the interval", async (t) => {
  const { kube, agent } = setup({ config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000 } });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await eventually(() => agent.ready && kube.openWatches === 1, "first reconcile and watch");
  t.deepEqual(kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups, ["pool0"]);

  kube.userUpdateSpec(NODE, { nodeName: NODE, listConfig: { vgs: { include: [] } } });
  await eventually(
    () => kube.nls.get(NODE)!.status?.filteredStorageInfo?.volumeGroups?.length === 0,
    "status after spec change",
  );
  t.true(kube.leases.has(`kube-system/${leaseNameForNode(NODE)}`));

  stop.abort();
  await running;
  t.is(kube.openWatches, 0);
});

test("run: a dropped watch is restarted, and a deleted NLS is recreated", async (t) => {
  const { kube, agent } = setup({ config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000, watchRestartMs: 1 } });
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  await eventually(() => agent.ready && kube.openWatches === 1, "first watch");
  kube.breakWatches();
  t.is(kube.openWatches, 0);
  await eventually(() => kube.openWatches === 1, "watch restarted");

  kube.nls.delete(NODE);
  // The fake does not notify on direct map edits: poke the loop the way a DELETED event would.
  agent.trigger();
  await eventually(
    () => kube.writesOf("createNls").length === 2 && kube.nls.get(NODE)?.status !== undefined,
    "recreated",
  );
  stop.abort();
  await running;
});

test("step never throws: a failed reconcile is counted, a successful one stamps the last-success gauge", async (t) => {
  const { kube, agent, metrics } = setup();
  kube.nodes.clear(); // the NLS cannot be created without its Node
  t.is(await agent.step(), undefined);
  t.false(agent.ready);
  let text = await metrics.text();
  t.regex(text, /^nls_agent_reconcile_errors_total 1$/m);
  t.regex(text, /^nls_agent_last_reconcile_success_timestamp_seconds 0$/m);

  kube.addNode(NODE);
  t.truthy(await agent.step());
  t.true(agent.ready);
  text = await metrics.text();
  t.regex(text, /^nls_agent_last_reconcile_success_timestamp_seconds 1777629600$/m);
  t.regex(text, /^nls_agent_scan_duration_seconds_count 2$/m);
});

test("a wedged reconcile stops the lease renewals, so the agent looks dead rather than quiet", async (t) => {
  const { agent, host, clock, kube } = setup({ config: { stuckAfterMs: 600_000 } });
  await agent.renewLease();
  let release!: () => void;
  host.discover = () =>
    new Promise((resolve) => {
      release = () => resolve(structuredClone(host.facts));
    });
  const step = agent.step();
  clock.advance(60_000);
  await agent.renewLease(); // a slow pass is still fine
  clock.advance(600_000);
  await t.throwsAsync(agent.renewLease(), {
    message: /not renewing the lease: the current reconcile has been running for 660s/,
  });
  t.is(kube.writes.filter((w) => w.kind === "replaceLease").length, 1);
  release();
  t.truthy(await step);
  await agent.renewLease(); // the loop moved again: renewals resume
  t.is(kube.writes.filter((w) => w.kind === "replaceLease").length, 2);
});

test("run: a long-lived watch is replaced by a fresh one, without waiting for it to fail", async (t) => {
  const { kube, agent } = setup({
    config: { intervalMs: 3_600_000, leaseRenewMs: 3_600_000, watchRestartMs: 3_600_000, watchMaxAgeMs: 20 },
  });
  let started = 0;
  const watchNls = kube.watchNls.bind(kube);
  kube.watchNls = (...args) => {
    started++;
    return watchNls(...args);
  };
  const stop = new AbortController();
  const running = agent.run(stop.signal);
  // watchRestartMs is an hour: only the renewal can start a second and third watch.
  await eventually(() => started >= 3, "watch renewed");
  t.true(kube.openWatches <= 1);
  stop.abort();
  await running;
  t.is(kube.openWatches, 0);
});

test("mount points: refused once with an event, created when the device is clean, failures back off apart from VGs", async (t) => {
  const { kube, agent, host, clock, metrics } = setup({
    nlsSpec: {
      nodeName: NODE,
      resourceToBeInited: {
        vgs: [{ name: "pool1", devices: ["/dev/vdc"] }],
        mountpoints: [{ path: "/mnt/open-local/disk1", device: "/dev/vdd", fsType: "ext4" }],
      },
    },
  });
  host.facts.dirtyDevices = ["/dev/vdd"];
  await agent.reconcile();
  clock.advance(60_000);
  await agent.reconcile();
  const refused = kube.events.filter((e) => e.event.reason === "InitRefused");
  t.deepEqual(
    refused.map((e) => [e.event.action, e.event.message]),
    [["InitMountPoint", "mount point /mnt/open-local/disk1 not created: /dev/vdd: has an ext4 signature"]],
  );
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /mount point \/mnt\/open-local\/disk1 not created/,
  );
  t.regex(await metrics.text(), /^nls_agent_init_total\{kind="mountpoint",result="refused"\} 2$/m);

  // The device is cleaned, but mkfs fails: the mount point backs off; the VG, already created, is untouched.
  host.facts.dirtyDevices = [];
  host.failInit = true;
  clock.advance(60_000);
  const failed = await agent.reconcile();
  t.deepEqual(
    failed.initOutcomes.map((o) => [o.kind, o.name, o.result]),
    [
      ["vg", "pool1", "exists"],
      ["mountpoint", "/mnt/open-local/disk1", "failed"],
    ],
  );
  clock.advance(30_000);
  const waiting = await agent.reconcile();
  t.deepEqual(
    waiting.initOutcomes.map((o) => [o.kind, o.result]),
    [["vg", "exists"]],
    "the mount point waits out its backoff",
  );
  t.deepEqual(host.initCalls.at(-1)?.mountpoints, []);
  t.regex(
    kube.nls.get(NODE)!.status?.nodeStorageInfo?.state?.message ?? "",
    /mount point \/mnt\/open-local\/disk1 initialisation failed: mkfs.ext4 exited 1/,
  );

  host.failInit = false;
  clock.advance(60_000);
  const created = await agent.reconcile();
  t.deepEqual(
    created.initOutcomes.map((o) => [o.kind, o.result]),
    [
      ["vg", "exists"],
      ["mountpoint", "created"],
    ],
  );
  t.deepEqual(
    kube.events.map((e) => e.event.reason),
    ["VolumeGroupCreated", "InitRefused", "InitFailed", "MountPointCreated"],
  );
});
