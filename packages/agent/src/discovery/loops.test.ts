import test from "ava";
import { LosetupParseError, parseLosetup } from "./loops.js";
import { fixture } from "../../testing/fake-host.js";

test("losetup: recorded list, sorted by name, padded major:minor trimmed", (t) => {
  const loops = parseLosetup(fixture("losetup.json"));
  t.is(loops.length, 8);
  t.deepEqual(loops[0], {
    name: "/dev/loop0",
    backFile: "/tmp/nlsrec/disk-0.img",
    backIno: 9978013,
    backMajMin: "254:0",
  });
  t.deepEqual(
    loops.map((l) => l.name),
    Array.from({ length: 8 }, (_, i) => `/dev/loop${i}`),
  );
});

test("losetup: a deleted backing file, no loop devices, and output that is not a list", (t) => {
  const deleted = JSON.stringify({
    loopdevices: [{ name: "/dev/loop9", "back-file": "/var/x.img (deleted)", "back-ino": "12", "back-maj:min": "8:1" }],
  });
  t.deepEqual(parseLosetup(deleted), [{ name: "/dev/loop9", backFile: "/var/x.img", backIno: 12, backMajMin: "8:1" }]);
  t.deepEqual(parseLosetup(""), []);
  t.deepEqual(parseLosetup(`{"loopdevices": []}`), []);
  t.throws(() => parseLosetup(`{"devices": []}`), { instanceOf: LosetupParseError });
  t.throws(() => parseLosetup(`{"loopdevices": [{"back-file": "/x"}]}`), { instanceOf: LosetupParseError });
  t.throws(() => parseLosetup("not json"), { instanceOf: LosetupParseError });
});
