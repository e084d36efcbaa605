import { Readable } from "node:stream";
import { SYSTEM_ACTOR } from "../../lib/audit";
import type { PrismaClient } from "../../lib/db/generated/client";
import type { Logger } from "../../lib/log";
import { createModel, createVersion, setAlias } from "../../lib/registry";
import type { ArtifactStore } from "../../lib/storage";
import { buildDemoModelVersions, DEMO_MODEL } from "./demo-model";

/** Set once the demo was offered, so a deleted demo model is not re-created at the next start. */
const SEEDED_MARK = "demo_seeded";

/**
 * First start: register the demo model (iris classifier, v1 and v2, production → v2) so a
 * newcomer has something to look at, promote and call. Idempotent across restarts and
 * replicas (advisory lock + a mark in instance_setting).
 */
export async function seedDemoContent(
  db: PrismaClient,
  store: ArtifactStore,
  log: Logger,
): Promise<boolean> {
  if (await db.instanceSetting.findUnique({ where: { key: SEEDED_MARK } })) return false;
  return db.$transaction(
    async (tx) => {
      await tx.$executeRaw`SELECT pg_advisory_xact_lock(hashtext('modeldeck.seed-demo'))`;
      if (await tx.instanceSetting.findUnique({ where: { key: SEEDED_MARK } })) return false;
      const existing = await db.model.findUnique({ where: { name: DEMO_MODEL.name } });
      if (!existing) {
        const demo = await buildDemoModelVersions();
        await createModel(db, SYSTEM_ACTOR, {
          name: DEMO_MODEL.name,
          task: DEMO_MODEL.task,
          description: DEMO_MODEL.description,
          tags: ["demo", "tabular"],
        });
        for (const [n, bytes, features] of [
          [1, demo.v1, demo.metrics.v1],
          [2, demo.v2, demo.metrics.v2],
        ] as const) {
          const staged = await store.stage(Readable.from(bytes), { maxBytes: bytes.length });
          try {
            await createVersion(db, SYSTEM_ACTOR, {
              modelName: DEMO_MODEL.name,
              sha256: staged.sha256,
              sizeBytes: staged.sizeBytes,
              storageKey: store.keyFor(staged.sha256),
              signature: n === 1 ? demo.signatures.v1 : demo.signatures.v2,
              originalFilename: `iris-v${n}.onnx`,
              description: `Trained on ${features.features.join(", ")}; held-out accuracy ${(features.testAccuracy * 100).toFixed(1)}%.`,
              tags: n === 1 ? ["sepal-only"] : ["all-features"],
              source: "ModelDeck demo seed (prisma/seed/demo-model.ts)",
              lineage: { kind: "upload" },
            });
            await staged.commit();
          } catch (error) {
            await staged.discard();
            throw error;
          }
        }
        await setAlias(
          db,
          { ...SYSTEM_ACTOR, role: "admin" },
          {
            modelName: DEMO_MODEL.name,
            alias: "production",
            version: 2,
            reason: "Demo: v2 uses all four features and is more accurate.",
          },
        );
        log.info({ model: DEMO_MODEL.name }, "seeded the demo model (v1, v2; production → v2)");
      }
      await tx.instanceSetting.create({
        data: { key: SEEDED_MARK, value: new Date().toISOString() },
      });
      return !existing;
    },
    { timeout: 120_000, maxWait: 30_000 },
  );
}
