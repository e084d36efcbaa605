/**
 * Storage errors say nothing about HTTP: the store is also used by jobs (retrain, import,
 * garbage collection). Callers that face a client map them (see lib/uploads).
 */
export class ArtifactStoreError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The body grew past `limitBytes`; the partial file is already deleted when this is thrown. */
export class ArtifactTooLargeError extends ArtifactStoreError {
  constructor(readonly limitBytes: number) {
    super(`The artifact is larger than the limit of ${limitBytes} bytes.`);
  }
}

/** A key or digest that is not exactly what `keyFor` produces; nothing was touched. */
export class InvalidArtifactKeyError extends ArtifactStoreError {
  constructor(readonly value: string) {
    // The offending value may be anything a client sent: quote a bounded, printable form.
    super(`Not a valid artifact key or sha256 digest: ${JSON.stringify(value.slice(0, 100))}.`);
  }
}

export class ArtifactNotFoundError extends ArtifactStoreError {
  constructor(readonly key: string) {
    super(`Artifact ${key} does not exist in the store.`);
  }
}

/** The source stream failed or was aborted while staging; the partial file is deleted. */
export class ArtifactStageAbortedError extends ArtifactStoreError {}

/** `commit()` after `discard()`, or a staged file that vanished before commit. */
export class StagedArtifactStateError extends ArtifactStoreError {}

/** Bytes read from the store do not hash to the digest their key names: nothing was cached. */
export class ArtifactIntegrityError extends ArtifactStoreError {
  constructor(
    readonly key: string,
    readonly actualSha256: string,
  ) {
    super(`Artifact ${key} read back with sha256 ${actualSha256}: the stored object is damaged.`);
  }
}
