import test from "ava";
import { checkPrerequisites, describeMissing, goAtLeast, KUBE_BINARIES, type HostFacts } from "./prerequisites.js";

const ALL_COMMANDS = ["lvm", "losetup", "lsblk", "wipefs", "etcd", "openssl", "kubectl"];
const ready: HostFacts = {
  root: true,
  loopControl: true,
  commands: new Set(ALL_COMMANDS),
  kubeBinaries: new Set(KUBE_BINARIES),
  goRequired: "1.24.0",
};
const without = (names: string[]) => new Set(ALL_COMMANDS.filter((c) => !names.includes(c)));

const cases: Array<{ title: string; facts: Partial<HostFacts>; missing: string[]; build?: string[] }> = [
  { title: "a ready host starts at once", facts: {}, missing: [] },
  { title: "not root", facts: { root: false }, missing: ["root"] },
  { title: "root without a loop driver", facts: { loopControl: false }, missing: ["/dev/loop-control"] },
  {
    title: "every missing host command is named",
    facts: { commands: without(["lvm", "losetup", "etcd", "openssl", "lsblk", "wipefs"]) },
    missing: ["lvm", "losetup", "lsblk", "wipefs", "etcd", "openssl"],
  },
  {
    title: "Kubernetes binaries not built, Go new enough: they are built first",
    facts: { kubeBinaries: new Set(["kube-apiserver"]), goVersion: "go1.26.8" },
    missing: [],
    build: ["kube-scheduler", "kube-controller-manager"],
  },
  {
    title: "kubectl missing, Go there: build-kube.sh builds it too",
    facts: { commands: without(["kubectl"]), goVersion: "go1.24.0" },
    missing: [],
    build: ["kubectl"],
  },
  {
    title: "Kubernetes binaries not built and no Go",
    facts: { kubeBinaries: new Set() },
    missing: ["Go ≥ 1.24.0"],
  },
  {
    title: "Kubernetes binaries not built and Go too old",
    facts: { kubeBinaries: new Set(), goVersion: "go1.19.8" },
    missing: ["Go ≥ 1.24.0"],
  },
  {
    title: "no Go is fine when everything is built",
    facts: { goVersion: undefined },
    missing: [],
  },
  {
    title: "a bare machine: everything at once",
    facts: { root: false, loopControl: false, commands: new Set(), kubeBinaries: new Set() },
    missing: ["root", "lvm", "losetup", "lsblk", "wipefs", "etcd", "openssl", "Go ≥ 1.24.0"],
  },
];

for (const c of cases) {
  test(c.title, (t) => {
    const plan = checkPrerequisites({ ...ready, ...c.facts });
    t.deepEqual(
      plan.missing.map((m) => m.what),
      c.missing,
    );
    t.deepEqual(plan.build, c.build ?? []);
  });
}

for (const [found, required, ok] of [
  ["go1.24.0", "1.24.0", true],
  ["go1.24", "1.24.0", true],
  ["go1.26.8", "1.24.0", true],
  ["go1.23.12", "1.24.0", false],
  ["go1.24.0", "1.24.1", false],
  ["go2.0.0", "1.24.0", true],
  ["devel", "1.24.0", false],
] as const) {
  test(`goAtLeast(${found}, ${required}) = ${ok}`, (t) => t.is(goAtLeast(found, required), ok));
}

test("the report says how to get each item and gives one apt-get line for the packages", (t) => {
  const plan = checkPrerequisites({ ...ready, root: false, commands: without(["lvm", "lsblk", "wipefs", "etcd"]) });
  t.deepEqual(describeMissing(plan.missing), [
    "npm run cluster cannot start; missing:",
    "  - root: loop devices and LVM need it — run it as root, e.g. sudo -E env PATH=$PATH npm run cluster",
    "  - lvm: the agents create and report each node's VG — apt-get install lvm2",
    "  - lsblk: the agents discover disks with it — apt-get install util-linux",
    "  - wipefs: the agents check a disk holds no data before using it — apt-get install util-linux",
    "  - etcd: the kube-apiserver stores its objects in it — apt-get install etcd-server",
    "On Debian/Ubuntu: sudo apt-get install lvm2 util-linux etcd-server",
  ]);
});
