import { RollupFold, type RollupDelta } from "../monitoring/rollups";

/** One served request as the prediction log keeps it (one row of prediction_log). */
export type PredictionRecord = {
  requestId: string;
  modelId: string;
  model: string;
  versionId?: string | null;
  version?: number | null;
  alias?: string | null;
  status: number;
  latencyMs: number;
  queueMs?: number | null;
  computeMs?: number | null;
  batchSize?: number | null;
  rows?: number | null;
  /** sampled payloads as JSON text (OIP tensors), null when not sampled */
  inputs?: string | null;
  outputs?: string | null;
  /** The prediction of each row as JSON array text (lib/onnx/readout.ts), when readable. */
  predicted?: string | null;
  error?: string | null;
  /** When the request was logged; the time `append` runs when absent. */
  at?: Date;
};

/**
 * The columns of a COPY line, in line order. The request id comes first so that it can be
 * read back (the feedback join after a write) by scanning to the first tab.
 */
export const PREDICTION_LOG_COLUMNS = [
  "requestId",
  "at",
  "modelId",
  "model",
  "versionId",
  "version",
  "alias",
  "status",
  "latencyMs",
  "queueMs",
  "computeMs",
  "batchSize",
  "rows",
  "inputs",
  "outputs",
  "predicted",
  "error",
  "instanceId",
] as const;

export const SEGMENT_BYTES = 1 << 20;
const TAB = 9;
const UUID_LENGTH = 36;
export const SEGMENT_RECORDS = 4096;

/**
 * A run of consecutive records: their COPY lines back to back in one Buffer (outside the JS
 * heap), each line's end offset, and the numbers the rollups need as typed-array columns.
 */
class Segment {
  readonly bytes: Buffer;
  used = 0;
  count = 0;
  readonly ends: Uint32Array;
  readonly model: Uint32Array;
  /** -1: no version */
  readonly versionId: Int32Array;
  readonly version: Int32Array;
  readonly atMs: Float64Array;
  readonly status: Uint16Array;
  readonly rows: Float64Array;
  readonly latencyMs: Float64Array;

  constructor(byteCapacity: number, recordCapacity: number) {
    this.bytes = Buffer.allocUnsafeSlow(byteCapacity);
    this.ends = new Uint32Array(recordCapacity);
    this.model = new Uint32Array(recordCapacity);
    this.versionId = new Int32Array(recordCapacity);
    this.version = new Int32Array(recordCapacity);
    this.atMs = new Float64Array(recordCapacity);
    this.status = new Uint16Array(recordCapacity);
    this.rows = new Float64Array(recordCapacity);
    this.latencyMs = new Float64Array(recordCapacity);
  }

  startOf(record: number): number {
    return record === 0 ? 0 : this.ends[record - 1]!;
  }

  reset(): void {
    this.used = 0;
    this.count = 0;
  }
}

/**
 * Model and version ids as small integers for the columns. Only grows: a process serves a
 * handful of models and meets a few versions of each over its life.
 */
class StringTable {
  private readonly strings: string[] = [];
  private readonly indexes = new Map<string, number>();

  indexOf(value: string): number {
    let index = this.indexes.get(value);
    if (index === undefined) {
      index = this.strings.length;
      this.strings.push(value);
      this.indexes.set(value, index);
    }
    return index;
  }

  at(index: number): string {
    return this.strings[index]!;
  }
}

/** Records [from, to) of one segment. */
type SegmentRange = { segment: Segment; from: number; to: number };

/**
 * Records of the log buffered for writing, kept off the JS heap: `append` turns a record into
 * its COPY text line and a few numbers at once and keeps no reference to it or its strings.
 * Holding thousands of records as objects until the next flush made every scavenge copy them
 * (and promote them), which cost the serving process more than building the lines.
 *
 * Records leave from the front (`discard`) in the order they came; `batch` views the first
 * ones without copying.
 */
export class PredictionLogArena {
  private segments: Segment[] = [];
  /** Records of segments[0] already discarded. */
  private head = 0;
  private count = 0;
  /** One emptied segment kept for reuse (no new 1 MiB allocation every few thousand records). */
  private spare: Segment | null = null;
  private readonly strings = new StringTable();
  private readonly instance: string;

  constructor(
    instanceId: string,
    private readonly segmentBytes = SEGMENT_BYTES,
    private readonly segmentRecords = SEGMENT_RECORDS,
  ) {
    this.instance = copyText(instanceId);
  }

  /** Records held. */
  get length(): number {
    return this.count;
  }

  /** Segments held (for tests). */
  get segmentCount(): number {
    return this.segments.length;
  }

