// The text grid renderer: cells of one character with a foreground and
// background colour, drawn as text (crisp at any zoom, and readable by
// screen readers and tests: each row is a line of text). Keyboard and
// pointer input are turned into cell events. Its Worker half is
// caps/terminal.js.

import { h } from "../dom.js";
import { listenKeys, modifiers } from "./keys.js";

const MIN_COLS = 20;
const MIN_ROWS = 8;
const FONT_KEY = "lodge.fontSize";
const DEFAULT_FG = "rgb(225 228 235)";
const DEFAULT_BG = "rgb(24 26 33)";

/** A WIT rgb record as a CSS colour; cells keep these strings, so runs compare cheaply. */
const css = ({ r, g, b }) => `rgb(${r} ${g} ${b})`;

class Terminal {
  /**
   * @param {HTMLElement} el  the element to draw in (it gets focus for keys)
   * @param {{onEvent: (event) => void}} handlers  receives key, pointer and resize events
   */
  constructor(el, { onEvent }) {
    this.el = el;
    this.onEvent = onEvent;
    this.fontSize = Number(localStorage.getItem(FONT_KEY)) || 16;
    this.cols = 0;
    this.rows = 0;
    this.cells = [];
    this.dirty = new Set();
    this.frame = 0;
    this.lastCell = null;
    el.classList.add("terminal");
    el.tabIndex = 0;
    el.setAttribute("role", "document");
    el.setAttribute("aria-roledescription", "text screen");
    this.measureEl = document.createElement("span");
    this.measureEl.className = "measure";
    this.measureEl.setAttribute("aria-hidden", "true");
    this.measureEl.textContent = "M".repeat(20);
    el.append(this.measureEl);
    this.rowsEl = document.createElement("div");
    el.append(this.rowsEl);
    this.applyFont();
    this.listen();
    this.resizes = new ResizeObserver(() => this.fit(true));
    this.resizes.observe(el);
  }

  get size() {
    return { cols: this.cols, rows: this.rows };
  }

  /** Stops following the element's size. */
  stop() {
    this.resizes.disconnect();
  }

  /** Makes text larger (+1) or smaller (-1). */
  zoom(step) {
    this.fontSize = Math.min(40, Math.max(9, this.fontSize + step));
    localStorage.setItem(FONT_KEY, String(this.fontSize));
    this.applyFont();
    this.fit(true);
  }

  applyFont() {
    this.el.style.fontSize = `${this.fontSize}px`;
    const rect = this.measureEl.getBoundingClientRect();
    this.cellW = rect.width / 20 || this.fontSize * 0.6;
    this.cellH = Math.ceil(this.fontSize * 1.25);
    this.el.style.setProperty("--cell-h", `${this.cellH}px`);
  }

  /** Sizes the grid to the element; tells the client when it changed. */
  fit(notify) {
    const style = getComputedStyle(this.el);
    const width = this.el.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const height = this.el.clientHeight - parseFloat(style.paddingTop) - parseFloat(style.paddingBottom);
    const cols = Math.max(MIN_COLS, Math.floor(width / this.cellW));
    const rows = Math.max(MIN_ROWS, Math.floor(height / this.cellH));
    if (cols === this.cols && rows === this.rows) return false;
    this.cols = cols;
    this.rows = rows;
    this.cells = Array.from({ length: rows }, () => this.blankRow(DEFAULT_BG));
    this.rowsEl.replaceChildren(...Array.from({ length: rows }, () => {
      const row = document.createElement("div");
      row.className = "row";
      return row;
    }));
    for (let r = 0; r < rows; r++) this.dirty.add(r);
    this.schedule();
    if (notify) this.onEvent({ tag: "resize", val: this.size });
    return true;
  }

  blankRow(bg) {
    return Array.from({ length: this.cols }, () => ({ ch: " ", fg: DEFAULT_FG, bg }));
  }

