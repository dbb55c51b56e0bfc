// Building the page: elements from text (never parsed as HTML), and
// replacing what the page shows.

/** Builds an element: h("a", {href: "/"}, "text", child, ...). Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === false || value == null) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replaces the page's content and title. */
export function show(title, ...children) {
  document.title = title ? `${title} · Lodge` : "Lodge";
  const main = document.getElementById("main");
  main.className = "";
  main.replaceChildren(...children.filter((child) => child != null && child !== false));
  // Tell keyboard and screen-reader users the page changed (views that
  // want an input focused move focus on from here).
  main.focus({ preventScroll: true });
  return main;
}

/** A page saying something went wrong, with a way back. */
export function showProblem(title, heading, message, back = h("a", { href: "/" }, "Back to the apps")) {
  return show(title, h("h1", {}, heading), h("p", { class: "notice error", role: "alert" }, message), h("p", {}, back));
}
