/**
 * What `npm run cluster` needs from the host, decided from probed facts (pure): what is missing and how
 * to get it, or which Kubernetes binaries build-kube.sh will build first.
 */

export interface HostFacts {
  root: boolean;
  /** /dev/loop-control exists (the loop driver is there to make loop devices). */
  loopControl: boolean;
  /** Commands found on PATH (or among the built Kubernetes binaries). */
  commands: ReadonlySet<string>;
  /** Kubernetes binaries already built into the cache. */
  kubeBinaries: ReadonlySet<string>;
  /** `go env GOVERSION` (e.g. `go1.24.3`), when Go is installed. */
  goVersion?: string;
  /** The Go version the Kubernetes module needs (`go` line of test/e2e/kube-bins/go.mod). */
  goRequired: string;
}

export interface Missing {
  what: string;
  why: string;
  /** How to get it. */
  how: string;
  /** The Debian/Ubuntu package that provides it, when there is one. */
  apt?: string;
}

export interface Plan {
  missing: Missing[];
  /** Kubernetes binaries build-kube.sh builds before the cluster starts (Go is there). */
  build: string[];
}

export const KUBE_BINARIES = ["kube-apiserver", "kube-scheduler", "kube-controller-manager"] as const;

/** Host commands, the package that has them, and what uses them. */
const HOST_COMMANDS: ReadonlyArray<{ command: string; apt: string; why: string }> = [
  { command: "lvm", apt: "lvm2", why: "the agents create and report each node's VG" },
  { command: "losetup", apt: "mount", why: "each node's disk is a loop device over a sparse file" },
  { command: "lsblk", apt: "util-linux", why: "the agents discover disks with it" },
  { command: "wipefs", apt: "util-linux", why: "the agents check a disk holds no data before using it" },
  { command: "etcd", apt: "etcd-server", why: "the kube-apiserver stores its objects in it" },
  { command: "openssl", apt: "openssl", why: "the service-account signing key is made with it" },
];

/** `go1.24.3` / `1.24` → [1, 24, 3]; undefined when it is not a version. */
function goParts(v: string): number[] | undefined {
  const m = /^(?:go)?(\d+)\.(\d+)(?:\.(\d+))?/.exec(v.trim());
  return m ? [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)] : undefined;
}

export function goAtLeast(found: string, required: string): boolean {
  const f = goParts(found);
  const r = goParts(required);
  if (!f || !r) return false;
  for (let i = 0; i < 3; i++) if (f[i] !== r[i]) return f[i]! > r[i]!;
  return true;
}

export function checkPrerequisites(facts: HostFacts): Plan {
  const missing: Missing[] = [];
  if (!facts.root) {
    missing.push({
      what: "root",
      why: "loop devices and LVM need it",
      how: "run it as root, e.g. sudo -E env PATH=$PATH npm run cluster",
    });
  } else if (!facts.loopControl) {
    missing.push({
      what: "/dev/loop-control",
      why: "no loop driver: each node's disk is a loop device",
      how: "modprobe loop (in a container: run it on a VM or the host instead)",
    });
  }
  for (const c of HOST_COMMANDS) {
    if (!facts.commands.has(c.command)) {
      missing.push({ what: c.command, why: c.why, how: `apt-get install ${c.apt}`, apt: c.apt });
    }
  }
  const build: string[] = KUBE_BINARIES.filter((b) => !facts.kubeBinaries.has(b));
  if (!facts.commands.has("kubectl")) build.push("kubectl");
  if (build.length > 0) {
    const goOk = facts.goVersion !== undefined && goAtLeast(facts.goVersion, facts.goRequired);
    if (!goOk) {
      missing.push({
        what: `Go ≥ ${facts.goRequired}`,
        why:
          `to build ${build.join(", ")} from the k8s.io/kubernetes module, once` +
          (facts.goVersion ? ` (found ${facts.goVersion})` : ""),
        how: "get it from https://go.dev/dl/ (distribution golang-go packages are usually older)",
      });
      return { missing, build: [] };
    }
  }
  return { missing, build };
}

/** The report printed when something is missing: one line per item, then one apt-get line for them all. */
export function describeMissing(missing: readonly Missing[]): string[] {
  const lines = ["npm run cluster cannot start; missing:"];
  for (const m of missing) lines.push(`  - ${m.what}: ${m.why} — ${m.how}`);
  const apt = [...new Set(missing.flatMap((m) => (m.apt ? [m.apt] : [])))];
  if (apt.length > 0) lines.push(`On Debian/Ubuntu: sudo apt-get install ${apt.join(" ")}`);
  return lines;
}
