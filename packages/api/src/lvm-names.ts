/**
 * LVM's rules for volume group names (lvm2 `validate_name`), shared by the CRD schema, which rejects a
 * bad name when it is written, and the agent, which checks again before a name reaches `vgcreate`
 * (objects stored before the schema said so, and `nls-agent scan --spec`, never met the schema).
 * A name that starts with `-` would be read by LVM as an option (`--test` puts it in test mode).
 */

/** LVM's NAME_LEN is 128 bytes including the terminating NUL. */
export const VG_NAME_MAX_LENGTH = 127;

/**
 * Characters `[A-Za-z0-9+_.-]`, not starting with `-`, not `.` or `..`. Written without lookahead, as
 * the API server's RE2 needs it.
 */
export const VG_NAME_PATTERN =
  "^([A-Za-z0-9+_][A-Za-z0-9+_.-]*|\\.[A-Za-z0-9+_-][A-Za-z0-9+_.-]*|\\.\\.[A-Za-z0-9+_.-]+)$";

/** Why `name` cannot be a VG name, or `undefined` when LVM accepts it. */
export function vgNameProblem(name: string): string | undefined {
  if (name === "") return "a VG name must not be empty";
  if (name.length > VG_NAME_MAX_LENGTH) return `a VG name has at most ${VG_NAME_MAX_LENGTH} characters`;
  if (name.startsWith("-")) return "a VG name must not start with '-' (LVM would read it as an option)";
  if (name === "." || name === "..") return `a VG name must not be "${name}"`;
  const bad = [...name].find((c) => !/[A-Za-z0-9+_.-]/.test(c));
  if (bad !== undefined) return `a VG name may hold only letters, digits and + _ . - (not ${JSON.stringify(bad)})`;
  return undefined;
}