  append(r: PredictionRecord, nowMs = Date.now()): void {
    const at = r.at?.getTime();
    const atMs = at !== undefined && Number.isFinite(at) ? at : nowMs;
    const line = copyLine(r, isoTextOf(atMs), this.instance);
    let segment = this.segments[this.segments.length - 1];
    if (!segment || segment.count === segment.ends.length || !fits(segment, line)) {
      const byteLength = Buffer.byteLength(line);
      // A line larger than a segment gets a segment of its own.
      segment = byteLength > this.segmentBytes ? new Segment(byteLength, 1) : this.emptySegment();
      this.segments.push(segment);
    }
    segment.used += segment.bytes.write(line, segment.used);
    const i = segment.count++;
    segment.ends[i] = segment.used;
    segment.model[i] = this.strings.indexOf(r.modelId);
    segment.versionId[i] = r.versionId == null ? -1 : this.strings.indexOf(r.versionId);
    segment.version[i] = r.version ?? 0;
    segment.atMs[i] = atMs;
    segment.status[i] = r.status;
    segment.rows[i] = r.rows ?? 1;
    // The value the row holds (to the microsecond), so that the rollups equal the rows.
    segment.latencyMs[i] = toMicrosecond(r.latencyMs);
    this.count++;
  }

  /** A view of the first `count` records (at most all of them); they stay held. */
  batch(count: number): PredictionLogBatch {
    const ranges: SegmentRange[] = [];
    let left = Math.min(count, this.count);
    const total = left;
    for (let s = 0; left > 0; s++) {
      const segment = this.segments[s]!;
      const from = s === 0 ? this.head : 0;
      const to = Math.min(segment.count, from + left);
      ranges.push({ segment, from, to });
      left -= to - from;
    }
    return new PredictionLogBatch(ranges, total, this.strings);
  }

  /**
   * Lets go of the first `count` records (written, or refused by the database). No write of
   * them may be in flight: an emptied segment is reused.
   */
  discard(count: number): void {
    let left = Math.min(count, this.count);
    this.count -= left;
    while (left > 0) {
      const segment = this.segments[0]!;
      const inSegment = segment.count - this.head;
      if (left < inSegment) {
        this.head += left;
        return;
      }
      left -= inSegment;
      this.head = 0;
      if (this.segments.length === 1 && segment.count < segment.ends.length) {
        segment.reset(); // the open tail, emptied: fill it again from its start
        return;
      }
      this.segments.shift();
      this.recycle(segment);
    }
  }

  /** Lets go of every record. */
  clear(): void {
    this.discard(this.count);
  }

  private emptySegment(): Segment {
    const spare = this.spare;
    if (spare) {
      this.spare = null;
      return spare;
    }
    return new Segment(this.segmentBytes, this.segmentRecords);
  }

  private recycle(segment: Segment): void {
    if (segment.bytes.length !== this.segmentBytes || segment.ends.length !== this.segmentRecords)
      return; // a huge line's own segment
    segment.reset();
    this.spare = segment;
  }
}

/** Whether a line fits in what is left of a segment (its byte length only when in doubt). */
function fits(segment: Segment, line: string): boolean {
  const free = segment.bytes.length - segment.used;
  return free >= line.length * 3 || free >= Buffer.byteLength(line);
}

/**
 * Consecutive records of an arena, as the sink writes them in one transaction: their COPY
 * text, request ids and rollup deltas, all read from the arena's storage.
 */
export class PredictionLogBatch {
  /** @internal built by PredictionLogArena */
  constructor(
    private readonly ranges: readonly SegmentRange[],
    /** Records in the batch. */
    readonly length: number,
    private readonly strings: StringTable,
  ) {}

  /** A batch of records built by hand (tests, tools): through a throwaway arena. */
  static of(records: readonly PredictionRecord[], instanceId: string): PredictionLogBatch {
    const arena = new PredictionLogArena(instanceId);
    const nowMs = Date.now();
    for (const r of records) arena.append(r, nowMs);
    return arena.batch(records.length);
  }

  /** The COPY text of the records, one Buffer per segment they span (views, not copies). */
  copyChunks(): Buffer[] {
    return this.ranges.map(({ segment, from, to }) =>
      segment.bytes.subarray(segment.startOf(from), segment.ends[to - 1]),
    );
  }

  requestIds(): string[] {
    const ids: string[] = [];
    for (const { segment, from, to } of this.ranges) {
      const bytes = segment.bytes;
      for (let i = from; i < to; i++) {
        const start = segment.startOf(i);
        // Ids are UUIDs (the column's type: a row written has one), so 36 ASCII characters:
        // no need to search for the tab, and latin1 reads them exactly (and faster than utf8).
        const end =
          bytes[start + UUID_LENGTH] === TAB ? start + UUID_LENGTH : bytes.indexOf(TAB, start);
        ids.push(bytes.toString("latin1", start, end));
      }
    }
    return ids;
  }

