// WASM-4's drawing functions on its framebuffer, as the public WASM-4
// specification describes them: 160×160 pixels, 2 bits each (four to a
// byte, the leftmost in the lowest bits), colours chosen through the
// DRAW_COLORS register (each nibble 0 for transparent or 1-4 for a palette
// entry). Everything is clipped to the screen.

import { FONT } from "./font.js";

export const SIZE = 160;
export const ADDR = {
  palette: 0x04,
  drawColors: 0x14,
  gamepads: 0x16,
  mouseX: 0x1a,
  mouseY: 0x1c,
  mouseButtons: 0x1e,
  systemFlags: 0x1f,
  netplay: 0x20,
  framebuffer: 0xa0,
};
export const FRAMEBUFFER_BYTES = (SIZE * SIZE) / 4;

const BLIT_2BPP = 1;
const BLIT_FLIP_X = 2;
const BLIT_FLIP_Y = 4;
const BLIT_ROTATE = 8;

/** Draws into the framebuffer of one cartridge's memory. */
export class Framebuffer {
  /** @param {WebAssembly.Memory} memory */
  constructor(memory) {
    this.memory = memory;
  }

  get bytes() {
    return new Uint8Array(this.memory.buffer);
  }

  /** The draw colour in nibble `n` (0-3): a palette index 0-3, or -1 for transparent. */
  drawColor(n) {
    const view = new DataView(this.memory.buffer);
    const nibble = (view.getUint16(ADDR.drawColors, true) >> (n * 4)) & 0xf;
    return nibble === 0 ? -1 : (nibble - 1) & 3;
  }

  clear() {
    this.bytes.fill(0, ADDR.framebuffer, ADDR.framebuffer + FRAMEBUFFER_BYTES);
  }

  /** Sets one pixel to palette index `color` (ignored when off screen or transparent). */
  pixel(x, y, color) {
    if (color < 0 || x < 0 || y < 0 || x >= SIZE || y >= SIZE) return;
    const i = y * SIZE + x;
    const at = ADDR.framebuffer + (i >> 2);
    const shift = (i & 3) * 2;
    const bytes = this.bytes;
    bytes[at] = (bytes[at] & ~(3 << shift)) | (color << shift);
  }

  hline(x, y, len, color = this.drawColor(0)) {
    if (color < 0 || y < 0 || y >= SIZE) return;
    const from = Math.max(0, x);
    const to = Math.min(SIZE, x + len);
    for (let px = from; px < to; px++) this.pixel(px, y, color);
  }

  vline(x, y, len, color = this.drawColor(0)) {
    if (color < 0 || x < 0 || x >= SIZE) return;
    const from = Math.max(0, y);
    const to = Math.min(SIZE, y + len);
    for (let py = from; py < to; py++) this.pixel(x, py, color);
  }

  /** A line from (x1, y1) to (x2, y2), both ends included, in draw colour 1. */
  line(x1, y1, x2, y2) {
    const color = this.drawColor(0);
    if (color < 0) return;
    const dx = Math.abs(x2 - x1);
    const dy = -Math.abs(y2 - y1);
    const sx = x1 < x2 ? 1 : -1;
    const sy = y1 < y2 ? 1 : -1;
    let err = dx + dy;
    for (;;) {
      this.pixel(x1, y1, color);
      if (x1 === x2 && y1 === y2) return;
      const e2 = 2 * err;
      if (e2 >= dy) {
        err += dy;
        x1 += sx;
      }
      if (e2 <= dx) {
        err += dx;
        y1 += sy;
      }
    }
  }

  /** A rectangle filled with draw colour 1 and outlined with draw colour 2. */
  rect(x, y, width, height) {
    if (width <= 0 || height <= 0) return;
    const fill = this.drawColor(0);
    const stroke = this.drawColor(1);
    if (fill >= 0) for (let row = y; row < y + height; row++) this.hline(x, row, width, fill);
    if (stroke >= 0) {
      this.hline(x, y, width, stroke);
      this.hline(x, y + height - 1, width, stroke);
      this.vline(x, y, height, stroke);
      this.vline(x + width - 1, y, height, stroke);
    }
  }

