import { CronExpressionParser } from "cron-parser";
import cronstrue from "cronstrue";
import { validateDetailed } from "node-cron";

/**
 * Cron schedules of refresh jobs, in one place: validation (node-cron's own validator, since
 * node-cron is what fires them, cross-checked by cron-parser), the schedule in words
 * (cronstrue) and the next fire times in the job's time zone (cron-parser).
 *
 * A schedule has 5 fields (minute hour day-of-month month day-of-week) or 6 with seconds
 * first; node-cron's nicknames (@daily, @hourly…) are accepted too.
 */

export const MAX_SCHEDULE_LENGTH = 200;

export type ScheduleProblem = { field: "schedule" | "timezone"; message: string };

/** Whether `timezone` is an IANA zone name this runtime knows (e.g. "Europe/Berlin", "UTC"). */
export function isValidTimezone(timezone: string): boolean {
  if (!timezone || timezone.length > 64) return false;
  try {
    new Intl.DateTimeFormat("en-US", { timeZone: timezone });
    return true;
  } catch {
    return false;
  }
}

const FIELD_NAMES: Record<string, string> = {
  second: "seconds",
  minute: "minutes",
  hour: "hours",
  dayOfMonth: "day of month",
  month: "month",
  dayOfWeek: "day of week",
  expression: "expression",
};

/** Problems with a cron expression, each naming the cron field it is about; [] when valid. */
export function validateCron(schedule: string): string[] {
  const text = schedule.trim();
  if (text === "") return ["must not be empty"];
  if (text.length > MAX_SCHEDULE_LENGTH) {
    return [`must be at most ${MAX_SCHEDULE_LENGTH} characters`];
  }
  const detailed = validateDetailed(text);
  if (!detailed.valid) {
    return detailed.errors.map((e) =>
      e.field === "expression"
        ? `is not a cron expression: ${e.message}`
        : `has an invalid ${FIELD_NAMES[e.field] ?? e.field} field (${JSON.stringify(e.value ?? "")}): ${e.message}`,
    );
  }
  // node-cron accepted it; cron-parser computes the fire times we show, so it must agree.
  try {
    CronExpressionParser.parse(text, { tz: "UTC" });
  } catch (error) {
    return [`is not supported for computing fire times: ${(error as Error).message}`];
  }
  return [];
}

/** Problems with a schedule and its time zone, by field; [] when both are valid. */
export function validateSchedule(schedule: string, timezone: string): ScheduleProblem[] {
  const problems: ScheduleProblem[] = validateCron(schedule).map((message) => ({
    field: "schedule",
    message,
  }));
  if (!isValidTimezone(timezone)) {
    problems.push({
      field: "timezone",
      message: `is not a known IANA time zone (e.g. "UTC", "Europe/Berlin"): ${JSON.stringify(timezone)}`,
    });
  }
  return problems;
}

/** The next `count` fire times after `from`, as instants. Assumes a valid schedule. */
export function nextFireTimes(
  schedule: string,
  timezone: string,
  count = 5,
  from: Date = new Date(),
): Date[] {
  const it = CronExpressionParser.parse(schedule.trim(), { tz: timezone, currentDate: from });
  return it.take(count).map((d) => d.toDate());
}

/** The schedule in words ("At 03:00, Monday through Friday"), or null if cronstrue cannot say. */
export function scheduleInWords(schedule: string): string | null {
  try {
    return cronstrue.toString(schedule.trim(), {
      use24HourTimeFormat: true,
      throwExceptionOnParseError: true,
      verbose: false,
    });
  } catch {
    return null;
  }
}

/** Whether the expression has a seconds field (6 fields). */
export function hasSecondsField(schedule: string): boolean {
  const text = schedule.trim();
  return !text.startsWith("@") && text.split(/\s+/).length === 6;
}

export type ScheduleDescription =
  | {
      valid: true;
      schedule: string;
      timezone: string;
      description: string;
      /** ISO instants */
      nextRuns: string[];
      /** The same instants as wall-clock times in `timezone` ("2026-12-02 03:00:00 CET"). */
      nextRunsLocal: string[];
    }
  | { valid: false; schedule: string; timezone: string; problems: ScheduleProblem[] };

/** Local wall-clock rendering of an instant in a zone, e.g. "2026-12-02 03:00:00 CET". */
export function formatInZone(date: Date, timezone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat("en-GB", {
      timeZone: timezone,
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
      timeZoneName: "short",
    })
      .formatToParts(date)
      .map((p) => [p.type, p.value]),
  ) as Record<string, string>;
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${parts.timeZoneName}`;
}

/** Everything the job form shows as you type: validity, words, the next five fire times. */
export function describeSchedule(
  schedule: string,
  timezone: string,
  from: Date = new Date(),
  count = 5,
): ScheduleDescription {
  const problems = validateSchedule(schedule, timezone);
  if (problems.length > 0) return { valid: false, schedule, timezone, problems };
  const next = nextFireTimes(schedule, timezone, count, from);
  return {
    valid: true,
    schedule: schedule.trim(),
    timezone,
    description: scheduleInWords(schedule) ?? schedule.trim(),
    nextRuns: next.map((d) => d.toISOString()),
    nextRunsLocal: next.map((d) => formatInZone(d, timezone)),
  };
}

/** Whether `slot` (an instant) is one of the schedule's fire times in `timezone`. */
export function firesAt(schedule: string, timezone: string, slot: Date): boolean {
  try {
    const it = CronExpressionParser.parse(schedule.trim(), {
      tz: timezone,
      currentDate: new Date(slot.getTime() - 1),
    });
    return it.next().toDate().getTime() === slot.getTime();
  } catch {
    return false;
  }
}
