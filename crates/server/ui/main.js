// The web UI's composition root: makes the API client (with the token
// dialog) and routes each address to its view. The runner is loaded only
// when a page plays an app. Routes:
//   /                   apps, upload                        views/list.js
//   /app/NAME           versions, parts, live rooms, delete views/app.js
//   /play/NAME          choose a room (or run a client-only app)  views/choose.js
//   /play/NAME/ROOM     the runner                          views/play.js

import { Api } from "./api.js";
import { h, show, showProblem } from "./dom.js";
import { askToken } from "./token-dialog.js";
import { appView } from "./views/app.js";
import { chooseView } from "./views/choose.js";
import { listView } from "./views/list.js";

const api = new Api({ askToken });
/** The view on screen, and what it started. */
let visit = null;
/** The page (path and query) on screen; a change of #fragment only is not a navigation. */
let shown = null;

/**
 * One stay on a page, handed to its view: the API, navigation, whether the
 * page is still the one shown (a view still loading may have been left),
 * and what to stop when it is left.
 */
function startVisit() {
  const onLeave = [];
  let left = false;
  return {
    api,
    navigate,
    current: () => !left,
    /** Runs `refresh` every `ms` while the page is shown; its failures are ignored. */
    every(ms, refresh) {
      const timer = setInterval(() => refresh().catch(() => {}), ms);
      onLeave.push(() => clearInterval(timer));
    },
    onLeave: (stop) => onLeave.push(stop),
    leave() {
      left = true;
      for (const stop of onLeave.splice(0)) stop();
    },
  };
}

function route() {
  visit?.leave();
  visit = startVisit();
  shown = location.pathname + location.search;
  const parts = location.pathname.split("/").filter(Boolean).map(decodeURIComponent);
  if (parts.length === 0) return guarded(listView(visit));
  if (parts[0] === "app" && parts.length === 2) return guarded(appView(visit, parts[1]));
  if (parts[0] === "play" && parts.length === 2) return guarded(chooseView(visit, parts[1]));
  if (parts[0] === "play" && parts.length === 3) {
    const mine = visit;
    return import("./views/play.js").then((play) => mine.current() && play.playView(mine, parts[1], parts[2]));
  }
  show("Not found", h("h1", {}, "Not found"), h("p", {}, h("a", { href: "/" }, "Back to the apps")));
}

/** Waits for a view, showing API failures in the page instead of an empty screen. */
async function guarded(loading) {
  try {
    await loading;
  } catch (e) {
    showProblem("Error", "Something went wrong", e.message);
  }
}

function navigate(path) {
  history.pushState(null, "", path);
  route();
}

// Same-origin links navigate without reloading.
document.addEventListener("click", (e) => {
  const a = e.target.closest("a[href^='/']");
  if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || a.target) return;
  // Only the UI's own pages are routed here; the API and apps' http parts load for real.
  if (!/^\/(app\/|play\/|$)/.test(a.getAttribute("href"))) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => {
  // Following "#main" (the skip link) changes only the fragment: stay.
  if (location.pathname + location.search !== shown) route();
});
route();
