/**
 * Asks the extender, through the Service, to filter a pod without local volumes every 50 ms, as
 * kube-scheduler would for any pod, and records when it did not get a 200 (a standby's 503, a closed
 * port, no endpoint): the outages kube-scheduler would have seen, each of which makes it retry the pod.
 */
export interface AvailabilityProbe {
  /** The outages seen so far: [first failed probe, first good probe after it] in clock ms. */
  outages(): Array<{ from: number; to: number | undefined; why: string }>;
  stop(): Promise<void>;
}

const body = JSON.stringify({
  Pod: {
    metadata: { name: "availability-probe", namespace: "default", uid: "availability-probe" },
    spec: { containers: [{ name: "c", image: "registry.k8s.io/pause:3.10" }] },
  },
  NodeNames: ["probe-node"],
});

export function startAvailabilityProbe(url: string): AvailabilityProbe {
  const outages: Array<{ from: number; to: number | undefined; why: string }> = [];
  let stopped = false;
  const once = async (): Promise<string | undefined> => {
    try {
      const res = await fetch(`${url}/scheduler/predicates`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
        signal: AbortSignal.timeout(5_000),
      });
      const text = await res.text();
      return res.ok ? undefined : `${res.status} ${text.slice(0, 120)}`;
    } catch (e) {
      return String((e as Error).cause ?? e);
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const at = Date.now();
      const failure = await once();
      const open = outages.at(-1)?.to === undefined ? outages.at(-1) : undefined;
      if (failure && !open) outages.push({ from: at, to: undefined, why: failure });
      if (!failure && open) open.to = at;
      await new Promise((r) => setTimeout(r, 50));
    }
  })();
  return {
    outages: () => outages,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** The outages overlapping [from, to], each as "<ms> ms (<why>)". */
export function describeOutages(probe: AvailabilityProbe, from: number, to: number): string[] {
  return probe
    .outages()
    .filter((o) => o.from <= to && (o.to ?? Number.POSITIVE_INFINITY) >= from)
    .map((o) => `${o.to === undefined ? "still open" : `${o.to - o.from} ms`} (${o.why})`);
}
