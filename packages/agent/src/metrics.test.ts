import test from "ava";
import { spawnSync } from "node:child_process";
import type { NodeLocalStorageStatus } from "@nls/api";
import { AgentMetrics } from "./metrics.js";

const status: NodeLocalStorageStatus = {
  nodeStorageInfo: {
    deviceInfo: [
      { name: "/dev/vdb", mediaType: "ssd", total: 107374182400, readOnly: false, condition: "DiskReady" },
      { name: "/dev/sdc", mediaType: "hdd", total: 2000000000000, readOnly: true, condition: "DiskFault" },
    ],
    volumeGroups: [
      {
        name: "pool0",
        physicalVolumes: ["/dev/vdb"],
        logicalVolumes: [
          { name: "local-a", vgname: "pool0", total: 1073741824, readOnly: false, condition: "DiskReady" },
          { name: "root", vgname: "pool0", total: 2147483648, readOnly: false, condition: "DiskReady" },
        ],
        total: 107369988096,
        available: 104148762624,
        allocatable: 105222504448,
        condition: "DiskReady",
      },
    ],
  },
};

function populated(): AgentMetrics {
  const m = new AgentMetrics({ build: { version: "1.2.3", commit: "abc123" } });
  m.observeStatus("node-1", status);
  m.scanDuration.observe(0.42);
  m.countCommandErrors({ wipefs: 2, lsblk: 0 });
  m.countInit("vg", "created");
  m.countInit("vg", "refused");
  m.countInit("mountpoint", "mounted");
  m.countWrite("nls_status", "ok");
  m.countWrite("nls_status", "conflict");
  m.countWrite("lease", "ok");
  m.reconcileErrors.inc();
  m.lastSuccess.set(1_780_000_000);
  return m;
}

test("metrics carry the status values with node/vg/device labels", async (t) => {
  const text = await populated().text();
  t.regex(text, /^nls_vg_total_bytes\{node="node-1",vg="pool0"\} 107369988096$/m);
  t.regex(text, /^nls_vg_available_bytes\{node="node-1",vg="pool0"\} 104148762624$/m);
  t.regex(text, /^nls_vg_allocatable_bytes\{node="node-1",vg="pool0"\} 105222504448$/m);
  t.regex(text, /^nls_vg_logical_volumes\{node="node-1",vg="pool0"\} 2$/m);
  t.regex(text, /^nls_device_size_bytes\{node="node-1",device="\/dev\/sdc",media_type="hdd"\} 2000000000000$/m);
  t.regex(text, /^nls_device_condition\{node="node-1",device="\/dev\/sdc",condition="DiskFault"\} 1$/m);
  t.regex(text, /^nls_device_condition\{node="node-1",device="\/dev\/sdc",condition="DiskReady"\} 0$/m);
  t.regex(text, /^nls_agent_scan_duration_seconds_count 1$/m);
  t.regex(text, /^nls_agent_host_command_errors_total\{command="wipefs"\} 2$/m);
  t.regex(text, /^nls_agent_host_command_errors_total\{command="lvm"\} 0$/m, "every command's series exists");
  t.regex(text, /^nls_agent_init_total\{kind="vg",result="refused"\} 1$/m);
  t.regex(text, /^nls_agent_init_total\{kind="mountpoint",result="mounted"\} 1$/m);
  t.regex(text, /^nls_agent_api_writes_total\{kind="nls_status",result="conflict"\} 1$/m);
  t.regex(text, /^nls_agent_reconcile_errors_total 1$/m);
  t.regex(text, /^nls_agent_last_reconcile_success_timestamp_seconds 1780000000$/m);
});

test("a VG that disappears from the status disappears from the metrics", async (t) => {
  const m = populated();
  m.observeStatus("node-1", { nodeStorageInfo: { volumeGroups: [], deviceInfo: [] } });
  const text = await m.text();
  t.notRegex(text, /nls_vg_total_bytes\{/);
  t.notRegex(text, /nls_device_size_bytes\{/);
});

test("build_info names the version, the commit and Node.js, and is absent when not given", async (t) => {
  t.true(
    (await populated().text()).includes(
      `nls_agent_build_info{version="1.2.3",revision="abc123",nodejs="${process.version}"} 1`,
    ),
  );
  t.notRegex(await new AgentMetrics({ defaultMetrics: false }).text(), /build_info/);
});

const hasPromtool = spawnSync("promtool", ["--version"], { stdio: "ignore" }).status === 0;
const requireTools = process.env.NLS_REQUIRE_REAL_TOOLS === "1";

if (hasPromtool || requireTools) {
  test("promtool check metrics accepts the exposition text", async (t) => {
    t.true(hasPromtool, "promtool is required (NLS_REQUIRE_REAL_TOOLS=1) but not on PATH");
    const text = await populated().text();
    const res = spawnSync("promtool", ["check", "metrics"], { input: text, encoding: "utf8" });
    t.is(res.status, 0, `promtool said:\n${res.stdout}${res.stderr}`);
    t.is(`${res.stdout}${res.stderr}`.trim(), "");
  });
} else {
  test.skip("promtool check metrics accepts the exposition text (promtool not installed)", () => {});
}
