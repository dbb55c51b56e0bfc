// The account pages' form parts: a labelled field with its hint, a submit
// that shows the server's message inline, and a secret shown once with a
// copy button.

import { h } from "./dom.js";

let hints = 0;

/** A labelled input, with a hint the input is described by. */
export function field(label, input, hint) {
  if (!hint) return h("label", {}, label, input);
  const id = `hint-${++hints}`;
  input.setAttribute("aria-describedby", id);
  return h("div", { class: "field" }, h("label", {}, label, input), h("span", { class: "hint muted", id }, hint));
}

/** The line a form's failure is shown in (read out when it changes). */
export function errorLine() {
  return h("p", { class: "error", role: "alert" });
}

/**
 * Runs `action` when `form` is submitted, its buttons disabled meanwhile;
 * a failure's message (the server's, for an ApiError) goes in `error`.
 */
export function onSubmit(form, error, action) {
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const buttons = [...form.querySelectorAll("button")];
    for (const button of buttons) button.disabled = true;
    error.textContent = "";
    try {
      await action();
    } catch (failure) {
      error.textContent = failure.message;
    } finally {
      for (const button of buttons) button.disabled = false;
    }
  });
}

/** A secret (a token, an invite link) shown once, selectable, with a copy button. */
export function secretBox(label, value) {
  const input = h("input", { type: "text", readonly: true, value, class: "mono", "aria-label": label, spellcheck: "false" });
  const status = h("span", { class: "muted", role: "status" });
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(value);
      status.textContent = "Copied.";
    } catch {
      input.select();
      status.textContent = "Selected: copy it with Ctrl+C (⌘C).";
    }
  };
  input.addEventListener("focus", () => input.select());
  return h("div", { class: "secret" }, input, h("button", { type: "button", onclick: copy }, "Copy"), status);
}

/** Where to go after signing in: `?next=` when it is a page of this site, else `fallback`. */
export function nextPage(fallback) {
  const next = new URLSearchParams(location.search).get("next");
  return next && /^\/(?![/\\])/.test(next) ? next : fallback;
}
