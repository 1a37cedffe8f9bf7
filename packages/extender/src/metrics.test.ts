import test from "ava";
import { Gi, nls, pv } from "@nls/testkit";
import { clusterWith } from "../testing/cluster.js";
import { ExtenderMetrics, OpenLocalGauges } from "./metrics.js";

test("open-local gauges: one series per selected VG/device/PV, label values escaped", (t) => {
  const s = clusterWith([], 0);
  s.applyNls(
    nls('odd"node\\x', {
      vgs: [{ name: "pool-0", allocatable: 10 * Gi }],
      devices: [{ name: "/dev/vdb", total: Gi, mediaType: "hdd" }],
    }),
  );
  s.applyPv(
    pv("pv-1", { node: 'odd"node\\x', size: "1Gi", device: "/dev/vdb", claim: { namespace: "ns", name: "c" } }),
  );
  const gauges = new OpenLocalGauges();
  const text = gauges.render(s);
  t.true(text.includes(`local_volume_group_total{nodename="odd\\"node\\\\x",vgname="pool-0"} ${10 * Gi}`));
  t.true(text.includes('local_device_bind{nodename="odd\\"node\\\\x",name="/dev/vdb"} 1'));
  t.true(
    text.includes(
      `local_local_pv{nodename="odd\\"node\\\\x",pv_name="pv-1",pv_type="Device",pvc_name="c",pvc_ns="ns",status="Bound",storage_name="/dev/vdb"} ${Gi}`,
    ),
  );
  t.true(text.endsWith("\n"));
  t.is(gauges.render(s), text, "cached lines render the same");
  // A ledger change on the node replaces its state: the used gauge follows.
  s.ledger.set("pv:x", "pv", { node: 'odd"node\\x', vg: "pool-0", bytes: 3 * Gi });
  t.true(gauges.render(s).includes(`local_volume_group_used{nodename="odd\\"node\\\\x",vgname="pool-0"} ${3 * Gi}`));
});

/** The families open-local's Grafana dashboard (its chart's grafana.yaml) queries, with their labels. */
const DASHBOARD_FAMILIES: Record<string, string[]> = {
  local_allocated_num: ["nodename"],
  local_volume_group_total: ["nodename", "vgname"],
  local_volume_group_used: ["nodename", "vgname"],
  local_device_total: ["nodename", "name", "type"],
  local_device_available: ["nodename", "name", "type"],
  local_device_bind: ["nodename", "name"],
  local_mount_point_available: ["nodename", "name", "type"],
  local_mount_point_bind: ["nodename", "name"],
  local_local_pv: ["nodename", "pv_name", "pv_type", "pvc_name", "pvc_ns", "status", "storage_name"],
};

