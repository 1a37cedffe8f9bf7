import { gatedSerial } from "../gate.js";
import { fileURLToPath } from "node:url";
import { e2eGate, installCrds, startCluster, type Cluster } from "./cluster.js";
import { openLocalWrittenNls, seedInitConfig, seedNls } from "../crds/samples.js";

const crdsDir = fileURLToPath(new URL("../../crds/", import.meta.url));
const gate = await e2eGate();
const test = gatedSerial<{ cluster: Cluster }>(gate.run);
if (!gate.run) console.log(`# e2e skipped: ${gate.why}`);

test.before(async (t) => {
  if (!gate.run) return;
  t.context.cluster = await startCluster();
});
test.after.always(async (t) => {
  await t.context.cluster?.stop();
});

test("a real API server accepts the CRDs (server-side dry run, then for real)", async (t) => {
  const { cluster } = t.context;
  const dry = await cluster.kubectlOk([
    "apply",
    "--dry-run=server",
    "-f",
    crdsDir + "csi.aliyun.com_nodelocalstorages.yaml",
  ]);
  t.regex(dry, /nodelocalstorages\.csi\.aliyun\.com created \(server dry run\)/);
  await installCrds(cluster, crdsDir);
  t.regex(
    await cluster.kubectlOk(["api-resources", "--api-group=csi.aliyun.com"]),
    /nls\s+csi\.aliyun\.com\/v1alpha1\s+false\s+NodeLocalStorage/,
  );
});

test("kubectl get nls shows state, phase, VG count, allocatable and free at a glance", async (t) => {
  const { cluster } = t.context;
  const { status, ...withoutStatus } = seedNls;
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(withoutStatus));
  const current = JSON.parse(await cluster.kubectlOk(["get", "nls", "node-1", "-o", "json"]));
  await cluster.kubectlOk(["replace", "--subresource=status", "-f", "-"], JSON.stringify({ ...current, status }));
  const table = await cluster.kubectlOk(["get", "nls"]);
  const [header, row] = table.trim().split("\n");
  t.regex(header!, /^NAME\s+STATE\s+PHASE\s+VGS\s+ALLOCATABLE\s+FREE\s+SCHEDULERUPDATESTATUS\s+AGE$/);
  t.regex(row!, /^node-1\s+DiskReady\s+Running\s+1\s+99996Mi\s+89756Mi\s+accepted\s+\S+$/);
  const wide = await cluster.kubectlOk(["get", "nls", "-o", "wide"]);
  t.regex(
    wide.split("\n")[0]!,
    /ALLOCATABLE\s+DEVICES\s+FREE\s+SCHEDULERUPDATESTATUS\s+STATUSCHANGED\s+SCHEDULERUPDATEAT\s+REASON\s+DEVICESINUSE\s+AGE$/,
  );
});

test("the API server rejects a status that breaks the schema, and keeps the stored one", async (t) => {
  const { cluster } = t.context;
  const current = JSON.parse(await cluster.kubectlOk(["get", "nls", "node-1", "-o", "json"]));
  const bad = structuredClone(current);
  bad.status.nodeStorageInfo.volumeGroups[0].total = -5;
  const r = await cluster.kubectl(["replace", "--subresource=status", "-f", "-"], JSON.stringify(bad));
  t.not(r.exitCode, 0);
  t.regex(r.stderr, /total.*should be greater than or equal to 0/);
  const after = JSON.parse(await cluster.kubectlOk(["get", "nls", "node-1", "-o", "json"]));
  t.is(after.status.nodeStorageInfo.volumeGroups[0].total, current.status.nodeStorageInfo.volumeGroups[0].total);
});

test("objects as open-local writes them (omitempty) and the seed init config are accepted", async (t) => {
  const { cluster } = t.context;
  const { status, ...spec } = openLocalWrittenNls;
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(spec));
  const current = JSON.parse(await cluster.kubectlOk(["get", "nls", "node-2", "-o", "json"]));
  await cluster.kubectlOk(["replace", "--subresource=status", "-f", "-"], JSON.stringify({ ...current, status }));
  await cluster.kubectlOk(["apply", "-f", "-"], JSON.stringify(seedInitConfig));
  t.regex(await cluster.kubectlOk(["get", "nlsc"]), /^open-local\s/m);
});
