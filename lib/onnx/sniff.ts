/**
 * Recognises common file formats from their first bytes, only to word the error for a file that
 * is not an ONNX model ("looks like a ZIP archive"). Never used to accept a file.
 */

const startsWith = (head: Uint8Array, sig: number[], at = 0) =>
  head.length >= at + sig.length && sig.every((b, i) => head[at + i] === b);
const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** A short description such as "a ZIP archive", or null when nothing is recognised. */
export function describeFileKind(head: Uint8Array): string | null {
  if (startsWith(head, [0x50, 0x4b, 0x03, 0x04]) || startsWith(head, [0x50, 0x4b, 0x05, 0x06])) {
    // PyTorch .pt/.pth and Keras .keras files are ZIP archives too.
    return "a ZIP archive (PyTorch .pt and Keras .keras files are ZIP archives)";
  }
  if (startsWith(head, [0x1f, 0x8b])) return "a gzip-compressed file";
  if (startsWith(head, ascii("ORTM"), 4)) {
    return "an ONNX Runtime (.ort) model, not an .onnx file";
  }
  if (startsWith(head, ascii("TFL3"), 4)) return "a TensorFlow Lite model";
  if (startsWith(head, [0x89, 0x48, 0x44, 0x46])) return "an HDF5 file (such as a Keras .h5 model)";
  if (startsWith(head, [0x93, ...ascii("NUMPY")])) return "a NumPy array file";
  if (startsWith(head, [0x80]) && head.length > 1 && head[1]! >= 2 && head[1]! <= 5) {
    return "a Python pickle";
  }
  if (startsWith(head, ascii("%PDF"))) return "a PDF document";
  if (startsWith(head, [0x89, ...ascii("PNG")])) return "a PNG image";
  if (startsWith(head, [0xff, 0xd8, 0xff])) return "a JPEG image";
  if (startsWith(head, ascii("GGUF"))) return "a GGUF model";
  if (startsWith(head, [0x7f, ...ascii("ELF")])) return "an executable";
  if (looksLikeSafetensors(head)) return "a safetensors file";
  return describeText(head);
}

/** safetensors: an 8-byte little-endian header length, then a JSON header. */
function looksLikeSafetensors(head: Uint8Array): boolean {
  return head.length > 10 && head[8] === 0x7b && head[9] === 0x22 && head[6] === 0 && head[7] === 0;
}

function describeText(head: Uint8Array): string | null {
  if (head.length === 0) return null;
  let text: string;
  try {
    // A multi-byte character cut by the end of the sample is not a reason to say "binary".
    text = new TextDecoder("utf-8", { fatal: true }).decode(head.subarray(0, trimCut(head)));
  } catch {
    return null;
  }
  // Control characters other than tab, LF, form feed and CR mean binary.
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if ((c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0c && c !== 0x0d) || c === 0x7f) {
      return null;
    }
  }
  const t = text.trimStart();
  if (t.startsWith("{") || t.startsWith("[")) return "a JSON text file";
  if (/^<(!doctype|html|\?xml)/i.test(t)) return "an HTML or XML text file";
  if (/^ir_version\s*:/.test(t) || t.startsWith("<\n") || /^<\s*ir_version/.test(t)) {
    return "ONNX's text format, not the binary .onnx format";
  }
  return "a text file";
}

/** Length of `head` without a trailing incomplete UTF-8 sequence. */
function trimCut(head: Uint8Array): number {
  let i = head.length;
  let back = 0;
  while (i > 0 && back < 4 && (head[i - 1]! & 0xc0) === 0x80) {
    i--;
    back++;
  }
  if (i > 0 && head[i - 1]! >= 0xc0) {
    const lead = head[i - 1]!;
    const need = lead >= 0xf0 ? 3 : lead >= 0xe0 ? 2 : 1;
    if (back < need) return i - 1;
  }
  return head.length;
}
