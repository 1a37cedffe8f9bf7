import test from "ava";
import type { V1Pod } from "@kubernetes/client-node";
import { Gi, lease, nls, pv, pvc, storageClass } from "@nls/testkit";
import { FakeReader } from "../testing/fake-reader.js";
import { node, stateOf } from "../testing/state.js";
import type { ClusterState } from "./cluster/state.js";
import { run, type Io } from "./program.js";

const now = Date.parse("2026-03-01T12:00:00Z");

const state: ClusterState = stateOf(
  {
    nodes: [node("n1"), node("n2")],
    nls: [
      nls("n1", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }),
      nls("n2", { vgs: [{ name: "pool-0", allocatable: 100 * Gi }] }),
    ],
    storageClasses: [storageClass("lvm", { volumeType: "LVM" })],
    pvs: [pv("pv-a", { node: "n1", size: "80Gi", vgName: "pool-0", claim: { namespace: "shop", name: "a" } })],
    pvcs: [
      pvc("shop", "a", { className: "lvm", size: "80Gi", volumeName: "pv-a" }),
      pvc("shop", "big", { className: "lvm", size: "50Gi" }),
    ],
  },
  [lease("n1", new Date(now - 3_000)), lease("n2", new Date(now - 3_000))],
);

const pending: V1Pod = {
  metadata: { namespace: "shop", name: "web-0", uid: "u1" },
  spec: { containers: [], volumes: [{ name: "v", persistentVolumeClaim: { claimName: "big" } }] },
  status: { phase: "Pending" },
};

interface Run {
  code: number;
  out: string;
  err: string;
  reader: FakeReader;
  connected: number;
}

async function kubectlNls(
  argv: string[],
  reader = new FakeReader(state, [pending]),
  files: Record<string, string> = {},
) {
  let out = "";
  let err = "";
  let connected = 0;
  const io: Io = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    connect: (flags) => {
      connected++;
      return { reader, namespace: flags.namespace ?? "shop" };
    },
    readFile: (path) => {
      if (!(path in files)) throw new Error(`ENOENT: no such file, open '${path}'`);
      return files[path]!;
    },
    now: () => now,
  };
  const code = await run(argv, io);
  return { code, out, err, reader, connected } satisfies Run;
}

test("capacity -o json: committed from the objects when the extender does not answer, and why", async (t) => {
  const r = await kubectlNls(["capacity", "-o", "json"]);
  t.is(r.code, 0, r.err);
  const body = JSON.parse(r.out);
  t.deepEqual(body.committedFrom, {
    kind: "objects",
    why: "extender kube-system/nls-extender:23001 not reachable: connection refused",
  });
  t.deepEqual(
    body.nodes.map((n: { node: string; vgs: Array<{ free: number }> }) => [n.node, n.vgs[0]!.free]),
    [
      ["n1", 20 * Gi],
      ["n2", 100 * Gi],
    ],
  );
  t.deepEqual(r.reader.asked, [{ namespace: "kube-system", name: "nls-extender", port: "23001" }]);
});

test("the extender's settings and ledger are used when it answers; flags override its settings", async (t) => {
  const cache = {
    settings: { strategy: "spread", leaseMode: "optional", leaseNamespace: "nls-node-lease" },
    ledger: {
      nodes: { n2: { vgs: { "pool-0": 30 * Gi }, devices: {}, unplaced: 0 } },
      claims: { "shop/x": { source: "tentative", node: "n2", vg: "pool-0", bytes: 30 * Gi } },
    },
  };
  const reader = new FakeReader(state, [pending], cache);
  const r = await kubectlNls(["capacity", "-o", "yaml", "--strategy", "binpack"], reader);
  t.is(r.code, 0, r.err);
  t.deepEqual(reader.leaseNamespaces, ["nls-node-lease"], "Leases are read where the extender reads them");
  t.regex(r.out, /strategy: binpack/);
  t.regex(r.out, /leaseMode: optional/);
  t.regex(r.out, /kind: extender/);
  const human = await kubectlNls(["capacity"], new FakeReader(state, [pending], cache));
  t.regex(human.out, /^n2\s+pool-0\s+100Gi\s+30Gi\s+70Gi\s+30%/m, "the extender's ledger, not the objects'");
  t.regex(human.out, /1 live reservation included/);
});