  /**
   * An ellipse inside the box (x, y, width, height), filled with draw
   * colour 1 and outlined with draw colour 2: for each row, the span of
   * pixels whose centres lie inside the ellipse.
   */
  oval(x, y, width, height) {
    if (width <= 0 || height <= 0) return;
    const fill = this.drawColor(0);
    const stroke = this.drawColor(1);
    const a = width / 2;
    const b = height / 2;
    const spans = [];
    for (let row = 0; row < height; row++) {
      const dy = (row + 0.5 - b) / b;
      const half = a * Math.sqrt(Math.max(0, 1 - dy * dy));
      const left = Math.round(a - half);
      const right = Math.max(left, Math.round(a + half) - 1);
      spans.push([left, right]);
    }
    const inside = (row, col) => row >= 0 && row < height && col >= spans[row][0] && col <= spans[row][1];
    spans.forEach(([left, right], row) => {
      if (fill >= 0) this.hline(x + left, y + row, right - left + 1, fill);
      if (stroke < 0) return;
      // The outline: pixels of the ellipse with a neighbour outside it.
      for (let col = left; col <= right; col++) {
        const edge = col === left || col === right || !inside(row - 1, col) || !inside(row + 1, col);
        if (edge) this.pixel(x + col, y + row, stroke);
      }
    });
  }

  /**
   * Copies part of a sprite sheet at `sprite` (in memory): `width`×`height`
   * pixels from (srcX, srcY) of a sheet `stride` pixels wide, to (x, y).
   * Pixels are 1 bit (draw colours 1-2) or 2 bits (draw colours 1-4), the
   * leftmost in the highest bits; flags flip and rotate (counter-clockwise).
   */
  blit(sprite, x, y, width, height, srcX, srcY, stride, flags) {
    const bpp2 = (flags & BLIT_2BPP) !== 0;
    const flipX = (flags & BLIT_FLIP_X) !== 0;
    const flipY = (flags & BLIT_FLIP_Y) !== 0;
    const rotate = (flags & BLIT_ROTATE) !== 0;
    const colors = [0, 1, 2, 3].map((n) => this.drawColor(n));
    const bytes = this.bytes;
    // The destination is height×width when rotated.
    const outW = rotate ? height : width;
    const outH = rotate ? width : height;
    for (let row = Math.max(0, -y); row < outH && y + row < SIZE; row++) {
      for (let col = Math.max(0, -x); col < outW && x + col < SIZE; col++) {
        // The pixel of the (flipped) sprite that lands here.
        let sx = rotate ? width - 1 - row : col;
        let sy = rotate ? col : row;
        if (flipX) sx = width - 1 - sx;
        if (flipY) sy = height - 1 - sy;
        const bit = (srcY + sy) * stride + srcX + sx;
        let value;
        if (bpp2) {
          const byte = bytes[(sprite + (bit >> 2)) & 0xffff];
          value = (byte >> (6 - (bit & 3) * 2)) & 3;
        } else {
          const byte = bytes[(sprite + (bit >> 3)) & 0xffff];
          value = (byte >> (7 - (bit & 7))) & 1;
        }
        this.pixel(x + col, y + row, colors[value]);
      }
    }
  }

  /**
   * Text in WASM-4's 8×8 font: ink in draw colour 1, background in draw
   * colour 2; "\n" starts a new line under the first character.
   */
  text(codes, x, y) {
    const ink = this.drawColor(0);
    const paper = this.drawColor(1);
    let cx = x;
    let cy = y;
    for (const code of codes) {
      if (code === 10) {
        cx = x;
        cy += 8;
        continue;
      }
      const glyph = (code & 0xff) * 8;
      for (let row = 0; row < 8; row++) {
        const bits = FONT[glyph + row];
        for (let col = 0; col < 8; col++) {
          this.pixel(cx + col, cy + row, bits & (0x80 >> col) ? ink : paper);
        }
      }
      cx += 8;
    }
  }

  /** The screen as RGBA pixels through the palette, into `out` (160×160×4 bytes). */
  toRgba(out) {
    const view = new DataView(this.memory.buffer);
    const palette = [0, 1, 2, 3].map((i) => view.getUint32(ADDR.palette + i * 4, true));
    const bytes = this.bytes;
    for (let i = 0; i < SIZE * SIZE; i++) {
      const color = palette[(bytes[ADDR.framebuffer + (i >> 2)] >> ((i & 3) * 2)) & 3];
      const o = i * 4;
      out[o] = (color >> 16) & 0xff;
      out[o + 1] = (color >> 8) & 0xff;
      out[o + 2] = color & 0xff;
      out[o + 3] = 255;
    }
    return out;
  }
}
