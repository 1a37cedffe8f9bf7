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

test("firm usage counts what someone will act on without asking; forecasts never", (t) => {
  const l = new Ledger();
  l.set("pv:a", "pv", { node: "n1", vg: "vg0", bytes: 10 * G });
  l.set("ns/b", "allocation", { node: "n1", vg: "vg0", bytes: 20 * G });
  l.set("ns/c", "selected", { node: "n1", vg: "vg0", bytes: 30 * G }); // its class names vg0
  l.set("ns/d", "selected", { node: "n1", vg: "vg0", bytes: 40 * G, loose: true }); // waits for the reserve call
  l.reserve("ns/e", { ...tentative("n1", "vg0", 50), loose: true });
  l.set("ns/f", "selected", { node: "n1", device: "/dev/vdb", bytes: G, loose: true });
  l.set("ns/g", "allocation", { node: "n1", device: "/dev/vdc", bytes: G });
  t.is(vgUsed(l, "n1", "vg0"), 150 * G, "filter counts everything");
  const firm = l.firmUsage("n1");
  t.deepEqual([...firm.vg], [["vg0", 60 * G]]);
  t.deepEqual([...firm.devices], [["/dev/vdc", "ns/g"]]);
  t.deepEqual([...l.firmUsage("n1", "ns/b").vg], [["vg0", 40 * G]], "the asking claim is left out");
  t.is(l.firmUsage("n2").vg.size, 0);
});

test("holders are the claims on a node, largest first; usageWithout leaves claims out of a copy", (t) => {
  const l = new Ledger();
  l.set("pv:a", "pv", { node: "n1", vg: "vg0", bytes: 10 * G });
  l.set("ns/b", "selected", { node: "n1", vg: "vg0", bytes: 20 * G, loose: true });
  l.set("ns/c", "selected", { node: "n2", vg: "vg0", bytes: 30 * G, loose: true });
  t.deepEqual(
    l.holders("n1").map((h) => [h.key, h.kind]),
    [
      ["ns/b", "selected"],
      ["pv:a", "pv"],
    ],
  );
  const without = l.usageWithout("n1", ["ns/b", "ns/c"]);
  t.is(without.vg.get("vg0"), 10 * G);
  t.is(vgUsed(l, "n1", "vg0"), 30 * G, "the ledger itself is unchanged");
  l.set("ns/b", "selected", undefined);
  t.deepEqual(
    l.holders("n1").map((h) => h.key),
    ["pv:a"],
  );
});

test("relocate moves a loose claim on its node without releasing or re-creating it", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", { ...tentative("n1", "vg0", 10), loose: true });
  l.set("ns/b", "selected", { node: "n1", vg: "vg0", bytes: 5 * G, loose: true });
  l.relocate("ns/a", { node: "n1", vg: "vg1", bytes: 10 * G, loose: true });
  l.relocate("ns/b", { node: "n1", vg: "vg1", bytes: 5 * G, loose: true });
  l.relocate("ns/b", { node: "n2", vg: "vg1", bytes: 5 * G, loose: true }); // another node: ignored
  t.is(vgUsed(l, "n1", "vg0"), 0);
  t.is(vgUsed(l, "n1", "vg1"), 15 * G);
  t.is(l.tentativeOf("ns/a")?.vg, "vg1");
  t.is(l.tentativeOf("ns/a")?.podUid, "p1");
  t.is(l.created, 1);
  t.is(totalReleased(l), 0);
});

test("setting a source to what it already is changes nothing", (t) => {
  const l = new Ledger();
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: G });
  const v = l.version;
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: G });
  t.is(l.version, v);
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: G, loose: true });
  t.true(l.version > v, "firmness is part of the source");
});

test("a reservation whose successor lands on another node is counted as misplaced", (t) => {
  const l = new Ledger();
  l.reserve("ns/a", tentative("n1", "vg0", 1));
  l.reserve("ns/b", tentative("n1", "vg0", 1));
  l.reserve("ns/c", tentative("n1", "vg0", 1));
  l.set("ns/a", "selected", { node: "n1", vg: "vg0", bytes: G });
  l.set("ns/b", "selected", { node: "n2", vg: "vg0", bytes: G });
  l.clear("ns/c", "pv", { node: "n3", vg: "vg0", bytes: G });
  t.is(l.misplaced, 2);
  t.is(l.released["selected-node"], 2);
});

test("expiry releases each reservation at its own time, whatever order they were made in", (t) => {
  const l = new Ledger();
  l.reserve("ns/late", tentative("n1", "vg0", 1, 300));
  t.is(l.expire(100), 0);
  l.reserve("ns/early", tentative("n1", "vg0", 1, 150));
  l.reserve("ns/mid", tentative("n2", "vg0", 1, 200));
  t.is(l.expire(149), 0);
  t.is(l.expire(150), 1);
  t.truthy(l.tentativeOf("ns/mid"));
  // Replaced by a reservation that ends sooner than anything left.
  l.reserve("ns/late", tentative("n1", "vg0", 1, 160));
  t.is(l.expire(170), 1);
  t.is(l.tentativeOf("ns/late"), undefined);
  t.is(l.expire(199), 0);
  t.is(l.expire(250), 1);
  t.is(l.liveReservations, 0);
  t.is(l.released.ttl, 3);
});
