// lodge:app/screen in the Worker: a pixel framebuffer drawn on the
// OffscreenCanvas the page transferred (renderers/screen.js), so presenting
// a frame never waits for the page's thread. Indexed pixels go through the
// palette (a Uint32Array of ready-made RGBA words); a dirty rectangle is
// converted and drawn alone. The page is told of mode changes, to rescale.

export const MAX_WIDTH = 1280;
export const MAX_HEIGHT = 720;
const START_MODE = { width: 320, height: 180, format: "rgba8" };
const BYTES_PER_PIXEL = { indexed8: 1, rgba8: 4 };

/** PICO-8's 16 colours, the palette's first entries. */
const PICO8 = [
  0x000000, 0x1d2b53, 0x7e2553, 0x008751, 0xab5236, 0x5f574f, 0xc2c3c7, 0xfff1e8,
  0xff004d, 0xffa300, 0xffec27, 0x00e436, 0x29adff, 0x83769c, 0xff77a8, 0xffccaa,
];

/**
 * The starting palette as 0xRRGGBB: PICO-8's 16, then a 6×6×6 colour cube
 * (without the black PICO-8 has), then greys: 256 distinct colours.
 */
export function startPalette() {
  const colours = [...PICO8];
  const levels = [0x00, 0x33, 0x66, 0x99, 0xcc, 0xff];
  for (const r of levels) {
    for (const g of levels) {
      for (const b of levels) {
        const colour = (r << 16) | (g << 8) | b;
        if (!colours.includes(colour)) colours.push(colour);
      }
    }
  }
  for (let grey = 8; colours.length < 256; grey += 10) colours.push(grey * 0x010101);
  return colours;
}

/** 0xRRGGBB as the little-endian word of an opaque RGBA pixel. */
const word = (rgb) => (0xff000000 | ((rgb & 0xff) << 16) | (rgb & 0xff00) | ((rgb >> 16) & 0xff)) >>> 0;

/** A `result` error as jco expects it: thrown, with the WIT error as `payload`. */
const refuse = (payload) => {
  throw { payload };
};

/** Why a mode is refused, or null. */
function modeProblem({ width, height, format }) {
  if (!(format in BYTES_PER_PIXEL)) return `the pixel format ${format} is not one of indexed8, rgba8`;
  if (width < 1 || height < 1) return `the screen must be at least 1×1 pixels (asked for ${width}×${height})`;
  if (width > MAX_WIDTH || height > MAX_HEIGHT) {
    return `the screen can be at most ${MAX_WIDTH}×${MAX_HEIGHT} pixels (asked for ${width}×${height})`;
  }
  return null;
}

function create(host) {
  const { canvas } = host.start;
  const context = canvas.getContext("2d", { alpha: false });
  const palette = new Uint32Array(startPalette().map(word));
  let mode;
  let image;
  let words;

  /** Sizes the canvas and the image for `next`, black, and tells the page. */
  function apply(next) {
    mode = { ...next };
    canvas.width = mode.width;
    canvas.height = mode.height;
    image = new ImageData(mode.width, mode.height);
    words = new Uint32Array(image.data.buffer);
    words.fill(word(0));
    context.putImageData(image, 0, 0);
    host.post({ type: "screen-mode", width: mode.width, height: mode.height });
  }
  apply(START_MODE);

  /** Copies the rectangle from the guest's bytes into the image, opaque. */
  function convert(pixels, { x, y, width, height }) {
    const stride = mode.width;
    if (mode.format === "rgba8") {
      const aligned = pixels.byteOffset % 4 === 0;
      const source = aligned ? new Uint32Array(pixels.buffer, pixels.byteOffset, pixels.byteLength / 4) : null;
      for (let row = y; row < y + height; row++) {
        const start = row * stride + x;
        if (aligned) {
          words.set(source.subarray(start, start + width), start);
        } else {
          image.data.set(pixels.subarray(start * 4, (start + width) * 4), start * 4);
        }
        for (let i = start; i < start + width; i++) words[i] |= 0xff000000;
      }
    } else {
      for (let row = y; row < y + height; row++) {
        const start = row * stride + x;
        for (let i = start; i < start + width; i++) words[i] = palette[pixels[i]];
      }
    }
  }

  return {
    imports: {
      "lodge:app/screen": {
        getMode: () => ({ ...mode }),
        setMode(next) {
          const problem = modeProblem(next);
          if (problem) refuse(problem);
          apply(next);
        },
        setPalette(first, colours) {
          const count = Math.max(0, Math.min(colours.length, 256 - first));
          for (let i = 0; i < count; i++) palette[first + i] = word(colours[i]);
        },
        present(pixels, dirty) {
          const expected = mode.width * mode.height * BYTES_PER_PIXEL[mode.format];
          if (pixels.length !== expected) {
            refuse(`the frame has ${pixels.length} bytes, but a ${mode.width}×${mode.height} ${mode.format} screen needs ${expected}`);
          }
          const rect = dirty ?? { x: 0, y: 0, width: mode.width, height: mode.height };
          if (rect.x + rect.width > mode.width || rect.y + rect.height > mode.height) {
            refuse(`the dirty rectangle ${rect.width}×${rect.height} at (${rect.x}, ${rect.y}) is outside the ${mode.width}×${mode.height} screen`);
          }
          if (rect.width === 0 || rect.height === 0) return;
          convert(pixels, rect);
          context.putImageData(image, 0, 0, rect.x, rect.y, rect.width, rect.height);
        },
      },
    },
  };
}

export default {
  name: "screen",
  interfaces: ["lodge:app/screen"],
  versions: ["0.2"],
  capability: "screen",
  create,
};
