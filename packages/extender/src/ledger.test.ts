import test from "ava";
import { Ledger, RELEASE_CAUSES, type Tentative } from "./ledger.js";

const G = 1024 ** 3;
const tentative = (node: string, vg: string, gi: number, expiresAt = 1000, podUid = "p1"): Tentative => ({
  node,
  vg,
  bytes: gi * G,
  podUid,
  pod: "ns/p",
  expiresAt,
});
const vgUsed = (l: Ledger, node: string, vg: string) => l.usage(node)?.vg.get(vg) ?? 0;
const totalReleased = (l: Ledger) => RELEASE_CAUSES.reduce((s, c) => s + l.released[c], 0);

test("only the strongest source of a claim counts", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 10));
  t.is(vgUsed(l, "n1", "vg0"), 10 * G);
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: 10 * G });
  t.is(vgUsed(l, "n1", "vg0"), 10 * G, "selected-node replaces the reservation, not added to it");
  t.is(l.released["selected-node"], 1);
  l.set("ns/a", "allocation", { node: "n1", vg: "vg1", bytes: 10 * G });
  t.is(vgUsed(l, "n1", "vg0"), 0);
  t.is(vgUsed(l, "n1", "vg1"), 10 * G);
  l.set("ns/a", "allocation", undefined);
  t.is(vgUsed(l, "n1", "vg0"), 10 * G, "falls back to the selected source");
  l.clear("ns/a", "pvc-deleted");
  t.is(l.usage("n1"), undefined);
});

test("a reservation is refused when a durable source already covers the claim", (t) => {
  const l = new Ledger();
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: G });
  t.false(l.reserve("ns/a", tentative("n2", "vg0", 1)));
  t.is(l.liveReservations, 0);
  t.is(l.created, 0);
});

test("re-reserving a claim replaces the old reservation", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 10));
  l.reserve("ns/a", tentative("n2", "vg0", 10));
  t.is(vgUsed(l, "n1", "vg0"), 0);
  t.is(vgUsed(l, "n2", "vg0"), 10 * G);
  t.is(l.released.replaced, 1);
});

test("TTL releases reservations and nothing leaks", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 10, 1000));
  l.reserve("ns/b", tentative("n1", "vg0", 5, 2000));
  t.is(l.expire(999), 0);
  t.is(l.expire(1000), 1);
  t.is(vgUsed(l, "n1", "vg0"), 5 * G);
  t.is(l.expire(5000), 1);
  t.is(l.usage("n1"), undefined);
  t.is(l.released.ttl, 2);
  t.is(l.created, l.liveReservations + totalReleased(l));
});

test("releasePod releases every reservation of that pod only", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 1, 1000, "p1"));
  l.reserve("ns/b", tentative("n1", "vg0", 2, 1000, "p1"));
  l.reserve("ns/c", tentative("n1", "vg0", 4, 1000, "p2"));
  t.is(l.releasePod("p1", "pod-gone"), 2);
  t.is(vgUsed(l, "n1", "vg0"), 4 * G);
  t.is(l.created, l.liveReservations + totalReleased(l));
});

test("devices are taken and given back by their claim", (t) => {
  const l = new Ledger();
  l.set("pv:x", "pv", { node: "n1", device: "/dev/vdb", bytes: G });
  t.is(l.usage("n1")?.devices.get("/dev/vdb"), "pv:x");
  l.set("pv:x", "pv", undefined);
  t.is(l.usage("n1"), undefined);
});

test("clear with cause pv keeps the PV source of the same key", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 3));
  l.clear("ns/a", "pv");
  t.is(l.released.pv, 1);
  t.is(l.usage("n1"), undefined);
});

test("snapshot is sorted plain data", (t) => {
  const l = new Ledger();
  l.set("pv:b", "pv", { node: "n2", vg: "vg0", bytes: 2 });
  l.set("pv:a", "pv", { node: "n1", vg: "vg1", bytes: 1 });
  t.deepEqual(l.snapshot(), {
    nodes: {
      n1: { vgs: { vg1: 1 }, devices: {}, unplaced: 0 },
      n2: { vgs: { vg0: 2 }, devices: {}, unplaced: 0 },
    },
    claims: {
      "pv:a": { source: "pv", node: "n1", vg: "vg1", bytes: 1 },
      "pv:b": { source: "pv", node: "n2", vg: "vg0", bytes: 2 },
    },
  });
  t.deepEqual(Object.keys(l.snapshot("n2").nodes), ["n2"]);
});