  /** What these records add to metric_rollup (lib/monitoring/rollups.ts). */
  rollupDeltas(): RollupDelta[] {
    const fold = new RollupFold();
    const strings = this.strings;
    for (const { segment: s, from, to } of this.ranges) {
      for (let i = from; i < to; i++) {
        const versionId = s.versionId[i]!;
        fold.add(
          strings.at(s.model[i]!),
          versionId < 0 ? null : strings.at(versionId),
          s.version[i]!,
          s.atMs[i]!,
          s.status[i]!,
          s.rows[i]!,
          s.latencyMs[i]!,
        );
      }
    }
    return fold.deltas();
  }

  /** Records [start, end) of this batch (bisecting around refused rows). */
  slice(start: number, end = this.length): PredictionLogBatch {
    const ranges: SegmentRange[] = [];
    let skip = Math.max(0, start);
    let left = Math.min(end, this.length) - skip;
    const total = Math.max(0, left);
    for (const range of this.ranges) {
      if (left <= 0) break;
      const size = range.to - range.from;
      if (skip >= size) {
        skip -= size;
        continue;
      }
      const from = range.from + skip;
      const to = Math.min(range.to, from + left);
      ranges.push({ segment: range.segment, from, to });
      left -= to - from;
      skip = 0;
    }
    return new PredictionLogBatch(ranges, total, this.strings);
  }
}

/**
 * The record's time as ISO text, cached while the millisecond lasts (under load thousands of
 * records share one, and toISOString costs about 0.3 µs).
 */
function isoTextOf(ms: number): string {
  if (ms !== isoMs) {
    iso = new Date(ms).toISOString();
    isoMs = ms;
  }
  return iso;
}
let isoMs = NaN;
let iso = "";

function copyLine(r: PredictionRecord, at: string, instance: string): string {
  return (
    r.requestId +
    "\t" +
    at +
    "\t" +
    r.modelId +
    "\t" +
    copyText(r.model) +
    "\t" +
    (r.versionId ?? NULL) +
    "\t" +
    copyNumber(r.version) +
    "\t" +
    (r.alias == null ? NULL : copyText(r.alias)) +
    "\t" +
    r.status +
    "\t" +
    copyMillis(r.latencyMs) +
    "\t" +
    copyMillis(r.queueMs) +
    "\t" +
    copyMillis(r.computeMs) +
    "\t" +
    copyNumber(r.batchSize) +
    "\t" +
    copyNumber(r.rows) +
    "\t" +
    (r.inputs ? copyText(r.inputs) : NULL) +
    "\t" +
    (r.outputs ? copyText(r.outputs) : NULL) +
    "\t" +
    (r.predicted ? copyText(r.predicted) : NULL) +
    "\t" +
    (r.error == null ? NULL : copyText(r.error)) +
    "\t" +
    instance +
    "\n"
  );
}

const NULL = "\\N";

/** COPY text format: backslash, tab, newline and carriage return are escaped. */
export function copyText(value: string): string {
  return /[\\\t\n\r]/.test(value) ? value.replace(/[\\\t\n\r]/g, copyEscape) : value;
}
const COPY_ESCAPES: Record<string, string> = {
  "\\": "\\\\",
  "\t": "\\t",
  "\n": "\\n",
  "\r": "\\r",
};
const copyEscape = (ch: string) => COPY_ESCAPES[ch]!;

/** A duration in milliseconds rounded to the microsecond, as the log keeps it. */
function toMicrosecond(ms: number): number {
  if (!Number.isFinite(ms)) return ms;
  const micros = Math.round(ms * 1000);
  return Number.isSafeInteger(micros) ? micros / 1000 : ms;
}

/**
 * A duration in milliseconds, to the microsecond. Formatted as integers: the shortest-double
 * algorithm String() uses cost about 2 µs per value for differences of performance.now()
 * (17 significant digits), three per record, the largest item of the log in serving profiles.
 */
function copyMillis(value: number | null | undefined): string {
  if (value == null || !Number.isFinite(value)) return NULL;
  const micros = Math.round(value * 1000);
  if (!Number.isSafeInteger(micros)) return String(value);
  const abs = micros < 0 ? -micros : micros;
  const whole = Math.floor(abs / 1000);
  let fraction = abs - whole * 1000;
  const sign = micros < 0 ? "-" : "";
  if (fraction === 0) return sign + whole;
  // Three decimals, trailing zeros dropped: 250 → ".25", 5 → ".005".
  let digits = 3;
  while (fraction % 10 === 0) {
    fraction /= 10;
    digits--;
  }
  const padded = digits - String(fraction).length;
  return sign + whole + (padded === 2 ? ".00" : padded === 1 ? ".0" : ".") + fraction;
}

function copyNumber(value: number | null | undefined): string {
  return value == null || !Number.isFinite(value) ? NULL : String(value);
}
