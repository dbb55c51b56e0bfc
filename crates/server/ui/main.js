// The web UI's composition root: makes the API client (with the sign-in
// and token dialogs), asks who is signed in, keeps the header's account
// corner current, and routes each address to its view. The runner is
// loaded only when a page plays an app. Routes:
//   /                   apps, upload                        views/list.js
//   /app/NAME           versions, parts, live rooms, owners, delete  views/app.js
//   /play/NAME          choose a room (or run a client-only app)  views/choose.js
//   /play/NAME/ROOM     the runner                          views/play.js
//   /signin, /signup, /setup   signing in, up, the first admin's password  views/signin.js
//   /me                 my apps, usage, password, deleting the account  views/me.js
//   /tokens             API tokens                          views/tokens.js
//   /admin              users, invites, transfers           views/admin.js

import { renderNav } from "./account-nav.js";
import { Api } from "./api.js";
import { h, show, showProblem } from "./dom.js";
import { askSignIn } from "./signin-dialog.js";
import { askToken } from "./token-dialog.js";
import { adminView } from "./views/admin.js";
import { appView } from "./views/app.js";
import { chooseView } from "./views/choose.js";
import { listView } from "./views/list.js";
import { meView } from "./views/me.js";
import { setupView, signInView, signUpView } from "./views/signin.js";
import { tokensView } from "./views/tokens.js";

const api = new Api({ askToken, askSignIn });
/** Pages of the UI itself; other same-origin links (the API, apps' http parts) load for real. */
const PAGES = /^\/(app\/|play\/|(signin|signup|setup|me|tokens|admin)?([?#]|$))/;
const ACCOUNT_VIEWS = { signin: signInView, signup: signUpView, setup: setupView, me: meView, tokens: tokensView, admin: adminView };
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
  if (parts.length === 1 && Object.hasOwn(ACCOUNT_VIEWS, parts[0])) return guarded(ACCOUNT_VIEWS[parts[0]](visit));
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
  if (!PAGES.test(a.getAttribute("href"))) return;
  e.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => {
  // Following "#main" (the skip link) changes only the fragment: stay.
  if (location.pathname + location.search !== shown) route();
});
api.onChange(() => renderNav(api, navigate));
renderNav(api, navigate);
// Who is signed in decides what the first page shows; a server that can't
// say is treated as signed out.
api.refresh().catch(() => null).finally(route);