test("every family open-local's dashboard reads is exported with its labels; devices and mount points by state", (t) => {
  const s = clusterWith([], 0);
  s.applyNls(
    nls("n1", {
      vgs: [{ name: "pool-0", allocatable: 10 * Gi }],
      devices: [
        { name: "/dev/vdb", total: 100 * Gi, mediaType: "hdd" },
        { name: "/dev/vdc", total: 200 * Gi, mediaType: "ssd" },
        { name: "/dev/vdd", total: 50 * Gi, mediaType: "ssd" },
      ],
      selectedDevices: ["/dev/vdb", "/dev/vdd"],
      mountPoints: [{ name: "/mnt/open-local/ssd-0", total: 200 * Gi, device: "/dev/vdc" }],
    }),
  );
  s.applyPv(pv("pv-dev", { node: "n1", size: "100Gi", device: "/dev/vdb", claim: { namespace: "ns", name: "d" } }));
  const mp = pv("pv-mp", { node: "n1", size: "150Gi", claim: { namespace: "ns", name: "m" } });
  delete mp.metadata!.annotations;
  mp.spec!.csi!.volumeAttributes = { volumeType: "MountPoint", MountPoint: "/mnt/open-local/ssd-0" };
  s.applyPv(mp);
  s.applyPv(pv("pv-lvm", { node: "n1", size: "3Gi", vgName: "pool-0", claim: { namespace: "ns", name: "l" } }));
  const lines = new OpenLocalGauges().render(s).split("\n");
  for (const [family, labels] of Object.entries(DASHBOARD_FAMILIES)) {
    const series = lines.filter((l) => l.startsWith(`${family}{`));
    t.true(series.length > 0, family);
    for (const line of series) {
      const names = [...line.matchAll(/([a-z_]+)="/g)].map((m) => m[1]);
      t.deepEqual(names, labels, line);
    }
  }
  for (const line of [
    'local_allocated_num{nodename="n1"} 3',
    `local_device_available{nodename="n1",name="/dev/vdb",type="hdd"} 0`,
    `local_device_available{nodename="n1",name="/dev/vdd",type="ssd"} ${50 * Gi}`,
    'local_device_bind{nodename="n1",name="/dev/vdd"} 0',
    `local_mount_point_total{nodename="n1",name="/mnt/open-local/ssd-0",type="ssd"} ${200 * Gi}`,
    `local_mount_point_available{nodename="n1",name="/mnt/open-local/ssd-0",type="ssd"} 0`,
    'local_mount_point_bind{nodename="n1",name="/mnt/open-local/ssd-0"} 1',
    `local_local_pv{nodename="n1",pv_name="pv-mp",pv_type="MountPoint",pvc_name="m",pvc_ns="ns",status="Bound",storage_name="/mnt/open-local/ssd-0"} ${150 * Gi}`,
  ]) {
    t.true(lines.includes(line), line);
  }
  t.false(
    lines.some((l) => l.includes('name="/dev/vdc"')),
    "a device that is not selected (it holds the mount point) is not reported as a device",
  );
});

test("cache watch failures are counted by kind, every kind's series present from the start", async (t) => {
  const m = new ExtenderMetrics(clusterWith([], 0));
  m.watchFailures.inc({ kind: "PersistentVolumeClaim" });
  const text = await m.render();
  t.regex(text, /^nls_extender_watch_failures_total\{kind="PersistentVolumeClaim"\} 1$/m);
  t.regex(text, /^nls_extender_watch_failures_total\{kind="Lease"\} 0$/m);
});

test("each feed's unsynced seconds are read from the informers at scrape time", async (t) => {
  const m = new ExtenderMetrics(clusterWith([], 0));
  const feeds = [
    { kind: "NodeLocalStorage", synced: true, downSince: undefined, startedAt: 0 },
    { kind: "PersistentVolume", synced: true, downSince: 40_000, startedAt: 0 },
    { kind: "Lease", synced: false, downSince: undefined, startedAt: 0 },
  ];
  m.observeFeeds(
    () => feeds,
    () => 100_000,
  );
  const text = await m.render();
  t.regex(text, /^nls_extender_watch_unsynced_seconds\{kind="NodeLocalStorage"\} 0$/m);
  t.regex(text, /^nls_extender_watch_unsynced_seconds\{kind="PersistentVolume"\} 60$/m);
  t.regex(text, /^nls_extender_watch_unsynced_seconds\{kind="Lease"\} 100$/m);
  feeds[1]!.downSince = undefined;
  t.regex(await m.render(), /^nls_extender_watch_unsynced_seconds\{kind="PersistentVolume"\} 0$/m);
});

test("with default metrics, the process and event-loop families are exported; latency buckets reach 5 s", async (t) => {
  const plain = await new ExtenderMetrics(clusterWith([], 0)).render();
  t.notRegex(plain, /^# TYPE nodejs_eventloop_lag_p99_seconds/m, "off unless asked (tests, nls-simulate)");
  const m = new ExtenderMetrics(clusterWith([], 0), undefined, { defaultMetrics: true });
  m.requestDuration.observe({ verb: "filter" }, 3);
  const text = await m.render();
  t.regex(text, /^# TYPE nodejs_eventloop_lag_p99_seconds gauge$/m);
  t.regex(text, /^# TYPE process_resident_memory_bytes gauge$/m);
  t.regex(text, /^nls_extender_request_duration_seconds_bucket\{le="2.5",verb="filter"\} 0$/m);
  t.regex(text, /^nls_extender_request_duration_seconds_bucket\{le="5",verb="filter"\} 1$/m);
});

const yesNoGauges: Array<[string, string, (m: ExtenderMetrics, read: () => boolean) => void]> = [
  ["nls_extender_ready", "what /readyz would answer", (m, read) => m.observeReadiness(read)],
  ["nls_extender_serving", "whether the scheduler routes answer", (m, read) => m.observeServing(read)],
];
for (const [name, what, observe] of yesNoGauges) {
  test(`${name} follows ${what}, read at scrape time`, async (t) => {
    const m = new ExtenderMetrics(clusterWith([], 0));
    let value = false;
    observe(m, () => value);
    t.regex(await m.render(), new RegExp(`^${name} 0$`, "m"));
    value = true;
    t.regex(await m.render(), new RegExp(`^${name} 1$`, "m"));
  });
}

test("open-local gauges: a device holding a volume stays bound after the agent reports it in use; a busy free one is absent", (t) => {
  const s = clusterWith([], 0);
  s.applyNls(
    nls("n1", {
      devices: [
        { name: "/dev/vdb", total: Gi, inUse: ["carries filesystem ext4 at offset 0x438"] },
        { name: "/dev/vdc", total: Gi, inUse: ["is mounted at /var/lib/docker"] },
      ],
      selectedDevices: [],
    }),
  );
  s.applyPv(pv("pv-1", { node: "n1", size: "1Gi", device: "/dev/vdb", claim: { namespace: "ns", name: "c" } }));
  const text = new OpenLocalGauges().render(s);
  t.true(text.includes('local_device_bind{nodename="n1",name="/dev/vdb"} 1'));
  t.true(text.includes(`local_device_total{nodename="n1",name="/dev/vdb",type="ssd"} ${Gi}`));
  t.false(text.includes("/dev/vdc"));
});

test("a scrape built in slices is the text rendered at once, and stops when its client leaves", async (t) => {
  const names = Array.from({ length: 600 }, (_, i) => `n${i}`);
  const s = clusterWith(names, 0);
  names.forEach((n, i) => s.applyPv(pv(`pv-${i}`, { node: n, size: "1Gi", vgName: "pool-0" })));
  const gauges = new OpenLocalGauges();
  const refresh = gauges.refresh(s, () => true);
  let yields = 0;
  let step = refresh.next();
  for (; !step.done; step = refresh.next()) yields++;
  t.is(yields, 6 + 1, "a turn for the event loop after each block of 100 nodes and each full one of 500 PVs");
  t.is(Buffer.concat(step.value).toString(), new OpenLocalGauges().render(s));
  s.applyPv(pv("pv-0", { node: "n0", size: "2Gi", vgName: "pool-0" }));
  const after = gauges.render(s);
  t.regex(after, new RegExp(`^local_local_pv\\{nodename="n0",pv_name="pv-0",.*\\} ${2 * Gi}$`, "m"));
  t.is(after, new OpenLocalGauges().render(s), "a replaced PV's block is rebuilt");
  const m = new ExtenderMetrics(s);
  t.is(Buffer.concat((await m.exposition(0))!).toString(), await m.render());
  let asked = 0;
  t.is(await new ExtenderMetrics(s).exposition(0, () => ++asked >= 2), undefined);
  t.is(asked, 2, "nothing more is built once the client is gone");
});

test("a scrape walks the PVs only when the store says one was added, replaced or removed", (t) => {
  const names = Array.from({ length: 200 }, (_, i) => `n${i}`);
  const s = clusterWith(names, 0);
  names.forEach((n, i) => s.applyPv(pv(`pv-${i}`, { node: n, size: "1Gi", vgName: "pool-0" })));
  const gauges = new OpenLocalGauges();
  /** The text, and how often the refresh yielded: after each block of 100 nodes and each full one of 500 PVs. */
  const scrape = () => {
    const refresh = gauges.refresh(s, () => true);
    let yields = 0;
    let step = refresh.next();
    for (; !step.done; step = refresh.next()) yields++;
    return { text: Buffer.concat(step.value).toString(), yields };
  };
  const pvLine = (name: string) => new RegExp(`^local_local_pv\\{nodename="n\\d+",pv_name="${name}",`, "m");
  t.is(scrape().yields, 2, "200 PVs fill no block of 500: no yield for them");
  for (let i = 0; i < 400; i++) s.applyPv(pv(`pv-x${i}`, { node: names[i % 200]!, size: "1Gi", vgName: "pool-1" }));
  t.is(scrape().yields, 3, "600 PVs: the walk yields after the first 500");
  t.is(scrape().yields, 2, "nothing changed: the PVs are not walked");
  s.deletePv("pv-7");
  const gone = scrape();
  t.is(gone.yields, 3);
  t.notRegex(gone.text, pvLine("pv-7"));
  t.is(gone.text, new OpenLocalGauges().render(s));
  s.applyPv(pv("pv-7", { node: "n7", size: "3Gi", vgName: "pool-0" }));
  const back = scrape();
  t.regex(back.text, new RegExp(`^local_local_pv\\{nodename="n7",pv_name="pv-7",.*\\} ${3 * Gi}$`, "m"));
  t.is(back.text, new OpenLocalGauges().render(s));
  t.is(scrape().yields, 2);
});

test("unexplained LV bytes per node and VG: charged LVs summed, gone once the agent no longer reports them", async (t) => {
  const s = clusterWith([], 0);
  const withLvs = (lvs: Array<{ name: string; total: number }>) =>
    nls("n1", {
      vgs: [
        { name: "pool-0", allocatable: 100 * Gi, lvs },
        { name: "pool-1", allocatable: 50 * Gi, lvs: [{ name: "local-b", total: 3 * Gi }] },
      ],
    });
  s.applyPv(pv("local-a", { node: "n1", size: "4Gi", vgName: "pool-0" }));
  s.applyNls(
    withLvs([
      { name: "local-a", total: 4 * Gi },
      { name: "local-x", total: 1 * Gi },
      { name: "local-y", total: 2 * Gi },
    ]),
  );
  const m = new ExtenderMetrics(s);
  let text = await m.render();
  t.regex(text, /^nls_extender_unexplained_lv_bytes\{node="n1",vg="pool-0"\} 3221225472$/m);
  t.regex(text, /^nls_extender_unexplained_lv_bytes\{node="n1",vg="pool-1"\} 3221225472$/m);
  s.applyNls(withLvs([{ name: "local-a", total: 4 * Gi }]));
  text = await m.render();
  t.notRegex(text, /^nls_extender_unexplained_lv_bytes\{node="n1",vg="pool-0"\}/m);
  t.regex(text, /^nls_extender_unexplained_lv_bytes\{node="n1",vg="pool-1"\} 3221225472$/m);
});

test("overcommitted bytes per node and VG, present only while a VG is over", async (t) => {
  const s = clusterWith(["n1"], 0);
  const m = new ExtenderMetrics(s);
  s.applyPv(pv("pv-big", { node: "n1", size: "120Gi", vgName: "pool-0" }));
  t.regex(await m.render(), /^nls_extender_vg_overcommitted_bytes\{node="n1",vg="pool-0"\} 21474836480$/m);
  s.deletePv("pv-big");
  t.notRegex(await m.render(), /^nls_extender_vg_overcommitted_bytes\{/m);
});
