import { describe, expect, it } from "vitest";
import {
  applyStateMachine,
  INITIAL_STATE,
  type MachineRule,
  type MachineState,
} from "./state-machine";

const T0 = Date.parse("2026-12-01T12:00:00Z");
const at = (s: number) => new Date(T0 + s * 1000);
const rule = (over: Partial<MachineRule> = {}): MachineRule => ({
  comparison: "gt",
  threshold: 10,
  forSeconds: 30,
  keepFiringForSeconds: 0,
  enabled: true,
  ...over,
});
const pending = (since: number): MachineState => ({
  state: "pending",
  startedAt: at(since),
  firingSince: null,
  lastBreachAt: at(since),
});
const firing = (since: number, lastBreach = since): MachineState => ({
  state: "firing",
  startedAt: at(since - 30),
  firingSince: at(since),
  lastBreachAt: at(lastBreach),
});

type Row = {
  name: string;
  prev: MachineState;
  value: number | null;
  t: number;
  rule?: Partial<MachineRule>;
  to: MachineState["state"];
  transition: boolean;
};

const table: Row[] = [
  {
    name: "inactive, clear: stays",
    prev: INITIAL_STATE,
    value: 5,
    t: 0,
    to: "inactive",
    transition: false,
  },
  {
    name: "inactive, breach: pending",
    prev: INITIAL_STATE,
    value: 11,
    t: 0,
    to: "pending",
    transition: true,
  },
  {
    name: "inactive, breach with for 0: fires at once",
    prev: INITIAL_STATE,
    value: 11,
    t: 0,
    rule: { forSeconds: 0 },
    to: "firing",
    transition: true,
  },
  {
    name: "equal is no breach for gt",
    prev: INITIAL_STATE,
    value: 10,
    t: 0,
    to: "inactive",
    transition: false,
  },
  {
    name: "equal is a breach for gte",
    prev: INITIAL_STATE,
    value: 10,
    t: 0,
    rule: { comparison: "gte" },
    to: "pending",
    transition: true,
  },
  {
    name: "lt: a low value breaches",
    prev: INITIAL_STATE,
    value: 0.8,
    t: 0,
    rule: { comparison: "lt", threshold: 0.9 },
    to: "pending",
    transition: true,
  },
  {
    name: "inactive, no data: stays",
    prev: INITIAL_STATE,
    value: null,
    t: 0,
    to: "inactive",
    transition: false,
  },
  {
    name: "pending, breach before for: stays pending",
    prev: pending(0),
    value: 12,
    t: 29,
    to: "pending",
    transition: false,
  },
  {
    name: "pending, breach held for: fires",
    prev: pending(0),
    value: 12,
    t: 30,
    to: "firing",
    transition: true,
  },
  {
    name: "pending, clear: inactive",
    prev: pending(0),
    value: 3,
    t: 15,
    to: "inactive",
    transition: true,
  },
  {
    name: "pending, no data: holds",
    prev: pending(0),
    value: null,
    t: 60,
    to: "pending",
    transition: false,
  },
  {
    name: "firing, breach: stays",
    prev: firing(30),
    value: 50,
    t: 45,
    to: "firing",
    transition: false,
  },
  {
    name: "firing, clear, keep 0: resolves",
    prev: firing(30),
    value: 1,
    t: 45,
    to: "resolved",
    transition: true,
  },
  {
    name: "firing, clear within keep_firing_for: keeps firing",
    prev: firing(30, 40),
    value: 1,
    t: 60,
    rule: { keepFiringForSeconds: 30 },
    to: "firing",
    transition: false,
  },
  {
    name: "firing, clear past keep_firing_for: resolves",
    prev: firing(30, 40),
    value: 1,
    t: 70,
    rule: { keepFiringForSeconds: 30 },
    to: "resolved",
    transition: true,
  },
  {
    name: "firing, no data: holds (not evidence of health)",
    prev: firing(30),
    value: null,
    t: 600,
    to: "firing",
    transition: false,
  },
  {
    name: "resolved, breach: a new pending",
    prev: { ...firing(30), state: "resolved" },
    value: 20,
    t: 100,
    to: "pending",
    transition: true,
  },
  {
    name: "disabled while firing: resolves",
    prev: firing(30),
    value: 50,
    t: 45,
    rule: { enabled: false },
    to: "resolved",
    transition: true,
  },
  {
    name: "disabled while pending: inactive",
    prev: pending(0),
    value: 50,
    t: 45,
    rule: { enabled: false },
    to: "inactive",
    transition: true,
  },
  {
    name: "disabled and inactive: nothing",
    prev: INITIAL_STATE,
    value: 50,
    t: 45,
    rule: { enabled: false },
    to: "inactive",
    transition: false,
  },
];

describe("applyStateMachine", () => {
  it.each(table)("$name", ({ prev, value, t, rule: over, to, transition }) => {
    const { next, transition: tr } = applyStateMachine(prev, { at: at(t), value }, rule(over));
    expect(next.state).toBe(to);
    expect(tr !== null).toBe(transition);
    if (tr) {
      expect(tr).toMatchObject({ from: prev.state, to, at: at(t), value });
      expect(tr.reason).not.toBe("");
    }
  });

  it("records the episode's times: pending since the first breach, firing since `for` elapsed", () => {
    let s = INITIAL_STATE;
    s = applyStateMachine(s, { at: at(0), value: 20 }, rule()).next;
    s = applyStateMachine(s, { at: at(15), value: 20 }, rule()).next;
    expect(s).toEqual({
      state: "pending",
      startedAt: at(0),
      firingSince: null,
      lastBreachAt: at(15),
    });
    s = applyStateMachine(s, { at: at(30), value: 20 }, rule()).next;
    expect(s).toEqual({
      state: "firing",
      startedAt: at(0),
      firingSince: at(30),
      lastBreachAt: at(30),
    });
  });

  it("a pending alert whose `for` elapsed during a gap fires at the next breach, not during the gap", () => {
    let s = applyStateMachine(INITIAL_STATE, { at: at(0), value: 20 }, rule()).next;
    s = applyStateMachine(s, { at: at(45), value: null }, rule()).next;
    expect(s.state).toBe("pending");
    s = applyStateMachine(s, { at: at(60), value: 20 }, rule()).next;
    expect(s.state).toBe("firing");
  });

  it("keep_firing_for counts from the last breach: a breach inside it restarts the count", () => {
    const r = rule({ forSeconds: 0, keepFiringForSeconds: 30 });
    let s = applyStateMachine(INITIAL_STATE, { at: at(0), value: 20 }, r).next;
    s = applyStateMachine(s, { at: at(20), value: 1 }, r).next;
    s = applyStateMachine(s, { at: at(25), value: 20 }, r).next;
    s = applyStateMachine(s, { at: at(50), value: 1 }, r).next;
    expect(s.state).toBe("firing");
    expect(applyStateMachine(s, { at: at(55), value: 1 }, r).next.state).toBe("resolved");
  });
});
