import test from "ava";
import { parseStatus } from "./etcd-maintenance.js";

test("parseStatus: the gateway's int64 strings as numbers; dbSizeInUse only when given", (t) => {
  t.deepEqual(parseStatus({ header: { revision: "7145" }, dbSize: "1048576", dbSizeInUse: "524288" }), {
    revision: 7145,
    dbSize: 1048576,
    dbSizeInUse: 524288,
  });
  t.deepEqual(parseStatus({ header: { revision: "1" }, dbSize: "20480" }), { revision: 1, dbSize: 20480 });
  t.throws(() => parseStatus({ dbSize: "1" }));
  t.throws(() => parseStatus({ header: { revision: "1" } }));
});
