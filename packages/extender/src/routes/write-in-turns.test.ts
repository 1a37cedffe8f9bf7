import { Writable } from "node:stream";
import test from "ava";
import { WRITE_TURN_BYTES, writeInTurns } from "./write-in-turns.js";

/**
 * A socket that takes every write at once, as a loopback peer does ('drain' in the same turn), and
 * notes the event-loop turn of each write: a setImmediate chain counts the turns.
 */
function instantSocket(highWaterMark: number) {
  let turn = 0;
  let counting = true;
  const tick = () => {
    turn++;
    if (counting) setImmediate(tick);
  };
  setImmediate(tick);
  const writes: Array<{ turn: number; bytes: Buffer }> = [];
  const out = new Writable({
    highWaterMark,
    writev(chunks, done) {
      for (const c of chunks) writes.push({ turn, bytes: c.chunk as Buffer });
      done();
    },
  });
  return { out, writes, stop: () => (counting = false) };
}

const parts = (n: number, size: number) => Array.from({ length: n }, (_, i) => Buffer.alloc(size, 97 + i));

for (const [title, count, size, highWaterMark, batches] of [
  ["batches of whole parts, socket full after each", 6, WRITE_TURN_BYTES, 1, 6],
  ["small parts gathered up to the batch size", 8, WRITE_TURN_BYTES / 4, 1, 2],
  ["a socket that never fills", 4, WRITE_TURN_BYTES, 64 * WRITE_TURN_BYTES, 4],
  ["one part", 1, 10, 1, 1],
] as const) {
  test(`writeInTurns: ${title}: each batch in a turn of its own, all bytes in order, then ended`, async (t) => {
    const socket = instantSocket(highWaterMark);
    const ended = new Promise((resolve) => socket.out.once("finish", resolve));
    const body = parts(count, size);
    await writeInTurns(socket.out, body, () => false);
    await ended;
    socket.stop();
    t.true(Buffer.concat(socket.writes.map((w) => w.bytes)).equals(Buffer.concat(body)));
    t.is(new Set(socket.writes.map((w) => w.turn)).size, batches);
  });
}

test("writeInTurns stops writing, without ending, once the reader is gone", async (t) => {
  const socket = instantSocket(1);
  let finished = false;
  socket.out.once("finish", () => (finished = true));
  let batches = 0;
  await writeInTurns(socket.out, parts(5, WRITE_TURN_BYTES), () => ++batches === 2);
  socket.stop();
  t.is(Buffer.concat(socket.writes.map((w) => w.bytes)).length, 2 * WRITE_TURN_BYTES);
  t.false(finished);
});
