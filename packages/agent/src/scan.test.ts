import test from "ava";
import { Command, type CommanderError } from "commander";
import YAML from "yaml";
import { SEED_SPEC, parseSpecFile, registerScanCommand, renderScan, scanHost } from "./scan.js";
import {
  NO_DIR,
  RECORDED_MOUNTINFO,
  RECORDED_PROC,
  fail,
  fakeRunner,
  fixture,
  ok,
  recordedAnswer,
  recordedRunner,
} from "../testing/fake-host.js";

const scanOpts = {
  nodeName: "node-1",
  lvPrefix: "local",
  devices: ["/dev/loop*", "/dev/vd*"],
  mountRoot: "/nonexistent",
  // The recorded host's mounts, never this machine's: what is mounted here must not change the answer.
  mountInfoPath: RECORDED_MOUNTINFO,
  procRoot: RECORDED_PROC,
  lvmBackupDir: NO_DIR,
  now: new Date("2026-11-23T18:00:00Z"),
};

const specFiles: Array<[string, string, unknown]> = [
  [
    "a bare spec in YAML",
    "listConfig:\n  vgs:\n    include: [pool]\n",
    { spec: { listConfig: { vgs: { include: ["pool"] } } } },
  ],
  [
    "a NodeLocalStorage in JSON (spec and annotations)",
    JSON.stringify({
      kind: "NodeLocalStorage",
      metadata: { name: "n", annotations: { "csi.aliyun.com/storage-reserved": `{"pool":"10%"}` } },
      spec: { nodeName: "n", listConfig: { devices: { include: ["/dev/sdb"] } } },
    }),
    {
      spec: { nodeName: "n", listConfig: { devices: { include: ["/dev/sdb"] } } },
      annotations: { "csi.aliyun.com/storage-reserved": `{"pool":"10%"}` },
    },
  ],
  [
    "a NodeLocalStorageInitConfig (global config)",
    "kind: NodeLocalStorageInitConfig\nspec:\n  globalConfig:\n    listConfig: {vgs: {include: [a]}}\n",
    { spec: { nodeName: "node-1", listConfig: { vgs: { include: ["a"] } } } },
  ],
  ["an empty file", "", {}],
];
for (const [name, text, want] of specFiles) {
  test(`scan --spec: reads ${name}`, (t) => t.deepEqual(parseSpecFile(text, "node-1"), want));
}

const SPEC_FIELDS = "nodeName, listConfig, resourceToBeInited, spdkConfig";
const badSpecs: Array<[string, string, RegExp]> = [
  ["broken YAML", "listConfig: [", /not valid YAML or JSON/],
  ["a list", "- a\n- b\n", /expected a mapping/],
  ["another kind", "kind: Pod\n", /unsupported kind Pod/],
  [
    "a typo of a field",
    "listconfig:\n  vgs: {include: [pool]}\n",
    new RegExp(`^listconfig: unknown field \\(known: ${SPEC_FIELDS}\\)$`),
  ],
  [
    "a typo deeper down",
    "listConfig: {vgs: {includes: [pool]}}\n",
    /^listConfig\.vgs\.includes: unknown field \(known: include, exclude\)$/,
  ],
  [
    "a typo in a NodeLocalStorage's spec",
    "kind: NodeLocalStorage\nspec:\n  listconfig: {}\n",
    new RegExp(`^spec\\.listconfig: unknown field \\(known: ${SPEC_FIELDS}\\)$`),
  ],
  [
    "a typo in an init config",
    "kind: NodeLocalStorageInitConfig\nspec:\n  globalconfig: {}\n",
    /^spec\.globalconfig: unknown field \(known: globalConfig, nodesConfig\)$/,
  ],
  ["include not a list", "listConfig: {vgs: {include: pool}}\n", /^listConfig\.vgs\.include: expected array$/],
  [
    "VG without devices",
    "resourceToBeInited: {vgs: [{name: a}]}\n",
    /^resourceToBeInited\.vgs\[0\]\.devices: required$/,
  ],
  [
    "mount point without device",
    "resourceToBeInited: {mountpoints: [{path: /mnt/x}]}\n",
    /^resourceToBeInited\.mountpoints\[0\]\.device: required$/,
  ],
  [
    "mount point options not a list",
    "resourceToBeInited: {mountpoints: [{path: /x, device: /dev/sdb, options: rw}]}\n",
    /^resourceToBeInited\.mountpoints\[0\]\.options: expected array$/,
  ],
  [
    "VG without name",
    "resourceToBeInited: {vgs: [{devices: [/dev/sdb]}]}\n",
    /^resourceToBeInited\.vgs\[0\]\.name: required$/,
  ],
  [
    "every problem at once",
    "listconfig: {}\nresourceToBeInited: {vgs: [{name: a}]}\n",
    /^listconfig: unknown field .*; resourceToBeInited\.vgs\[0\]\.devices: required$/,
  ],
];
for (const [name, text, message] of badSpecs) {
  test(`scan --spec: rejects ${name}`, (t) => {
    t.throws(() => parseSpecFile(text, "node-1"), { message });
  });
}

