/**
 * `npm run cluster`: a local cluster with nls in one command (see local-cluster.ts), kept up until
 * SIGINT/SIGTERM, which tears everything down, loop devices and VGs included. Checks the host first and,
 * when something is missing, says what and how to get it and exits 1 without starting anything.
 *   npm run cluster [-- --nodes N] [--vg-size SIZE]
 */
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { formatBytesHuman, tryParseBytes } from "@nls/api";
import { binDir, KUBE_VERSION } from "../e2e/cluster.js";
import { startLocalCluster, type LocalCluster, type LocalClusterOptions } from "./local-cluster.js";
import { checkPrerequisites, describeMissing } from "./prerequisites.js";
import { probeHost } from "./probe.js";
import { StartAborted, Teardown } from "./teardown.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const USAGE = "usage: npm run cluster [-- --nodes N (1-16, default 2)] [--vg-size SIZE (default 20Gi)]";
const MiB = 2 ** 20;
const SAMPLE_POD = "deploy/samples/pod-with-local-volume.yaml";

function options(argv: string[]): LocalClusterOptions | string {
  let values;
  try {
    values = parseArgs({
      args: argv,
      options: { nodes: { type: "string", default: "2" }, "vg-size": { type: "string", default: "20Gi" } },
    }).values;
  } catch (e) {
    return (e as Error).message;
  }
  const nodes = Number(values.nodes);
  if (!/^\d+$/.test(values.nodes) || nodes < 1 || nodes > 16) return `--nodes ${values.nodes}: expected 1 to 16`;
  const size = tryParseBytes(values["vg-size"]);
  if (!size.ok) return `--vg-size ${values["vg-size"]}: ${size.error}`;
  if (size.bytes < 64 * MiB) return `--vg-size ${values["vg-size"]}: at least 64Mi`;
  return { nodes, vgSizeMiB: Math.floor(size.bytes / MiB) };
}

function tryNext(lc: LocalCluster, vgSizeMiB: number): string[] {
  const { cluster, nodes, extenderUrl, debugUrl, diskDir } = lc;
  return [
    `nls is running on a local cluster of ${nodes.length} nodes:`,
    ...nodes.map((n) => `  ${n.name}: VG ${n.vg} on ${n.device} (${formatBytesHuman(vgSizeMiB * MiB)}), its nls-agent`),
    `  the loop devices are sparse files in ${diskDir}`,
    `  nls-extender at ${extenderUrl}, kube-scheduler configured with it (deploy/scheduler)`,
    `  logs: ${cluster.dir}/*.log`,
    "Try next:",
    `  export KUBECONFIG=${cluster.kubeconfig}`,
    "  kubectl get nls                  # each node's VG and ALLOCATABLE, as its agent reports them",
    `  kubectl apply -f ${SAMPLE_POD}`,
    "  kubectl get pvc nls-sample -o jsonpath='{.metadata.annotations.volume\\.kubernetes\\.io/selected-node}'",
    `  curl -s ${debugUrl}/cache     # the extender's ledger: the sample's 5Gi held on that node's VG`,
    "There is no kubelet and no CSI driver: the pod gets a node and its PVC a VG, but the pod stays Pending",
    "and no volume is created.",
    "Ctrl-C stops everything and removes the loop devices and VGs.",
  ];
}

const say = (line: string) => console.log(line);

const opts = options(process.argv.slice(2));
if (typeof opts === "string") {
  console.error(`${opts}\n${USAGE}`);
  process.exit(2);
}
const plan = checkPrerequisites(await probeHost(binDir, join(here, "../e2e/kube-bins/go.mod")));
if (plan.missing.length > 0) {
  for (const line of describeMissing(plan.missing)) console.error(line);
  process.exit(1);
}
if (plan.build.length > 0) {
  say(
    `building ${plan.build.join(", ")} (Kubernetes ${KUBE_VERSION}) into ${binDir}: ` +
      "first run only, usually 10-15 minutes on 2 cores …",
  );
  const built = spawnSync("bash", [join(here, "../e2e/build-kube.sh")], { stdio: ["ignore", "ignore", "inherit"] });
  if (built.status !== 0) {
    console.error("building the Kubernetes binaries failed (above); nothing was started");
    process.exit(1);
  }
}
// kubectl, when this host had none, was built there.
process.env.PATH = `${process.env.PATH ?? ""}:${binDir}`;

const teardown = new Teardown(say);
const starting = startLocalCluster(opts, teardown, say);
let stopping = false;
const stop = (signal: string) => {
  if (stopping) return say("still stopping …");
  stopping = true;
  say(`${signal}: stopping everything …`);
  teardown.close();
  void starting
    .catch(() => undefined)
    .then(() => teardown.run())
    .then(() => {
      say("stopped; the loop devices and VGs are removed");
      process.exit(0);
    });
};
process.on("SIGINT", () => stop("SIGINT"));
process.on("SIGTERM", () => stop("SIGTERM"));

try {
  for (const line of tryNext(await starting, opts.vgSizeMiB)) say(line);
} catch (e) {
  // While stopping, the signal handler finishes the teardown.
  if (!stopping && !(e instanceof StartAborted)) {
    console.error(`cannot start the local cluster: ${(e as Error).message}`);
    await teardown.run();
    process.exit(1);
  }
}
