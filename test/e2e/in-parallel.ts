/**
 * Runs `work` over `items`, `width` at a time, in order of `items`; a worker takes no new item once
 * `keepGoing` says no (the items in hand finish).
 */
export async function inParallel<T>(
  items: readonly T[],
  width: number,
  work: (item: T) => Promise<unknown>,
  keepGoing: () => boolean = () => true,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length && keepGoing()) await work(items[next++]!);
    }),
  );
}
