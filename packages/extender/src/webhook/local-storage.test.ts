import test from "ava";
import type { WireVolume } from "@nls/api";
import { pv, pvc, storageClass } from "@nls/testkit";
import { clusterWith } from "../../testing/cluster.js";
import { localStorageVerdict } from "./local-storage.js";

const store = clusterWith([], 0);
store.applyStorageClass(storageClass("nfs", {}, "nfs.csi.k8s.io"));
store.applyPvc(pvc("app", "local", { className: "lvm", size: "10Gi" }));
store.applyPvc(pvc("app", "device", { className: "ssd", size: "100Gi" }));
store.applyPvc(pvc("app", "shared", { className: "nfs", size: "1Gi" }));
store.applyPvc(pvc("app", "future-class", { className: "not-yet", size: "1Gi" }));
store.applyPvc(pvc("app", "classless", { size: "1Gi" }));
store.applyPvc(pvc("app", "static", { className: "", size: "1Gi" }));
store.applyPvc(pvc("app", "bound-local", { className: "", volumeName: "pv-local", size: "1Gi" }));
store.applyPvc(pvc("app", "bound-nfs", { className: "nfs", volumeName: "pv-nfs", size: "1Gi" }));
store.applyPvc(pvc("app", "bound-unseen", { className: "nfs", volumeName: "pv-unseen", size: "1Gi" }));
store.applyPv(pv("pv-local", { node: "n1", size: "1Gi", vgName: "pool-0" }));
store.applyPv(pv("pv-nfs", { node: "n1", size: "1Gi", driver: "nfs.csi.k8s.io" }));

const claim = (claimName: string): WireVolume => ({ name: claimName, persistentVolumeClaim: { claimName } });
const ephemeral = (storageClassName?: string | null): WireVolume => ({
  name: "scratch",
  ephemeral: { volumeClaimTemplate: { spec: storageClassName === undefined ? {} : { storageClassName } } },
});

const cases: Array<{ title: string; volumes?: WireVolume[]; mark: boolean; reasons: string[] }> = [
  { title: "no volumes", mark: false, reasons: [] },
  { title: "only an emptyDir", volumes: [{ name: "tmp", emptyDir: {} }], mark: false, reasons: [] },
  { title: "an LVM class", volumes: [claim("local")], mark: true, reasons: ["pvc app/local: local class lvm"] },
  { title: "a Device class", volumes: [claim("device")], mark: true, reasons: ["pvc app/device: local class ssd"] },
  {
    title: "another provisioner's class",
    volumes: [claim("shared")],
    mark: false,
    reasons: ["pvc app/shared: class nfs of another provisioner"],
  },
  {
    title: "a PVC not seen yet (created after the pod)",
    volumes: [claim("later")],
    mark: true,
    reasons: ["pvc app/later: not seen yet"],
  },
  {
    title: "a class not seen yet",
    volumes: [claim("future-class")],
    mark: true,
    reasons: ["pvc app/future-class: class not-yet not seen yet"],
  },
  {
    title: "no class yet (a default class may be assigned)",
    volumes: [claim("classless")],
    mark: true,
    reasons: ["pvc app/classless: no class yet"],
  },
  {
    title: 'class "" (static binding)',
    volumes: [claim("static")],
    mark: false,
    reasons: ["pvc app/static: no class (static binding)"],
  },
  {
    title: "bound to a local PV, whatever its class",
    volumes: [claim("bound-local")],
    mark: true,
    reasons: ["pvc app/bound-local: bound to local volume pv-local"],
  },
  {
    title: "bound to another driver's PV",
    volumes: [claim("bound-nfs")],
    mark: false,
    reasons: ["pvc app/bound-nfs: bound to volume pv-nfs of another driver"],
  },
  {
    title: "bound to a PV not seen yet",
    volumes: [claim("bound-unseen")],
    mark: true,
    reasons: ["pvc app/bound-unseen: bound to pv-unseen, not seen yet"],
  },
  {
    title: "an ephemeral volume of a local class",
    volumes: [ephemeral("lvm")],
    mark: true,
    reasons: ["ephemeral volume scratch: local class lvm"],
  },
  {
    title: "an ephemeral volume of another provisioner's class",
    volumes: [ephemeral("nfs")],
    mark: false,
    reasons: ["ephemeral volume scratch: class nfs of another provisioner"],
  },
  {
    title: "an ephemeral volume left to the default class",
    volumes: [ephemeral()],
    mark: true,
    reasons: ["ephemeral volume scratch: default class"],
  },
  {
    title: "an ephemeral volume with a null class",
    volumes: [ephemeral(null)],
    mark: true,
    reasons: ["ephemeral volume scratch: default class"],
  },
  {
    title: "one local claim among others",
    volumes: [claim("shared"), { name: "tmp", emptyDir: {} }, claim("local")],
    mark: true,
    reasons: ["pvc app/shared: class nfs of another provisioner", "pvc app/local: local class lvm"],
  },
  {
    title: "only others' claims",
    volumes: [claim("shared"), claim("bound-nfs"), ephemeral("nfs")],
    mark: false,
    reasons: [
      "pvc app/shared: class nfs of another provisioner",
      "pvc app/bound-nfs: bound to volume pv-nfs of another driver",
      "ephemeral volume scratch: class nfs of another provisioner",
    ],
  },
];

for (const c of cases) {
  test(`verdict: ${c.title}`, (t) => {
    t.deepEqual(localStorageVerdict({ spec: { volumes: c.volumes } }, "app", store), {
      mark: c.mark,
      reasons: c.reasons,
    });
  });
}

test("verdict: claims are looked up in the pod's namespace", (t) => {
  t.deepEqual(localStorageVerdict({ spec: { volumes: [claim("shared")] } }, "other", store), {
    mark: true,
    reasons: ["pvc other/shared: not seen yet"],
  });
});
