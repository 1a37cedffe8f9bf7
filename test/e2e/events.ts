/** What kube-scheduler told a pod: the messages of its FailedScheduling events. */
import type { Cluster } from "./cluster.js";

export async function failedSchedulingMessages(
  cluster: Cluster,
  pod: string,
  namespace = "default",
): Promise<string[]> {
  const ev = JSON.parse(
    await cluster.kubectlOk([
      "get",
      "events",
      "-n",
      namespace,
      "--field-selector",
      `involvedObject.name=${pod},reason=FailedScheduling`,
      "-o",
      "json",
    ]),
  );
  return (ev.items as Array<{ message: string }>).map((e) => e.message);
}