test("committedFrom names the pod that answered, not the Service asked; a URL names itself", async (t) => {
  const cache = { ledger: { nodes: {}, claims: {} } };
  const reader = new FakeReader(state, [pending], cache, {}, "nls-extender-5f6b-leader");
  const viaService = await kubectlNls(["capacity", "-o", "json"], reader);
  t.is(viaService.code, 0, viaService.err);
  t.deepEqual(JSON.parse(viaService.out).committedFrom, {
    kind: "extender",
    from: "pod kube-system/nls-extender-5f6b-leader",
    reservations: 0,
  });
  t.deepEqual(reader.asked, [{ namespace: "kube-system", name: "nls-extender", port: "23001" }]);
  const human = await kubectlNls(["capacity"], new FakeReader(state, [pending], cache, {}, "nls-extender-5f6b-leader"));
  t.regex(human.out, /committed: the extender's ledger \(pod kube-system\/nls-extender-5f6b-leader\)/);
  const viaUrl = await kubectlNls(["--extender", "http://127.0.0.1:23000", "capacity", "-o", "json"], reader);
  t.is(JSON.parse(viaUrl.out).committedFrom.from, "http://127.0.0.1:23000/");
  // A pod that answers with something else is named in the reason.
  const odd = await kubectlNls(["capacity", "-o", "json"], new FakeReader(state, [pending], {}, {}, "intruder"));
  t.deepEqual(JSON.parse(odd.out).committedFrom, {
    kind: "objects",
    why: "extender kube-system/nls-extender:23001 (pod kube-system/intruder): the reply has no ledger (is it the nls extender?)",
  });
});

test("--extender none asks nothing; an http URL is asked directly", async (t) => {
  const none = await kubectlNls(["capacity", "--extender", "none"]);
  t.deepEqual(none.reader.asked, []);
  t.regex(none.out, /not asked \(--extender=none\)/);
  const url = await kubectlNls(["--extender", "http://127.0.0.1:23000", "capacity"]);
  t.deepEqual(
    url.reader.asked.map((a) => String(a)),
    ["http://127.0.0.1:23000/"],
  );
});

test("explain: the pod's claim, each node's verdict, kube-scheduler's last message", async (t) => {
  const reader = new FakeReader(state, [pending], new Error("no route"), {
    "shop/web-0": ["0/2 nodes are available: 1 insufficient local storage (LVM)."],
  });
  const r = await kubectlNls(["explain", "web-0"], reader);
  t.is(r.code, 0, r.err);
  t.regex(r.out, /^shop\/big\s+lvm\s+50Gi\s+new LVM volume, any VG$/m);
  t.regex(r.out, /^n1\s+no\s+-\s+insufficient local storage \(LVM\)\s+vg pool-0: need 50Gi, free 20Gi of 100Gi$/m);
  t.regex(r.out, /^n2\s+yes\s+\d+\s+-\s+big → pool-0/m);
  t.regex(
    r.out,
    /nls: 1 of 2 nodes can take the pod; the extender prefers n2; refused: 1 insufficient local storage \(LVM\)/,
  );
  t.regex(r.out, /kube-scheduler \(last FailedScheduling\): 0\/2 nodes are available/);
  t.regex(
    r.out,
    /without the extender's live reservations \(extender kube-system\/nls-extender:23001 not reachable: no route\)/,
  );
});

test("explain --node prints that node's arithmetic", async (t) => {
  const r = await kubectlNls(["explain", "web-0", "--node", "n1", "-o", "json"]);
  t.is(r.code, 0, r.err);
  const body = JSON.parse(r.out);
  t.deepEqual(body.arithmetic.vgs, [
    {
      name: "pool-0",
      allocatable: 100 * Gi,
      committed: 80 * Gi,
      free: 20 * Gi,
      holders: [{ claim: "pv:pv-a", source: "pv", bytes: 80 * Gi }],
    },
  ]);
  t.is(body.arithmetic.verdict.reason, "insufficient local storage (LVM)");
});

const failures: Array<[string, string[], number, RegExp]> = [
  ["a pod that does not exist", ["explain", "nope"], 1, /^error: pod shop\/nope not found\n$/],
  ["a node that does not exist", ["capacity", "--node", "n9"], 1, /node n9 not found/],
  ["a class that does not exist", ["capacity", "--class", "gold"], 1, /StorageClass gold not found/],
  ["an unknown output format", ["capacity", "-o", "xml"], 2, /argument 'xml' is invalid/],
  ["an unknown flag", ["capacity", "--bogus"], 2, /unknown option '--bogus'/],
  ["a bad --extender", ["capacity", "--extender", "nls-extender"], 2, /--extender: expected \[https:\]NAMESPACE\/NAME/],
  ["simulate without --pods", ["simulate"], 2, /required option '--pods <burst>' not specified/],
  ["a bad burst", ["simulate", "--pods", "3xlots"], 2, /--pods: pod group "3xlots"/],
  ["a missing file", ["simulate", "--pods", "1Gi", "--from-file", "/nope.yaml"], 2, /--from-file: ENOENT/],
];
for (const [title, argv, code, message] of failures) {
  test(`exit ${code} for ${title}`, async (t) => {
    const r = await kubectlNls(argv);
    t.is(r.code, code);
    t.regex(r.err, message);
  });
}

test("--help shows examples and exit codes, and exits 0", async (t) => {
  const r = await kubectlNls(["--help"]);
  t.is(r.code, 0);
  t.regex(r.out, /Exit status: 0/);
  const sub = await kubectlNls(["simulate", "--help"]);
  t.is(sub.code, 0);
  t.regex(sub.out, /kubectl nls simulate --pods 100x20Gi/);
});

test("simulate --from-file works offline: no cluster connection is made", async (t) => {
  const file = [
    "apiVersion: v1\nkind: Node\nmetadata: {name: a}",
    "apiVersion: csi.aliyun.com/v1alpha1\nkind: NodeLocalStorage\nmetadata: {name: a}\n" +
      "status: {nodeStorageInfo: {volumeGroups: [{name: pool-0, allocatable: 107374182400, total: 107374182400}]}, " +
      "filteredStorageInfo: {volumeGroups: [pool-0]}}",
    "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: lvm}\nprovisioner: local.csi.aliyun.com",
  ].join("\n---\n");
  const r = await kubectlNls(["simulate", "--pods", "4x30Gi", "--from-file", "c.yaml", "-o", "json"], undefined, {
    "c.yaml": file,
  });
  t.is(r.code, 0, r.err);
  t.is(r.connected, 0);
  t.is(JSON.parse(r.out).placed, 3);
});

test("simulate on the live cluster leaves out nodes whose agent is down, and says so", async (t) => {
  const stale: ClusterState = { ...state, leases: [lease("n1", new Date(now - 3_000))] };
  const r = await kubectlNls(["simulate", "--pods", "3x60Gi"], new FakeReader(stale, [pending]));
  t.is(r.code, 0, r.err);
  t.regex(r.out, /3 pods \(3x60Gi@lvm\), strategy binpack, onto 1 nodes: 0 fit, 3 do not/);
  t.regex(r.out, /n2: no nls agent lease nls-node-lease\/nls-agent-n2 \(is the agent running\?\)/);
});
