import test from "ava";
import {
  claimUidOfVolumeName,
  countsInAllocatable,
  DEFAULT_EXTENT_BYTES,
  extentBytesOf,
  isManagedLvName,
  roundToExtents,
} from "./logical-volumes.js";

const MiB = 2 ** 20;

test("the extent size comes from the status, else vgcreate's 4 MiB", (t) => {
  for (const [extentSize, want] of [
    [32 * MiB, 32 * MiB],
    [MiB, MiB],
    [undefined, DEFAULT_EXTENT_BYTES],
    [0, DEFAULT_EXTENT_BYTES],
    [-4, DEFAULT_EXTENT_BYTES],
    [1.5, DEFAULT_EXTENT_BYTES],
  ] as const) {
    t.is(extentBytesOf({ extentSize }), want, String(extentSize));
  }
});

test("volumes take whole extents, rounded up", (t) => {
  for (const [bytes, extent, want] of [
    [1000 * 1000 * 1000, 4 * MiB, 239 * 4 * MiB],
    [8 * MiB, 4 * MiB, 8 * MiB],
    [8 * MiB + 1, 4 * MiB, 12 * MiB],
    [1, 32 * MiB, 32 * MiB],
    [33 * MiB, 32 * MiB, 64 * MiB],
    [3 * MiB + 1, MiB, 4 * MiB],
  ] as const) {
    t.is(roundToExtents(bytes, extent), want, `${bytes} in ${extent}`);
  }
});

test("an LV counts in allocatable when the agent says so; without the field, by open-local's default names", (t) => {
  for (const [lv, want] of [
    [{ name: "root", managed: true }, true],
    [{ name: "local-x", managed: false }, false],
    [{ name: "local-x" }, true],
    [{ name: "csi-x" }, true],
    [{ name: "pvc-x" }, false],
    [{ name: "root" }, false],
  ] as const) {
    t.is(countsInAllocatable(lv), want, JSON.stringify(lv));
  }
  t.true(isManagedLvName("data-1", "data"));
  t.false(isManagedLvName("data-1", ""));
  t.true(isManagedLvName("csi-1", ""));
});

test("a provisioned volume's name gives its claim's uid", (t) => {
  const uid = "0b7c3f0e-5b9a-4c1e-9a51-2d9c8e7f6a10";
  for (const [name, want] of [
    [`local-${uid}`, uid],
    [`pvc-${uid}`, uid],
    [`csi-${uid}`, uid],
    [`local-${uid.slice(0, 8)}`, undefined],
    [uid, undefined],
    [`local-${uid.toUpperCase()}`, undefined],
    ["scratch", undefined],
  ] as const) {
    t.is(claimUidOfVolumeName(name), want, name);
  }
});
