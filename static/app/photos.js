/* A picked photo made ready to upload: decoded upright (EXIF orientation applied), checked
   against the server's minimum side, downscaled to at most `limits.upload_side` px, JPEG. */

import { T } from "./ui.js";

const MAX_FILE = 40 * 1024 * 1024; // bigger files are not phone photos; decoding them hurts

/** Thrown with a message for the slot. */
export class PhotoRefused extends Error {}

async function decode(file) {
  try {
    return await createImageBitmap(file, { imageOrientation: "from-image" });
  } catch (e) {
    const url = URL.createObjectURL(file);
    const img = new Image();
    img.src = url;
    try {
      await img.decode();
      return img;
    } catch (e2) {
      throw new PhotoRefused(T.notImage);
    } finally {
      URL.revokeObjectURL(url);
    }
  }
}

/** The photo as a JPEG blob ready to upload, or a PhotoRefused saying why not. */
export async function prepare(file, limits) {
  if (file.type && !/^image\//.test(file.type)) throw new PhotoRefused(T.notImage);
  if (file.size > MAX_FILE) throw new PhotoRefused(T.tooBig);
  const src = await decode(file);
  const w0 = src.width || src.naturalWidth, h0 = src.height || src.naturalHeight;
  if (Math.min(w0, h0) < limits.min_side) {
    if (src.close) src.close();
    throw new PhotoRefused(T.tooSmall({ width: w0, height: h0, min_side: limits.min_side }));
  }
  const scale = Math.min(1, limits.upload_side / Math.max(w0, h0));
  const canvas = document.createElement("canvas");
  canvas.width = Math.round(w0 * scale);
  canvas.height = Math.round(h0 * scale);
  const g = canvas.getContext("2d");
  g.imageSmoothingQuality = "high";
  g.drawImage(src, 0, 0, canvas.width, canvas.height);
  if (src.close) src.close();
  const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.88));
  canvas.width = canvas.height = 0; // free the bitmap now: phones have little memory
  return blob;
}
