import test from "ava";
import { Gi, nls, pv } from "@nls/testkit";
import { clusterWith } from "../testing/cluster.js";
import { OpenLocalGauges } from "./metrics.js";

test("open-local gauges: one series per selected VG/device/PV, label values escaped", (t) => {
  const s = clusterWith([], 0);
  s.applyNls(
    nls('odd"node\\x', {
      vgs: [{ name: "pool-0", allocatable: 10 * Gi }],
      devices: [{ name: "/dev/vdb", total: Gi, mediaType: "hdd" }],
    }),
  );
  s.applyPv(
    pv("pv-1", { node: 'odd"node\\x', size: "1Gi", device: "/dev/vdb", claim: { namespace: "ns", name: "c" } }),
  );
  const gauges = new OpenLocalGauges();
  const text = gauges.render(s);
  t.true(text.includes(`local_volume_group_total{nodename="odd\\"node\\\\x",vgname="pool-0"} ${10 * Gi}`));
  t.true(text.includes('local_device_bind{nodename="odd\\"node\\\\x",name="/dev/vdb"} 1'));
  t.true(
    text.includes(
      `local_local_pv{nodename="odd\\"node\\\\x",pv_name="pv-1",pv_type="Device",pvc_name="c",pvc_ns="ns",status="Bound",storage_name="/dev/vdb"} ${Gi}`,
    ),
  );
  t.true(text.endsWith("\n"));
  t.is(gauges.render(s), text, "cached lines render the same");
  // A ledger change on the node replaces its state: the used gauge follows.
  s.ledger.set("pv:x", "pv", { node: 'odd"node\\x', vg: "pool-0", bytes: 3 * Gi });
  t.true(gauges.render(s).includes(`local_volume_group_used{nodename="odd\\"node\\\\x",vgname="pool-0"} ${3 * Gi}`));
});
