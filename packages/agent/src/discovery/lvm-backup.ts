/**
 * LVM's metadata backups (`/etc/lvm/backup/<vg>`, lvm.conf `backup/backup_dir`): one text file per VG,
 * rewritten after every command that changes the VG and deleted by `vgremove`.
 */

/** The `description` line LVM writes at the top of a backup: which command the backup follows. */
const DESCRIPTION = /^description = "((?:[^"\\]|\\.)*)"/m;

/** Whether the backup was written while the VG was being removed (so it is no memory of a live VG). */
export function isRemovalBackup(text: string): boolean {
  const m = DESCRIPTION.exec(text);
  return m !== null && /executing '(?:lvm )?vgremove\b/.test(m[1]!);
}
