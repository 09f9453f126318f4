// When bytes may be kept, or moved to another thread, without copying them: they hold their ArrayBuffer alone.
// The record codec writes a list of numbers a few bytes into a buffer of its own, so that the numbers after its
// header are aligned for a typed view (src/task/record-codec.ts numberArrayBytes); a view into a frame read off a
// socket holds other messages' bytes too, and posting it to a thread would copy all of them.

/** The alignment the record codec gives the numbers of a list: a Float64Array's. */
export const NUMBER_ALIGN = 8;

/** Whether `bytes` end at their buffer's end and start within its first NUMBER_ALIGN bytes (padding, which holds nothing). */
export function ownsItsBuffer(bytes: Uint8Array): boolean {
  return bytes.buffer instanceof ArrayBuffer && bytes.byteOffset < NUMBER_ALIGN && bytes.byteOffset + bytes.byteLength === bytes.buffer.byteLength;
}
