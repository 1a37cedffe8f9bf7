import { spawn } from "node:child_process";
import type { KubeObject } from "./render.js";

/** A caller or callee: an address outside the cluster (a host-network process), or a pod. */
export interface TrafficPeer {
  ip: string;
  namespace?: string;
  namespaceLabels?: Record<string, string>;
  podLabels?: Record<string, string>;
}

export interface TrafficCase {
  name: string;
  source: TrafficPeer;
  destination: TrafficPeer;
  port: number;
  protocol?: "TCP" | "UDP" | "SCTP";
}

export interface Verdict {
  name: string;
  allowed: boolean;
  ingress: boolean;
  egress: boolean;
}

/** Asks netpol-verdict (netpol-bin/, on PATH) whether `policies` let each case's traffic through. */
export async function netpolVerdicts(policies: KubeObject[], cases: TrafficCase[]): Promise<Verdict[]> {
  const child = spawn("netpol-verdict", [], { stdio: ["pipe", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once("error", reject);
    child.once("close", resolve);
    child.stdin.end(JSON.stringify({ policies, cases }));
  });
  if (code !== 0) throw new Error(`netpol-verdict exited ${code}: ${stderr.trim()}`);
  return (JSON.parse(stdout) as { verdicts: Verdict[] }).verdicts;
}
