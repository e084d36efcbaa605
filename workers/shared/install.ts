import { SYSTEM_ACTOR } from "../../lib/audit";
import { registerBootstrapToken } from "../../lib/auth/tokens";
import { ensureInitialAdmin } from "../../lib/auth/users";
import type { AppConfig } from "../../lib/config";
import { describeKeySource, loadEncryptionKeys } from "../../lib/crypto/keys";
import { sealClearCredentials } from "../../lib/crypto/stored-credentials";
import type { PrismaClient } from "../../lib/db/client";
import type { Logger } from "../../lib/log";
import { createArtifactStore } from "../../lib/storage";
import { ensureAuthSecret } from "../../lib/system/instance";
import { seedDemoContent } from "../../prisma/seed";

/**
 * What an installation needs in its database besides the schema: the session secret, the
 * encryption key and stored credentials sealed with it (values written before encryption
 * existed), the first admin, the bootstrap token and (when asked) the demo model. Run by `npm start`'s
 * supervisor and by `modeldeck migrate`, after the migrations. Every step is idempotent and
 * safe when several processes run it at once (each takes its own advisory lock or relies on
 * a unique key), so a re-run migration Job changes nothing.
 */
export type Installed = {
  secret: string;
  admin: Awaited<ReturnType<typeof ensureInitialAdmin>>;
};

export async function provisionInstallation(
  db: PrismaClient,
  config: AppConfig,
  log: Logger,
  opts: { seedDemo: boolean },
): Promise<Installed> {
  const keys = loadEncryptionKeys(config);
  const notice = describeKeySource(keys);
  log[notice.level](notice.fields, notice.message);
  const secret = await ensureAuthSecret(db, process.env.MODELDECK_SECRET);
  const sealing = await sealClearCredentials(db, keys.box);
  if (sealing.sealed > 0) log.info(sealing, "stored credentials sealed with the encryption key");
  const admin = await ensureInitialAdmin(db, {
    email: process.env.MODELDECK_ADMIN_EMAIL ?? "admin@modeldeck.local",
    password: process.env.MODELDECK_ADMIN_PASSWORD || undefined,
  });
  if (process.env.MODELDECK_BOOTSTRAP_TOKEN) {
    const result = await registerBootstrapToken(
      db,
      process.env.MODELDECK_BOOTSTRAP_TOKEN,
      SYSTEM_ACTOR,
    );
    log.info(
      { tokenId: result.token.id, created: result.created, status: result.token.status },
      "bootstrap token",
    );
  }
  if (opts.seedDemo) {
    // The demo is a convenience: failing to seed it must not keep ModelDeck from starting.
    await seedDemoContent(db, createArtifactStore(config), log).catch((err: unknown) =>
      log.error({ err }, "could not seed the demo model; continuing without it"),
    );
  }
  return { secret, admin };
}
