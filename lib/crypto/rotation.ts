import { chmodSync, linkSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import type { AppConfig } from "../config";
import type { PrismaClient } from "../db/generated/client";
import { loadEncryptionKeys } from "./keys";
import { generateEncryptionKey } from "./secret-box";
import { resealCredentials, type SealingResult } from "./stored-credentials";

export type RotationReport = SealingResult & {
  keyId: string;
  /** The key replaced (null when only MODELDECK_ENCRYPTION_KEY is set: nothing to replace). */
  previousKeyId: string | null;
  source: "env" | "file";
  /** The file now holding the previous key (kept until the next rotation), if any. */
  previousKeyFile: string | null;
};

/**
 * `modeldeck keys rotate`: every stored credential ends up sealed with a new key.
 *
 * With MODELDECK_ENCRYPTION_KEY set, the operator has already given every process the new key
 * (and the old one as MODELDECK_ENCRYPTION_KEY_PREVIOUS, so both open); this re-seals every
 * value under the new key. With the generated key file, this makes the new key: the current
 * file becomes the previous key file and a new key takes its place (processes that meet a
 * value under a key they do not know read the files again), then every value is re-sealed.
 * A previous key file left by an earlier rotation is retired first, once every value it
 * could still open has been re-sealed under the current key.
 */
export async function rotateEncryptionKey(
  db: PrismaClient,
  config: Pick<AppConfig, "dataDir" | "encryption">,
): Promise<RotationReport> {
  let loaded = loadEncryptionKeys(config);
  if (loaded.source.kind === "env") {
    const result = await resealCredentials(db, loaded.box);
    return {
      ...result,
      keyId: loaded.box.current.id,
      previousKeyId: loaded.box.others[0]?.id ?? null,
      source: "env",
      previousKeyFile: null,
    };
  }
  const { path: file, previousPath } = loaded.source;
  if (loaded.box.others.length > 0) {
    await resealCredentials(db, loaded.box);
    unlinkSync(previousPath);
  }
  const previousKeyId = loaded.box.current.id;
  const next = `${file}.next`;
  writeFileSync(next, generateEncryptionKey().toString("base64") + "\n", { mode: 0o600 });
  chmodSync(next, 0o600);
  try {
    // Exclusive: a second rotation running at the same time stops here.
    linkSync(file, previousPath);
  } catch (error) {
    unlinkSync(next);
    if ((error as NodeJS.ErrnoException).code === "EEXIST") {
      throw new Error(
        `${previousPath} appeared while rotating: is another rotation running? Run it again when it is done.`,
      );
    }
    throw error;
  }
  renameSync(next, file);
  loaded = loadEncryptionKeys(config);
  const result = await resealCredentials(db, loaded.box);
  return {
    ...result,
    keyId: loaded.box.current.id,
    previousKeyId,
    source: "file",
    previousKeyFile: previousPath,
  };
}
