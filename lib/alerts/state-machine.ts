import { compare, type AlertComparison } from "./definitions";

/**
 * The alert state machine, a pure function of the previous state, one evaluation and the
 * rule: no clock, no database, so every path is a row of a table test.
 *
 *   inactive/resolved ──breach──► pending ──breach held `for`──► firing
 *        ▲                          │ clear                       │ clear for `keep_firing_for`
 *        └──────── inactive ◄───────┘                resolved ◄───┘
 *
 * With `for` = 0 a breach fires at once. "Breach" is the comparison holding; "clear" is a
 * value for which it does not hold. No data (no requests in the window, no feedback yet, an
 * alias that points nowhere) is neither: it is not evidence of health, so it never resolves
 * or clears an alert, and it is not a breach, so it never starts or fires one. Each state
 * holds until data says otherwise; a pending alert whose `for` elapsed during a gap fires at
 * the first breaching value after it. A disabled rule closes its open alert.
 */
export type MachineState = {
  state: "inactive" | "pending" | "firing" | "resolved";
  /** When the open episode's condition first held (pending or firing). */
  startedAt: Date | null;
  firingSince: Date | null;
  /** The last evaluation at which the condition held. */
  lastBreachAt: Date | null;
};

export type MachineRule = {
  comparison: AlertComparison;
  threshold: number;
  forSeconds: number;
  keepFiringForSeconds: number;
  enabled: boolean;
};

export type Observation = { at: Date; value: number | null };

export type Transition = {
  from: MachineState["state"];
  to: MachineState["state"];
  at: Date;
  value: number | null;
  /** Why, in a few words (the evaluator prefixes the metric and value). */
  reason: string;
};

export type MachineStep = { next: MachineState; transition: Transition | null };

export const INITIAL_STATE: MachineState = {
  state: "inactive",
  startedAt: null,
  firingSince: null,
  lastBreachAt: null,
};

const seconds = (from: Date, to: Date) => (to.getTime() - from.getTime()) / 1000;

export function applyStateMachine(
  prev: MachineState,
  observation: Observation,
  rule: MachineRule,
): MachineStep {
  const { at, value } = observation;
  const open = prev.state === "pending" || prev.state === "firing";
  const step = (next: MachineState, reason: string | null): MachineStep => ({
    next,
    transition:
      reason !== null && next.state !== prev.state
        ? { from: prev.state, to: next.state, at, value, reason }
        : null,
  });

  if (!rule.enabled) {
    if (!open) return step(prev, null);
    const to = prev.state === "firing" ? "resolved" : "inactive";
    return step({ ...prev, state: to }, "rule disabled");
  }
  if (value === null) return step(prev, null); // no data: hold (see above)

  const breach = compare(value, rule.comparison, rule.threshold);
  switch (prev.state) {
    case "inactive":
    case "resolved": {
      if (!breach) return step(prev, null);
      const episode = { startedAt: at, lastBreachAt: at };
      if (rule.forSeconds <= 0) {
        return step({ state: "firing", ...episode, firingSince: at }, "condition met");
      }
      return step({ state: "pending", ...episode, firingSince: null }, "condition met");
    }
    case "pending": {
      if (!breach) {
        return step({ ...prev, state: "inactive" }, "condition cleared before `for` elapsed");
      }
      const held = seconds(prev.startedAt ?? at, at);
      if (held >= rule.forSeconds) {
        return step(
          { ...prev, state: "firing", firingSince: at, lastBreachAt: at },
          `condition held for ${Math.round(held)} s`,
        );
      }
      return step({ ...prev, lastBreachAt: at }, null);
    }
    case "firing": {
      if (breach) return step({ ...prev, lastBreachAt: at }, null);
      const clearFor = seconds(prev.lastBreachAt ?? at, at);
      if (clearFor >= rule.keepFiringForSeconds) {
        return step(
          { ...prev, state: "resolved" },
          rule.keepFiringForSeconds > 0
            ? `condition clear for ${Math.round(clearFor)} s`
            : "condition cleared",
        );
      }
      return step(prev, null); // keep_firing_for: still firing while it counts down
    }
  }
}
