/**
 * A pod marked for the extender still starts: the kubelet drops an extended resource its node does not
 * advertise before its admission predicates look at the pod. Shown with the kubelet's own code —
 * test/e2e/kube-bins/kubelet-admit runs the handler the kubelet registers (lifecycle.NewPredicateAdmitHandler,
 * k8s.io/kubernetes at the version of the e2e binaries) — not a citation of it. The controls show the
 * predicates did see the request: a node that advertises the resource with nothing left refuses the pod,
 * and a marked pod that asks for more cpu than the node has is refused.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import { gatedSerial } from "../gate.js";
import { binDir, run } from "./cluster.js";

const RESOURCE = "nls.csi.aliyun.com/local-storage";
const admitBin = join(binDir, "kubelet-admit");
const why = existsSync(admitBin) ? undefined : `${admitBin} missing (run test/e2e/build-kube.sh; needs Go)`;
if (why && process.env.NLS_REQUIRE_REAL_TOOLS === "1") throw new Error(`kubelet-admit missing in CI: ${why}`);
if (why) console.log(`# kubelet admission e2e skipped: ${why}`);
const test = gatedSerial(!why);

interface Verdict {
  admit: boolean;
  reason: string;
  message: string;
}

async function admit(node: object, pod: object): Promise<Verdict> {
  const { stdout, stderr, exitCode } = await run(admitBin, [], {}, JSON.stringify({ node, pod }));
  if (exitCode !== 0) throw new Error(`kubelet-admit exited ${exitCode}: ${stderr}`);
  return JSON.parse(stdout) as Verdict;
}

const node = (allocatable: Record<string, string>) => ({
  apiVersion: "v1",
  kind: "Node",
  metadata: { name: "worker", labels: { "kubernetes.io/os": "linux" } },
  status: { capacity: allocatable, allocatable },
});
const plainNode = node({ cpu: "2", memory: "4Gi", pods: "110" });

/** A pod as the admission policy or webhook leaves it: the resource requested and limited at 1. */
const markedPod = (requests: Record<string, string> = {}) => ({
  apiVersion: "v1",
  kind: "Pod",
  metadata: { name: "with-claim", namespace: "default", uid: "0b5c7a52-8d0e-4a40-9d7e-5f3c1b2a9e10" },
  spec: {
    nodeName: "worker",
    containers: [
      {
        name: "c",
        image: "registry.k8s.io/pause:3.10",
        resources: { requests: { ...requests, [RESOURCE]: "1" }, limits: { [RESOURCE]: "1" } },
      },
    ],
    volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }],
  },
});

test("the kubelet admits a marked pod on a node that does not advertise the resource", async (t) => {
  t.deepEqual(await admit(plainNode, markedPod({ cpu: "500m" })), { admit: true, reason: "", message: "" });
});

test("control: a node that advertises the resource with none allocatable refuses the same pod", async (t) => {
  const verdict = await admit(node({ cpu: "2", memory: "4Gi", pods: "110", [RESOURCE]: "0" }), markedPod());
  t.false(verdict.admit);
  t.is(verdict.reason, `OutOf${RESOURCE}`);
});

test("control: a marked pod that asks for more cpu than the node has is refused", async (t) => {
  const verdict = await admit(plainNode, markedPod({ cpu: "4" }));
  t.false(verdict.admit);
  t.is(verdict.reason, "OutOfcpu");
});