test("scan: seed spec on the recorded host: a NodeLocalStorage with the plan as a comment, nothing run but reads", async (t) => {
  const runner = recordedRunner();
  const result = await scanHost(runner, { spec: structuredClone(SEED_SPEC) }, scanOpts);
  t.deepEqual(
    runner.calls.map((c) => c.cmd),
    ["lsblk", "lvm", "lvm", "wipefs", "losetup"],
  );
  const yaml = renderScan(result, "yaml");
  t.true(
    yaml.startsWith(
      "# nls scan of node-1: 9 candidate devices, 1 VG, 0 mount points\n" +
        "# listConfig selects 0 VGs (allocatable 0), 0 devices, 0 mount points\n" +
        "#   /dev/loop0  1Gi hdd  in use: is mounted at /tmp/nlsrec/mnt/open-local/a\n" +
        "#   /dev/loop1  1Gi hdd  in use: carries partition table dos at offset 0x1fe\n" +
        "#   /dev/loop2  1Gi hdd  in use: is a physical volume of VG nlsrec\n" +
        "#   /dev/loop3  1Gi hdd  in use: is a physical volume of VG nlsrec\n" +
        "#   /dev/loop4  1Gi hdd  in use: is already an LVM physical volume\n" +
        "#   /dev/loop5  512Mi hdd  free (could be initialised)\n" +
        "#   /dev/loop6  512Mi hdd  free (could be initialised)\n" +
        "#   /dev/loop7  512Mi hdd  free (could be initialised)\n" +
        "#   /dev/vda  256Gi hdd  in use: is mounted at /tmp/nlsrec/mnt/open-local/b, /\n" +
        "# resourceToBeInited plan",
    ),
  );
  t.true(yaml.includes("#   VG open-local-pool-0 [/dev/vdb3]: refused\n#     - /dev/vdb3: no such block device\n"));
  const obj = YAML.parse(yaml);
  t.deepEqual(obj, JSON.parse(renderScan(result, "json")));
  t.is(obj.kind, "NodeLocalStorage");
  t.is(obj.metadata.name, "node-1");
  t.is(obj.spec.nodeName, "node-1");
  t.deepEqual(obj.spec.listConfig, SEED_SPEC.listConfig);
  t.deepEqual(obj.status.filteredStorageInfo.devices, [], "vda and vdb are excluded, no vdc/vdd here");
  t.regex(obj.status.nodeStorageInfo.state.message, /not applied by scan.*open-local-pool-0 not created/);
});

test("scan: a creatable VG shows the commands the agent would run", async (t) => {
  const result = await scanHost(
    recordedRunner(),
    { spec: { resourceToBeInited: { vgs: [{ name: "p", devices: ["/dev/loop5"] }] } } },
    scanOpts,
  );
  t.true(renderScan(result, "yaml").includes("#   VG p [/dev/loop5]: create\n#     $ vgcreate -- p /dev/loop5\n"));
});

test("scan command: flags are parsed; usage errors exit 2", async (t) => {
  const program = new Command("nls-agent").exitOverride();
  const scan = registerScanCommand(program);
  scan.exitOverride().configureOutput({ writeErr: () => undefined });
  const usageError = async (args: string[]) => {
    const e = await t.throwsAsync<CommanderError>(program.parseAsync(["scan", ...args], { from: "user" }));
    t.is(e?.exitCode, 2, e?.message);
    return e?.message ?? "";
  };
  t.regex(await usageError(["--seed", "--spec", "x.yaml"]), /--spec and --seed exclude each other/);
  t.regex(await usageError(["-o", "xml"]), /invalid output format "xml": expected one of yaml, json/);
  t.regex(await usageError(["--spec", "/nonexistent/spec.yaml"]), /--spec \/nonexistent\/spec.yaml: ENOENT/);
});

test("scan: a bad pattern and discovery warnings are spelled out on top", async (t) => {
  const runner = fakeRunner((cmd, args) => {
    if (cmd === "lsblk") return ok(fixture("lsblk.json"));
    if (args.includes("/dev/loop3")) return fail("wipefs: error: /dev/loop3: Input/output error");
    if (cmd !== "wipefs") return recordedAnswer(cmd, args)!;
    return ok(fixture("wipefs-clean.json"));
  });
  const spec = { listConfig: { vgs: { include: ["nls.*", "a(b"] } } };
  const yaml = renderScan(await scanHost(runner, { spec }, scanOpts), "yaml");
  const head = yaml.split("\n").slice(0, 3);
  t.regex(
    head[1]!,
    /^# listConfig selects 1 VG \(allocatable 1840Mi\), .* -- FAILED: listConfig\.vgs\.include: invalid pattern "a\(b"/,
  );
  t.true(
    yaml.includes(
      "\n#   /dev/loop3  1Gi hdd  in use: is a physical volume of VG nlsrec; signatures unknown (wipefs /dev/loop3 failed",
    ),
  );
  t.true(
    yaml.includes("\n# warning: wipefs /dev/loop3 failed (exit 1): wipefs: error: /dev/loop3: Input/output error\n"),
  );
});
