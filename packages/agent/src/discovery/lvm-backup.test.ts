import test from "ava";
import { isRemovalBackup } from "./lvm-backup.js";
import { fixture } from "../../testing/fake-host.js";

test("LVM backup: recorded after vgcreate (a live VG) and after vgremove -f of a VG with an LV (removed)", (t) => {
  t.false(isRemovalBackup(fixture("lvm-backup-live.txt")));
  t.true(isRemovalBackup(fixture("lvm-backup-removed.txt")));
});

test("LVM backup: other commands, escaped quotes, and a file that is not a backup", (t) => {
  t.false(isRemovalBackup(`description = "Created *after* executing 'lvcreate -n \\"vgremove\\" pool'"\n`));
  t.false(isRemovalBackup(`description = "Created *after* executing 'vgextend pool /dev/sdc'"\n`));
  t.true(isRemovalBackup(`description = "Created *after* executing 'lvm vgremove -ff pool'"\n`));
  t.false(isRemovalBackup(""), "unreadable or not a backup: kept as a memory");
});
