import test from "ava";
import { SignatureParseError, describeSignature, parseWipefs, type Signature } from "./signatures.js";
import { fixture } from "../../testing/fake-host.js";

test("wipefs: recorded batch output (ext4, DOS partition table, LVM PVs)", (t) => {
  const found = parseWipefs(fixture("wipefs-batch.json"));
  t.deepEqual([...found.keys()], ["loop0", "loop1", "loop2", "loop3", "loop4"]);
  t.deepEqual(found.get("loop0"), [{ type: "ext4", offset: "0x438", uuid: "d59c5419-c3b1-41dd-9c0f-a6c73fb76b8a" }]);
  t.deepEqual(found.get("loop1"), [{ type: "dos", offset: "0x1fe" }]);
  t.is(found.get("loop2")![0]!.type, "LVM2_member");
  t.false(found.has("loop7"), "the clean device of the batch has no entry");
});

test("wipefs: clean device, recorded and empty output", (t) => {
  t.is(parseWipefs(fixture("wipefs-clean.json")).size, 0);
  t.is(parseWipefs("").size, 0);
});

test("wipefs: several signatures on one device are all kept", (t) => {
  const json = JSON.stringify({
    signatures: [
      { device: "sdb", offset: "0x200", type: "gpt", uuid: "x", label: null },
      { device: "sdb", offset: "0x1fe", type: "PMBR", uuid: null, label: null },
      { device: "/dev/sdc", offset: "0x1000", type: "linux_raid_member", uuid: "u", label: "host:0" },
    ],
  });
  const found = parseWipefs(json);
  t.deepEqual(
    found.get("sdb")!.map((s) => s.type),
    ["gpt", "PMBR"],
  );
  t.deepEqual(found.get("sdc"), [{ type: "linux_raid_member", offset: "0x1000", uuid: "u", label: "host:0" }]);
});

for (const [name, input] of [
  ["not JSON", "wipefs: error"],
  ["no signatures array", "{}"],
  ["entry without type", `{"signatures": [{"device": "sda"}]}`],
]) {
  test(`wipefs: rejects ${name}`, (t) => {
    t.throws(() => parseWipefs(input!), { instanceOf: SignatureParseError });
  });
}

const described: Array<[Signature, string]> = [
  [{ type: "ext4", offset: "0x438" }, "filesystem ext4 at offset 0x438"],
  [{ type: "dos", offset: "0x1fe" }, "partition table dos at offset 0x1fe"],
  [{ type: "gpt", offset: "0x200" }, "partition table gpt at offset 0x200"],
  [{ type: "LVM2_member", offset: "0x218" }, "LVM physical volume LVM2_member at offset 0x218"],
  [
    { type: "linux_raid_member", offset: "0x1000", label: "h:0" },
    "RAID member linux_raid_member at offset 0x1000 (label h:0)",
  ],
  [{ type: "swap", offset: "" }, "filesystem swap"],
];
for (const [sig, text] of described) {
  test(`wipefs: describes ${sig.type}`, (t) => t.is(describeSignature(sig), text));
}