  /** Applies drawing operations from the client: ["clear", bg] and ["write", col, row, text, fg, bg]. */
  apply(ops) {
    for (const op of ops) {
      if (op[0] === "clear") {
        const bg = css(op[1]);
        this.cells = Array.from({ length: this.rows }, () => this.blankRow(bg));
        for (let r = 0; r < this.rows; r++) this.dirty.add(r);
      } else if (op[0] === "write") {
        const [, col, row, text, fg, bg] = op;
        if (row >= this.rows) continue;
        const cells = this.cells[row];
        const fgc = css(fg);
        const bgc = css(bg);
        let c = col;
        for (const ch of text) {
          if (c >= this.cols) break;
          // One cell per character; control characters show as spaces.
          cells[c] = { ch: ch < " " ? " " : ch, fg: fgc, bg: bgc };
          c++;
        }
        this.dirty.add(row);
      }
    }
    this.schedule();
  }

  schedule() {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.render());
  }

  render() {
    this.frame = 0;
    for (const r of this.dirty) {
      const rowEl = this.rowsEl.children[r];
      if (!rowEl) continue;
      const runs = [];
      let run = null;
      for (const cell of this.cells[r]) {
        // A full block is drawn as its background, so blocks on adjacent
        // rows join without the gap a glyph leaves in the line height.
        const block = cell.ch === "█";
        const ch = block ? " " : cell.ch;
        const bg = block ? cell.fg : cell.bg;
        if (run && run.fg === cell.fg && run.bg === bg) run.text += ch;
        else runs.push((run = { fg: cell.fg, bg, text: ch }));
      }
      rowEl.replaceChildren(...runs.map((run) => {
        const span = document.createElement("span");
        span.style.color = run.fg;
        span.style.background = run.bg;
        span.textContent = run.text;
        return span;
      }));
    }
    this.dirty.clear();
  }

  /** The grid's text, one line per row, trailing spaces trimmed. */
  text() {
    return this.cells.map((row) => row.map((c) => c.ch).join("").trimEnd()).join("\n");
  }

  cellAt(e) {
    const rect = this.rowsEl.getBoundingClientRect();
    const col = Math.floor((e.clientX - rect.left) / this.cellW);
    const row = Math.floor((e.clientY - rect.top) / this.cellH);
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return null;
    return { col, row };
  }

  /** A pointer event on a cell, as the page sends every client (events.js gives 0.1 clients col and row). */
  pointer(kind, cell, e) {
    return { kind, x: cell.col, y: cell.row, button: Math.max(0, e.button), buttons: e.buttons & 7, inside: true, modifiers: modifiers(e) };
  }

  listen() {
    listenKeys(this.el, this.onEvent);
    const pointer = (kind) => (e) => {
      const cell = this.cellAt(e);
      if (!cell) return;
      if (kind === "down") this.el.focus();
      if (kind === "move") {
        const same = this.lastCell && this.lastCell.col === cell.col && this.lastCell.row === cell.row;
        this.lastCell = cell;
        if (same) return;
      }
      this.onEvent({ tag: "pointer", val: this.pointer(kind, cell, e) });
    };
    this.el.addEventListener("pointerdown", pointer("down"));
    this.el.addEventListener("pointerup", pointer("up"));
    this.el.addEventListener("pointermove", pointer("move"));
    this.el.addEventListener("contextmenu", (e) => e.preventDefault());
    this.el.addEventListener("wheel", (e) => {
      const cell = this.cellAt(e);
      if (!cell || e.deltaY === 0) return;
      e.preventDefault();
      const kind = e.deltaY < 0 ? "wheel-up" : "wheel-down";
      this.onEvent({ tag: "pointer", val: { ...this.pointer(kind, cell, e), button: 0 } });
    }, { passive: false });
  }
}

export default {
  capability: "terminal",
  mount(stage, { label, onEvent }) {
    const el = h("div", { "aria-label": label });
    stage.replaceChildren(el);
    const terminal = new Terminal(el, { onEvent });
    terminal.fit(false);
    const zoom = (step) => () => terminal.zoom(step);
    return {
      el,
      controls: [
        h("button", { onclick: zoom(-1), "aria-label": "Smaller text" }, "A−"),
        h("button", { onclick: zoom(1), "aria-label": "Larger text" }, "A+"),
      ],
      // The client world's init event carries the grid's size.
      start: () => ({ init: { size: terminal.size }, data: { terminal: { size: terminal.size } } }),
      outputs: { draw: ({ ops }) => terminal.apply(ops) },
      stop: () => terminal.stop(),
    };
  },
};
