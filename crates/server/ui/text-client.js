// The generic client for apps with only a room part: the room's messages
// as lines of text, and a line to send. Binary messages show their size.

import { h } from "./dom.js";

const KEEP = 1000;

export class TextClient {
  constructor(container, { onSend }) {
    this.list = h("ol", { role: "log", "aria-live": "polite", "aria-label": "Messages" });
    this.input = h("input", { type: "text", "aria-label": "Message", autocomplete: "off", maxlength: 65536 });
    const form = h("form", {}, this.input, h("button", { class: "primary" }, "Send"));
    form.addEventListener("submit", (e) => {
      e.preventDefault();
      if (!this.input.value) return;
      onSend({ tag: "text", val: this.input.value });
      this.input.value = "";
    });
    container.replaceChildren(h("div", { class: "text-client" }, this.list, form));
    this.input.focus();
  }

  /** Shows an event the runner would give a client part. */
  send(event) {
    if (event.tag === "message") {
      const { tag, val } = event.val;
      this.add(tag === "text" ? val : `(${val.length} bytes of binary)`);
    } else if (event.tag === "connected") {
      this.add("— connected —", "muted");
    } else if (event.tag === "disconnected") {
      this.add(`— disconnected: ${event.val} —`, "muted");
    }
  }

  add(text, className) {
    const atEnd = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 4;
    this.list.append(h("li", { class: className }, text));
    while (this.list.children.length > KEEP) this.list.firstChild.remove();
    if (atEnd) this.list.scrollTop = this.list.scrollHeight;
  }

  focus() {
    this.input.focus();
  }

  stop() {}
}
