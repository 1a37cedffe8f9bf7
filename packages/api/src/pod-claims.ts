/** The parts of a pod (from the API or an extender request) that name its PVCs. */
export interface PodVolumes {
  metadata?: { name?: string };
  spec?: {
    volumes?: Array<{ name?: string; persistentVolumeClaim?: { claimName?: string } | null; ephemeral?: unknown }>;
  };
}

/**
 * The names of the PVCs a pod uses, in its own namespace, each once: its `persistentVolumeClaim`
 * volumes and, for each generic ephemeral volume, `<pod>-<volume>` (the name the ephemeral volume
 * controller gives the PVC it creates for the pod).
 */
export function podClaimNames(pod: PodVolumes): string[] {
  const names = new Set<string>();
  for (const volume of pod.spec?.volumes ?? []) {
    const claimName = volume.persistentVolumeClaim?.claimName;
    if (claimName) names.add(claimName);
    else if (volume.ephemeral && volume.name && pod.metadata?.name) names.add(`${pod.metadata.name}-${volume.name}`);
  }
  return [...names];
}
