/**
 * How many nodes an extender's answer names: those filter let through (ExtenderFilterResult's
 * NodeNames, or Nodes' items for a full-object answer) or prioritize scored (HostPriorityList). Both
 * extenders are asked the same question; a figure means little if one of them answers a different one.
 */
export function answeredNodes(path: string, text: string): number {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return 0;
  }
  if (path.endsWith("/priorities")) return Array.isArray(answer) ? answer.length : 0;
  const filter = answer as { NodeNames?: unknown; Nodes?: { items?: unknown } } | null;
  if (Array.isArray(filter?.NodeNames)) return filter.NodeNames.length;
  if (Array.isArray(filter?.Nodes?.items)) return filter.Nodes.items.length;
  return 0;
}
