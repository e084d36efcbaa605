/**
 * The ModelDeck case of the serving benchmark: NOT WIRED YET.
 *
 * The serving process (workers/serving/) is being written; once it can load a model and
 * answer POST /v2/models/{name}/infer, implement startModelDeckTarget below. Until then it
 * throws, and bench/serving/run.ts skips the "modeldeck" and "modeldeck-nolog" cases,
 * printing this message.
 *
 * What it has to do, for one case (the runner calls it once per case, then stop()):
 *  1. Give ModelDeck a database of its own under opts.workDir (embedded PostgreSQL on an
 *     ephemeral port, migrated), register opts.model as a model named opts.model.name with
 *     one version whose artifact is the file opts.model.path, deploy that version, and
 *     create an API token that may call inference.
 *  2. Start the serving process (workers/serving/main.ts) as a fresh child process on
 *     127.0.0.1 and an ephemeral port (opts.port is 0), with prediction logging on when
 *     opts.logging is true ("modeldeck") and off when false ("modeldeck-nolog"), and
 *     everything else (dynamic batching, auth, metrics) at its defaults. Learn the port it
 *     bound (from its stdout or its heartbeat) and wait until GET /v2/health/ready answers
 *     200 and the model is loaded (GET /v2/models/{name}/ready).
 *  3. Resolve with baseUrl, headers: { authorization: `Bearer ${token}` }, the serving
 *     process's pid, and stop(): SIGTERM the serving process, then the database, and wait
 *     for both to exit. The runner removes opts.workDir afterwards.
 * Keep the setup out of the measured time: the runner starts measuring only after this
 * resolves, sends one checked request, and then a 2 s warm-up.
 */
import type { Target, TargetOptions } from "./models";

export async function startModelDeckTarget(opts: TargetOptions): Promise<Target> {
  void opts;
  throw new Error(
    "not wired yet: bench/serving/modeldeck-target.ts awaits the serving process " +
      "(workers/serving/) loading models and answering /v2/models/{name}/infer",
  );
}
