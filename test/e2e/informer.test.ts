import test from "ava";
import { FakeKubeApi, until } from "./fake-kube-api.js";
import { Informer } from "./informer.js";

const PATH = "/api/v1/things";
interface Thing {
  metadata: { uid: string; resourceVersion: string; name: string };
}
const thing = (uid: string, resourceVersion: string): Thing => ({ metadata: { uid, resourceVersion, name: uid } });

/** An informer over PATH that records what its handlers were told. */
function informer(api: FakeKubeApi) {
  const seen: string[] = [];
  const i = new Informer<Thing>(
    api,
    PATH,
    {
      changed: (o) => seen.push(`changed ${o.metadata.uid}@${o.metadata.resourceVersion}`),
      removed: (o) => seen.push(`removed ${o.metadata.uid}`),
    },
    undefined,
    1,
  );
  return { i, seen };
}

test("lists once, then applies the watch's events from the list's resourceVersion; older updates are kept out", async (t) => {
  const api = new FakeKubeApi();
  api.collections.set(PATH, [thing("a", "5")]);
  api.resourceVersion = "7";
  const { i, seen } = informer(api);
  i.start();
  await i.synced;
  await until(() => api.open(PATH).length === 1);
  t.deepEqual(api.lists, [`${PATH}?resourceVersion=0`]);
  t.deepEqual(api.watched, [`${PATH}?resourceVersion=7`]);
  api.emit(PATH, "ADDED", thing("b", "8"));
  api.emit(PATH, "MODIFIED", thing("a", "9"));
  api.emit(PATH, "MODIFIED", thing("a", "6"));
  api.emit(PATH, "BOOKMARK", { metadata: { resourceVersion: "10" } });
  api.emit(PATH, "DELETED", thing("b", "11"));
  t.deepEqual(seen, ["changed a@5", "changed b@8", "changed a@9", "removed b"]);
  t.is(i.cache.get("a")?.metadata.resourceVersion, "9");
  t.is(i.cache.size, 1);
  i.stop();
  t.is(api.open().length, 0);
  t.is(api.lists.length, 1, "nothing polled");
});

for (const [how, endIt] of [
  ["an ERROR event (410 Gone)", (api: FakeKubeApi) => api.emit(PATH, "ERROR", { code: 410, reason: "Expired" })],
  ["the stream's end", (api: FakeKubeApi) => api.end(PATH)],
  ["a failed stream", (api: FakeKubeApi) => api.end(PATH, new Error("socket hang up"))],
] as const) {
  test(`after ${how} it lists again and watches from the new list`, async (t) => {
    const api = new FakeKubeApi();
    api.collections.set(PATH, [thing("a", "5"), thing("b", "5")]);
    const { i, seen } = informer(api);
    i.start();
    await until(() => api.open(PATH).length === 1);
    // Meanwhile b is deleted and c created, with no event seen.
    api.collections.set(PATH, [thing("a", "5"), thing("c", "12")]);
    api.resourceVersion = "12";
    endIt(api);
    await until(() => api.watched.length === 2);
    t.is(api.open(PATH).length, 1, "one watch open");
    t.is(api.watched[1], `${PATH}?resourceVersion=12`);
    t.deepEqual([...i.cache.values()].map((o) => o.metadata.uid).sort(), ["a", "c"]);
    t.true(seen.includes("removed b") && seen.includes("changed c@12"), seen.join(", "));
    i.stop();
    t.is(api.open().length, 0);
  });
}
