// A WASM-4 console for one cartridge: its memory (one 64 KiB page, laid
// out as the WASM-4 memory map says), the `env` functions it imports,
// `start` once and `update` once per frame, its gamepads and mouse, its
// 1 KiB disk and its trace output. Drawing, sound, saving the disk and
// showing the screen are left to whoever runs it (the Worker's host module).

import { ADDR, Framebuffer, SIZE } from "./draw.js";
import { toneCommand } from "./sound.js";

export const DISK_BYTES = 1024;
const PALETTE = [0xe0f8cf, 0x86c06c, 0x306850, 0x071821];
const DRAW_COLORS = 0x1203;
const PRESERVE_FRAMEBUFFER = 1;

export class Wasm4 {
  /**
   * @param {{disk?: Uint8Array, trace(text), tone(command), saveDisk(bytes)}} host
   *   disk: what the cartridge saved last time (up to 1 KiB);
   *   trace(text): a line the cartridge traced;
   *   tone(command): a note for the audio worklet (sound.js);
   *   saveDisk(bytes): the disk after a write, to keep for next time.
   */
  constructor(host) {
    this.host = host;
    this.memory = new WebAssembly.Memory({ initial: 1, maximum: 1 });
    this.screen = new Framebuffer(this.memory);
    this.disk = new Uint8Array(host.disk?.slice(0, DISK_BYTES) ?? []);
    this.exports = null;
    const view = new DataView(this.memory.buffer);
    PALETTE.forEach((color, i) => view.setUint32(ADDR.palette + i * 4, color, true));
    view.setUint16(ADDR.drawColors, DRAW_COLORS, true);
  }

  /** Instantiates the cartridge (a compiled module) and runs its `start`. */
  async start(module) {
    const instance = await WebAssembly.instantiate(module, { env: this.imports() });
    this.exports = instance.exports;
    this.exports.start?.();
  }

  /**
   * One frame: the input goes into memory, the framebuffer is cleared
   * (unless the cartridge asked to keep it), and `update` runs.
   * @param {{gamepads: number[], mouse: {x, y, buttons}}} input
   */
  update({ gamepads, mouse }) {
    const bytes = new Uint8Array(this.memory.buffer);
    const view = new DataView(this.memory.buffer);
    for (let i = 0; i < 4; i++) bytes[ADDR.gamepads + i] = gamepads[i] ?? 0;
    view.setInt16(ADDR.mouseX, mouse.x, true);
    view.setInt16(ADDR.mouseY, mouse.y, true);
    bytes[ADDR.mouseButtons] = mouse.buttons;
    if (!(bytes[ADDR.systemFlags] & PRESERVE_FRAMEBUFFER)) this.screen.clear();
    this.exports.update?.();
  }

  /** The screen as RGBA, into `out` (160×160×4 bytes). */
  pixels(out = new Uint8ClampedArray(SIZE * SIZE * 4)) {
    return this.screen.toRgba(out);
  }

  /** The `env` functions of the WASM-4 API. */
  imports() {
    const screen = this.screen;
    const bytes = () => new Uint8Array(this.memory.buffer);
    const utf8 = new TextDecoder();
    const utf16 = new TextDecoder("utf-16le");
    /** The bytes of a NUL-terminated string at `ptr`. */
    const cString = (ptr) => {
      const memory = bytes();
      let end = ptr;
      while (end < memory.length && memory[end] !== 0) end++;
      return memory.subarray(ptr, end);
    };
    const slice = (ptr, len) => bytes().subarray(ptr, ptr + len);
    return {
      memory: this.memory,
      blit: (sprite, x, y, width, height, flags) => screen.blit(sprite, x, y, width, height, 0, 0, width, flags),
      blitSub: (sprite, x, y, width, height, srcX, srcY, stride, flags) =>
        screen.blit(sprite, x, y, width, height, srcX, srcY, stride, flags),
      line: (x1, y1, x2, y2) => screen.line(x1, y1, x2, y2),
      hline: (x, y, len) => screen.hline(x, y, len),
      vline: (x, y, len) => screen.vline(x, y, len),
      oval: (x, y, width, height) => screen.oval(x, y, width, height),
      rect: (x, y, width, height) => screen.rect(x, y, width, height),
      text: (ptr, x, y) => screen.text(cString(ptr), x, y),
      textUtf8: (ptr, len, x, y) => screen.text(latin1(utf8.decode(slice(ptr, len))), x, y),
      textUtf16: (ptr, len, x, y) => screen.text(latin1(utf16.decode(slice(ptr, len))), x, y),
      tone: (frequency, duration, volume, flags) =>
        this.host.tone(toneCommand(frequency >>> 0, duration >>> 0, volume >>> 0, flags >>> 0)),
      diskr: (ptr, size) => {
        const n = Math.max(0, Math.min(size >>> 0, this.disk.length));
        bytes().set(this.disk.subarray(0, n), ptr);
        return n;
      },
      diskw: (ptr, size) => {
        const n = Math.max(0, Math.min(size >>> 0, DISK_BYTES));
        this.disk = slice(ptr, n).slice();
        this.host.saveDisk(this.disk);
        return n;
      },
      trace: (ptr) => this.host.trace(utf8.decode(cString(ptr))),
      traceUtf8: (ptr, len) => this.host.trace(utf8.decode(slice(ptr, len))),
      traceUtf16: (ptr, len) => this.host.trace(utf16.decode(slice(ptr, len))),
      tracef: (fmt, args) => this.host.trace(format(new DataView(this.memory.buffer), cString(fmt), args, cString)),
    };
  }
}

/** Character codes of `text` for the font (printable ASCII; anything else, WASM-4's button glyphs at 0x80-0x87 included, draws as a box). */
const latin1 = (text) => Array.from(text, (ch) => Math.min(ch.codePointAt(0), 0x7f + 1));

/** `tracef`'s printf: %c %d %x %s %f read in turn from the argument stack at `args`. */
function format(view, fmt, args, cString) {
  let out = "";
  for (let i = 0; i < fmt.length; i++) {
    const ch = String.fromCharCode(fmt[i]);
    if (ch !== "%" || i + 1 >= fmt.length) {
      out += ch;
      continue;
    }
    const spec = String.fromCharCode(fmt[++i]);
    switch (spec) {
      case "c":
        out += String.fromCharCode(view.getInt32(args, true));
        args += 4;
        break;
      case "d":
        out += view.getInt32(args, true);
        args += 4;
        break;
      case "x":
        out += (view.getInt32(args, true) >>> 0).toString(16);
        args += 4;
        break;
      case "s":
        out += new TextDecoder().decode(cString(view.getUint32(args, true)));
        args += 4;
        break;
      case "f":
        args = (args + 7) & ~7; // doubles are 8-byte aligned on the stack
        out += view.getFloat64(args, true);
        args += 8;
        break;
      default:
        out += `%${spec}`;
    }
  }
  return out;
}
