import test from "ava";
import { Gi } from "@nls/testkit";
import type { Explanation, NodeArithmetic } from "./explain.js";
import { claimsTable, renderArithmetic, renderExplanation } from "./render.js";

const e: Explanation = {
  pod: "shop/web-0",
  phase: "Pending",
  claims: [
    { claim: "shop/data", storageClass: "lvm", role: "new", bytes: 30 * Gi, wants: { volumeType: "LVM" } },
    {
      claim: "shop/raw",
      storageClass: "ssd",
      role: "new",
      bytes: 100 * Gi,
      wants: { volumeType: "Device", mediaType: "ssd" },
    },
    {
      claim: "shop/old",
      storageClass: "lvm",
      role: "bound",
      note: "pvc shop/old is bound to local volume pv-1 on node n1",
    },
    { claim: "shop/cloud", storageClass: "ebs", role: "ignored", note: "not nls'" },
  ],
  passThrough: false,
  nodes: [
    {
      node: "n1",
      fits: true,
      reason: "",
      detail: "",
      score: 3,
      placements: [
        { claim: "shop/data", bytes: 30 * Gi, vg: "pool-0" },
        { claim: "shop/raw", bytes: 100 * Gi, device: "/dev/sdb" },
      ],
      after: { used: 180 * Gi, capacity: 400 * Gi },
    },
    {
      node: "n2",
      fits: false,
      reason: "pvc shop/old is bound to local volume pv-1 on node n1",
      detail: "pvc shop/old is bound to local volume pv-1 on node n1",
    },
  ],
  reasons: [{ reason: "pvc shop/old is bound to local volume pv-1 on node n1", nodes: 1 }],
  choice: "n1",
};

test("claimsTable says what the extender makes of each PVC", (t) => {
  t.deepEqual(claimsTable(e.claims), [
    "PVC          CLASS   SIZE    WHAT NLS MAKES OF IT",
    "shop/data    lvm     30Gi    new LVM volume, any VG",
    "shop/raw     ssd     100Gi   new Device volume, ssd media",
    "shop/old     lvm     -       pvc shop/old is bound to local volume pv-1 on node n1",
    "shop/cloud   ebs     -       ignored: not nls'",
  ]);
  t.deepEqual(claimsTable([]), ["The pod has no PersistentVolumeClaims."]);
});

test("renderExplanation: a row per node, then the summary and kube-scheduler's last word", (t) => {
  const lines = renderExplanation(e, ["first", "0/2 nodes are available: 1 pvc shop/old is bound …"]);
  t.deepEqual(lines.slice(7), [
    "NODE   FITS   SCORE   REASON                                                  DETAIL",
    "n1     yes    3       -                                                       data → pool-0, raw → /dev/sdb; after: 180Gi of 400Gi used (45%)",
    "n2     no     -       pvc shop/old is bound to local volume pv-1 on node n1   pvc shop/old is bound to local volume pv-1 on node n1",
    "",
    "nls: 1 of 2 nodes can take the pod; the extender prefers n1; refused: 1 pvc shop/old is bound to local volume pv-1 on node n1",
    "kube-scheduler (last FailedScheduling): 0/2 nodes are available: 1 pvc shop/old is bound …",
  ]);
});

test("renderExplanation: a bound pod, and a pod the extender lets through everywhere", (t) => {
  t.is(
    renderExplanation({ ...e, boundTo: "n1", phase: "Running" }, []).at(-1),
    "The pod is bound to node n1: nothing is pending.",
  );
  const through = renderExplanation({ ...e, passThrough: true }, []);
  t.regex(through.at(-2)!, /asks for no new local volume: the extender lets every node through/);
  t.is(through.at(-1), "kube-scheduler: no FailedScheduling event");
});

test("renderArithmetic: the node's VGs with every holder, its devices, its agent and the verdict", (t) => {
  const a: NodeArithmetic = {
    node: "n2",
    agent: {
      state: "expired",
      renewedSecondsAgo: 95,
      problem: "nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago (agent down?)",
      lease: "nls-node-lease/nls-agent-n2",
    },
    nls: true,
    vgs: [
      {
        name: "pool-0",
        allocatable: 100 * Gi,
        committed: 90 * Gi,
        free: 10 * Gi,
        holders: [
          { claim: "pv:pv-full", source: "pv", bytes: 60 * Gi },
          { claim: "shop/b", source: "tentative", bytes: 30 * Gi },
        ],
      },
    ],
    unusableVgs: [{ name: "pool-1", why: "DiskFault" }],
    undecided: 0,
    devices: [
      { name: "/dev/sdb", mediaType: "ssd", total: 100 * Gi, heldBy: "pv:pv-dev" },
      { name: "/dev/sdc", mediaType: "", total: 50 * Gi },
    ],
    verdict: {
      node: "n2",
      fits: false,
      reason: "local storage agent not reporting",
      detail: "nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago (agent down?)",
    },
  };
  t.deepEqual(renderArithmetic(a, e), [
    "Node n2",
    "agent: expired (Lease nls-node-lease/nls-agent-n2, renewed 95s ago) — the extender fails the node: nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago (agent down?)",
    "VG       ALLOCATABLE   COMMITTED   FREE   HELD BY",
    "pool-0   100Gi         90Gi        10Gi",
    "                       60Gi               pv:pv-full (PV)",
    "                       30Gi               shop/b (reserved by the extender)",
    "pool-1   -             -           -      unusable: DiskFault",
    "devices: /dev/sdb ssd 100Gi held by pv:pv-dev; /dev/sdc ? 50Gi free",
    "pod shop/web-0 needs: shop/data 30Gi (new LVM volume, any VG), shop/raw 100Gi (new Device volume, ssd media)",
    "verdict: refused — local storage agent not reporting",
    "  nls agent lease nls-node-lease/nls-agent-n2 expired 55s ago (agent down?)",
  ]);
});

test("renderExplanation with one node's section instead of every node's row (explain --node)", (t) => {
  const lines = renderExplanation(e, [], ["Node n1", "verdict: fits"]);
  t.false(lines.some((l) => l.startsWith("NODE")));
  t.deepEqual(lines.slice(6), [
    "",
    "Node n1",
    "verdict: fits",
    "",
    "nls: 1 of 2 nodes can take the pod; the extender prefers n1; refused: 1 pvc shop/old is bound to local volume pv-1 on node n1",
    "kube-scheduler: no FailedScheduling event",
  ]);
});
