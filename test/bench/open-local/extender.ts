/**
 * alibaba/open-local's scheduler extender (`open-local scheduler`) against the bench's control plane,
 * as its Helm chart runs it (`--port`, `--scheduler-strategy=binpack`, its default), with the admin
 * kubeconfig: it is measured, not secured. Its informers wait for every list before it serves, the
 * VolumeSnapshot kinds' included, so their CRDs are applied first.
 */
import { fileURLToPath } from "node:url";
import { waitFor, type Cluster } from "../../e2e/cluster.js";
import { spawnProcess, type DaemonProcess } from "../../e2e/daemons.js";
import { inParallel } from "../../e2e/in-parallel.js";
import type { OpenLocalBinary } from "./binary.js";

export interface OpenLocalExtender extends DaemonProcess {
  port: number;
  version: string;
}

/** Started, and answering for every node in `nodes` from its cache. */
export async function startOpenLocalExtender(
  cluster: Cluster,
  binary: OpenLocalBinary,
  port: number,
  nodes: readonly string[],
): Promise<OpenLocalExtender> {
  await cluster.kubectlOk(["apply", "-f", fileURLToPath(new URL("snapshot-crds.yaml", import.meta.url))]);
  await cluster.kubectlOk([
    "wait",
    "--for=condition=Established",
    "--timeout=60s",
    "crd/volumesnapshots.snapshot.storage.k8s.io",
    "crd/volumesnapshotcontents.snapshot.storage.k8s.io",
    "crd/volumesnapshotclasses.snapshot.storage.k8s.io",
  ]);
  const proc = spawnProcess(
    cluster,
    "open-local-extender",
    binary.bin,
    ["scheduler", `--kubeconfig=${cluster.kubeconfig}`, `--port=${port}`, "--scheduler-strategy=binpack"],
    {},
    "file only",
  );
  try {
    await openLocalSees(port, nodes);
  } catch (err) {
    await proc.stop();
    throw err;
  }
  return { ...proc, port, version: binary.version };
}

/** Until open-local's extender answers for every node in `nodes` from its cache (`POST /cache?nodeName=`). */
export async function openLocalSees(port: number, nodes: readonly string[]): Promise<void> {
  let missing = [...nodes];
  await waitFor(
    `open-local's extender to cache all ${nodes.length} nodes`,
    async () => {
      const still: string[] = [];
      await inParallel(missing, 16, async (node) => {
        const url = `http://127.0.0.1:${port}/cache?nodeName=${encodeURIComponent(node)}`;
        const res = await fetch(url, { method: "POST" }).catch(() => undefined);
        await res?.arrayBuffer();
        if (res?.status !== 200) still.push(node);
      });
      missing = still;
      return missing.length === 0 ? true : undefined;
    },
    300_000,
  );
}
