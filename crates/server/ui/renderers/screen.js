// The pixel screen renderer: a <canvas> whose drawing is done in the
// client's Worker (its control is transferred there as an OffscreenCanvas;
// caps/screen.js draws). Here it is scaled by whole multiples of device
// pixels to fit the stage, centred on black (letterboxed) and never
// smoothed; pointer positions are turned into screen pixels and keys into
// key-down and key-up events.

import { h } from "../dom.js";
import { listenKeys, modifiers } from "./keys.js";

const START = { width: 320, height: 180 };
const POINTER_KINDS = { pointerdown: "down", pointerup: "up", pointermove: "move" };

/**
 * The on-page size of a `width`×`height` screen in a box of `boxW`×`boxH`
 * CSS pixels: the largest whole multiple of device pixels that fits, or
 * (when even one device pixel per screen pixel does not) the size that fits.
 */
export function fitScale(width, height, boxW, boxH, ratio = 1) {
  const fit = Math.min((boxW * ratio) / width, (boxH * ratio) / height);
  const scale = fit >= 1 ? Math.floor(fit) : fit;
  return { width: (width * scale) / ratio, height: (height * scale) / ratio, scale: scale / ratio };
}

class Screen {
  constructor(box, { label, onEvent }) {
    this.box = box;
    this.label = label;
    this.onEvent = onEvent;
    this.mode = { ...START };
    this.scale = 1;
    this.last = null;
    box.classList.add("screen");
    this.fresh();
    this.resizes = new ResizeObserver(() => this.fit());
    this.resizes.observe(box);
  }

  /** A new canvas: each client run transfers its own (a canvas transfers once). */
  fresh() {
    const canvas = h("canvas", { "aria-label": this.label, role: "application", "aria-roledescription": "pixel screen", tabindex: 0 });
    canvas.width = START.width;
    canvas.height = START.height;
    this.box.replaceChildren(canvas);
    if (this.canvas) canvas.inert = this.canvas.inert;
    this.canvas = canvas;
    this.mode = { ...START };
    listenKeys(canvas, this.onEvent);
    this.listenPointer(canvas);
    this.fit();
    return canvas;
  }

  /** Sizes the canvas on the page for the mode and the box. */
  fit() {
    const size = fitScale(this.mode.width, this.mode.height, this.box.clientWidth, this.box.clientHeight, devicePixelRatio);
    this.scale = size.scale;
    this.canvas.style.width = `${size.width}px`;
    this.canvas.style.height = `${size.height}px`;
  }

  setMode({ width, height }) {
    this.mode = { width, height };
    this.fit();
  }

  /** The screen pixel under a pointer event, and whether it is on the screen. */
  at(e) {
    const rect = this.canvas.getBoundingClientRect();
    const x = Math.floor((e.clientX - rect.left) / this.scale);
    const y = Math.floor((e.clientY - rect.top) / this.scale);
    return { x, y, inside: x >= 0 && y >= 0 && x < this.mode.width && y < this.mode.height };
  }

  listenPointer(canvas) {
    const send = (kind, e, button) => {
      const { x, y, inside } = this.at(e);
      if (kind === "move") {
        if (this.last && this.last.x === x && this.last.y === y) return;
        this.last = { x, y };
      }
      this.onEvent({ tag: "pointer", val: { kind, x, y, button, buttons: e.buttons & 7, inside, modifiers: modifiers(e) } });
    };
    for (const [type, kind] of Object.entries(POINTER_KINDS)) {
      canvas.addEventListener(type, (e) => {
        if (kind === "down") {
          canvas.focus();
          // Held buttons keep reporting outside the screen, as the WIT says.
          canvas.setPointerCapture(e.pointerId);
        }
        send(kind, e, Math.max(0, e.button));
      });
    }
    canvas.addEventListener("pointerleave", (e) => {
      this.last = null;
      this.onEvent({ tag: "pointer-state", val: { ...this.at(e), buttons: e.buttons & 7, inside: false } });
    });
    canvas.addEventListener("contextmenu", (e) => e.preventDefault());
    canvas.addEventListener("wheel", (e) => {
      if (e.deltaY === 0) return;
      e.preventDefault();
      send(e.deltaY < 0 ? "wheel-up" : "wheel-down", e, 0);
    }, { passive: false });
  }

  stop() {
    this.resizes.disconnect();
  }
}

export default {
  capability: "screen",
  mount(stage, { label, onEvent }) {
    const box = h("div", {});
    stage.replaceChildren(box);
    const screen = new Screen(box, { label, onEvent });
    return {
      get el() {
        return screen.canvas;
      },
      controls: [],
      start() {
        const offscreen = screen.fresh().transferControlToOffscreen();
        return { init: {}, data: { screen: { canvas: offscreen } }, transfer: [offscreen] };
      },
      outputs: { "screen-mode": (mode) => screen.setMode(mode) },
      stop: () => screen.stop(),
    };
  },
};
