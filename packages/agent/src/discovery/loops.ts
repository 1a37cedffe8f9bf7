import { parseToolJson } from "./tool-json.js";

/**
 * Loop devices and what backs them, from `losetup --list --json`. The kernel keeps the backing file's
 * device and inode, so two loop devices over one file are recognised whatever paths they were set up
 * with. Run only when lsblk lists a loop device.
 */

export const LOSETUP_ARGS = ["--list", "--json", "--output", "NAME,BACK-FILE,BACK-INO,BACK-MAJ:MIN"];

export interface LoopDevice {
  /** `/dev/loop3`. */
  name: string;
  /** The backing file's path as given to losetup (in the mount namespace that set it up). */
  backFile: string;
  /** The backing file's inode and `major:minor` of the filesystem that holds it. */
  backIno: number;
  backMajMin: string;
}

export class LosetupParseError extends Error {
  override readonly name = "LosetupParseError";
}

export function parseLosetup(json: string): LoopDevice[] {
  if (json.trim() === "") return [];
  const doc = parseToolJson(json, "losetup output", LosetupParseError);
  const list = (doc as { loopdevices?: unknown })?.loopdevices;
  if (!Array.isArray(list)) throw new LosetupParseError(`losetup output has no "loopdevices" array`);
  return (list as Array<Record<string, unknown>>)
    .map((raw) => {
      const name = typeof raw?.name === "string" ? raw.name : "";
      if (!name) throw new LosetupParseError(`losetup entry without a name: ${JSON.stringify(raw)}`);
      const ino = Number(raw["back-ino"]);
      return {
        name,
        // The kernel appends " (deleted)" when the file was unlinked while attached.
        backFile: (typeof raw["back-file"] === "string" ? raw["back-file"] : "").replace(/ \(deleted\)$/, ""),
        backIno: Number.isSafeInteger(ino) ? ino : -1,
        backMajMin: typeof raw["back-maj:min"] === "string" ? raw["back-maj:min"].trim() : "",
      };
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}
