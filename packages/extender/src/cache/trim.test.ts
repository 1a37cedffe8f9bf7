import test from "ava";
import { pv } from "@nls/testkit";
import { trimForCache } from "./trim.js";

test("managedFields are dropped in place; everything else the object carries stays", (t) => {
  const full = pv("pv-1", { node: "n1", size: "10Gi", vgName: "pool-0", claim: { namespace: "ns", name: "c" } });
  const expected = structuredClone(full);
  full.metadata!.managedFields = [{ manager: "csi-provisioner", operation: "Update", fieldsType: "FieldsV1" }];
  t.is(trimForCache(full), full);
  t.deepEqual(full, expected);
  t.deepEqual(trimForCache({ metadata: { name: "x" } }), { metadata: { name: "x" } });
  t.deepEqual(trimForCache({}), {});
});
