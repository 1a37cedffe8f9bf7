import test from "ava";
import { BodyBudget } from "./body-budget.js";

test("body budget: takes while bytes fit, refuses without holding, frees what was given back", (t) => {
  const b = new BodyBudget(100);
  t.true(b.take(60));
  t.false(b.take(41), "61 + 41 > 100");
  t.is(b.inUse, 60, "a refusal holds nothing");
  t.true(b.take(40));
  t.false(b.take(1));
  b.give(60);
  t.is(b.inUse, 40);
  t.true(b.take(60));
  b.give(1_000);
  t.is(b.inUse, 0, "never below zero");
});
