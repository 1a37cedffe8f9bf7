import test from "ava";
import { parseExtenderCache } from "./extender-cache.js";

const ledger = { nodes: { n1: { vgs: { "pool-0": 1 }, devices: {}, unplaced: 0 } }, claims: {} };

test("the settings and the ledger of /cache", (t) => {
  const r = parseExtenderCache({
    settings: { strategy: "spread", leaseMode: "optional", leaseNamespace: "nls", reservationTtlSeconds: 60 },
    nodes: {},
    ledger,
  });
  t.deepEqual(r, { ok: true, settings: { strategy: "spread", leaseMode: "optional", leaseNamespace: "nls" }, ledger });
});

test("an extender without settings, or with values this version does not know, leaves them to the defaults", (t) => {
  t.deepEqual(parseExtenderCache({ ledger }), { ok: true, settings: {}, ledger });
  t.deepEqual(parseExtenderCache({ ledger, settings: { strategy: "random", leaseMode: 3, leaseNamespace: "" } }), {
    ok: true,
    settings: {},
    ledger,
  });
});

for (const body of [null, "ok", [], {}, { ledger: {} }, { ledger: { nodes: {}, claims: [] } }]) {
  test(`a reply without a ledger is an error: ${JSON.stringify(body)}`, (t) => {
    t.deepEqual(parseExtenderCache(body), { ok: false, error: "the reply has no ledger (is it the nls extender?)" });
  });
}
