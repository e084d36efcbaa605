export { UploadError, fileTooLarge, formatBytes, type UploadErrorReason } from "./errors";
export { MAX_FILENAME_LENGTH, sanitizeFilename } from "./filename";
export { requestFromNode, sendResponse } from "./node-adapter";
export {
  DEFAULT_MAX_FIELD_BYTES,
  DEFAULT_MAX_FIELDS,
  FILE_FIELD,
  readUpload,
  type ReadUploadOptions,
  type Upload,
} from "./read-upload";
