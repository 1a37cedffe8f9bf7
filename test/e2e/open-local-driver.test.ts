/** The stand-in driver's decisions against what open-local v0.8.0's source does (no cluster needed). */
import test from "ava";
import {
  createVolume,
  extenderUrlHost,
  GrpcError,
  provisioningStateOf,
  scheduleVolumePath,
  type CreateVolumeInput,
  type DriverOptions,
} from "./open-local-driver.js";

for (const [env, want] of [
  [{}, "http://open-local-scheduler-extender:23000"],
  [{ EXTENDER_SVC_PORT: "8080" }, "http://open-local-scheduler-extender:8080"],
  [{ EXTENDER_SVC_IP: "10.96.0.40" }, "http://10.96.0.40:23000"],
  [{ EXTENDER_SVC_IP: "fd00::40", EXTENDER_SVC_PORT: "23001" }, "http://[fd00::40]:23001"],
  // Not an IP: the driver logs a warning and brackets it anyway, so it never connects.
  [{ EXTENDER_SVC_IP: "nls-extender.kube-system" }, "http://[nls-extender.kube-system]:23000"],
] as const) {
  test(`extender URL host for ${JSON.stringify(env)}`, (t) => {
    t.is(extenderUrlHost(env), want);
  });
}

test("the reserve path has the driver's parameter order for each combination", (t) => {
  const base = "/apis/scheduling/ns/persistentvolumeclaims/data";
  t.is(scheduleVolumePath("LVM", "data", "ns", "", "n1"), `${base}?volumeType=LVM&nodeName=n1`);
  t.is(scheduleVolumePath("LVM", "data", "ns", "vg", "n1"), `${base}?nodeName=n1&volumeType=LVM&vgName=vg`);
  t.is(scheduleVolumePath("LVM", "data", "ns", "vg", ""), `${base}?volumeType=LVM&vgName=vg`);
  t.is(scheduleVolumePath("Device", "data", "ns", "", ""), `${base}?volumeType=Device`);
});

const request = (
  over: Partial<CreateVolumeInput> & { parameters?: Record<string, string> } = {},
): CreateVolumeInput => ({
  volumeId: "local-1234",
  requiredBytes: 10 * 2 ** 30,
  accessModes: ["ReadWriteOnce"],
  pvcAnnotations: { "volume.kubernetes.io/selected-node": "n1" },
  schedulerName: "default-scheduler",
  ...over,
  parameters: {
    volumeType: "LVM",
    "csi.storage.k8s.io/pvc/name": "data",
    "csi.storage.k8s.io/pvc/namespace": "ns",
    ...over.parameters,
  },
});

/** Driver options whose extender answers `status`/`body` and records the URLs it was asked. */
function driver(status: number, body: unknown, calls: string[] = []): DriverOptions {
  return {
    env: {},
    extenderSchedulerNames: ["default-scheduler"],
    async post(url) {
      calls.push(url);
      return { status, body: typeof body === "string" ? body : JSON.stringify(body) };
    },
  };
}

const refusal = async (req: CreateVolumeInput, o: DriverOptions): Promise<GrpcError> => {
  const e = await createVolume(req, o).then(
    () => undefined,
    (err: unknown) => err,
  );
  if (!(e instanceof GrpcError)) throw new Error(`expected a GrpcError, got ${String(e)}`);
  return e;
};

test("LVM: the VG comes from the extender's vgName; a class with vgName skips the call", async (t) => {
  const calls: string[] = [];
  const ok = await createVolume(request(), driver(200, { node: "n1", vgName: "pool-1" }, calls));
  t.like(ok.volumeContext, { vgName: "pool-1", volumeType: "LVM", "volume.kubernetes.io/selected-node": "n1" });
  t.deepEqual(calls, [
    "http://open-local-scheduler-extender:23000/apis/scheduling/ns/persistentvolumeclaims/data?volumeType=LVM&nodeName=n1",
  ]);
  const pinned = await createVolume(request({ parameters: { vgName: "pool-9" } }), driver(500, "never called", calls));
  t.is(pinned.volumeContext.vgName, "pool-9");
  t.is(calls.length, 1);
});

test("MountPoint reads disk and Device reads device, under their type's name", async (t) => {
  const mp = await createVolume(
    request({ parameters: { volumeType: "MountPoint" } }),
    driver(200, { node: "n1", disk: "/mnt/open-local/hdd-0" }),
  );
  t.is(mp.volumeContext.MountPoint, "/mnt/open-local/hdd-0");
  const dev = await createVolume(
    request({ parameters: { volumeType: "Device" } }),
    driver(200, { node: "n1", device: "/dev/vdc", disk: "" }),
  );
  t.is(dev.volumeContext.Device, "/dev/vdc");
  // An answer without the field the type reads is refused (and retried).
  const empty = await refusal(
    request({ parameters: { volumeType: "MountPoint" } }),
    driver(200, { node: "n1", device: "/dev/vdc" }),
  );
  t.is(provisioningStateOf(empty), "retry");
  t.regex(empty.message, /mountpoint schedule finish but Disk empty/);
});

test("only a text containing Insufficient reschedules; every other failure is retried on the node", async (t) => {
  const insufficient = await refusal(
    request(),
    driver(500, "Insufficient LVM storage on node n1 for 10Gi: vg pool-0 full"),
  );
  t.is(insufficient.code, "ResourceExhausted");
  t.is(provisioningStateOf(insufficient), "reschedule");
  t.is(
    insufficient.message,
    "rpc error: code = ResourceExhausted desc = CreateVolume: fail to schedule LVM local-1234: rpc error: code = InvalidArgument desc = lvm schedule with error Get Response StatusCode 500, Response: Insufficient LVM storage on node n1 for 10Gi: vg pool-0 full",
  );
  for (const [status, body] of [
    [404, "persistentvolumeclaim ns/data not found in the extender's cache"],
    [500, "allocated 10Gi on n1 vg pool-0 but could not persist it"],
    [200, { node: "n1", vgName: "" }],
    [200, "not json"],
  ] as const) {
    const e = await refusal(request(), driver(status, body));
    t.is(provisioningStateOf(e), "retry", JSON.stringify(body));
  }
});

test("the scheduler-name check and the selected-node requirement come before any call", async (t) => {
  const calls: string[] = [];
  const unknown = await refusal(request({ schedulerName: "nls-scheduler" }), driver(200, {}, calls));
  t.is(
    unknown.message,
    "rpc error: code = Unknown desc = CreateVolume: scheduler arch of pvc(ns/data) is unknown, plz check again",
  );
  t.is(provisioningStateOf(unknown), "retry");
  const listed = {
    ...driver(200, { node: "n1", vgName: "pool-0" }, calls),
    extenderSchedulerNames: ["default-scheduler", "nls-scheduler"],
  };
  t.is((await createVolume(request({ schedulerName: "nls-scheduler" }), listed)).volumeContext.vgName, "pool-0");
  const immediate = await refusal(request({ pvcAnnotations: {} }), driver(200, {}, calls));
  t.is(immediate.code, "Unimplemented");
  t.is(calls.length, 1, "only the listed scheduler's PVC reached the extender");
});
