// Lint rules for the web UI's JavaScript (crates/server/ui: plain ES modules
// for the page, and worker.js with caps/ for the client's Worker) and for
// the browser tests (Node.js, with callbacks run in the page). The base path
// is the repository: run it with `npm run lint` here (scripts/test does).

import js from "@eslint/js";
import globals from "globals";

const rules = {
  ...js.configs.recommended.rules,
  "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
  eqeqeq: ["error", "always", { null: "ignore" }],
  "no-var": "error",
  "prefer-const": "error",
};

export default [
  {
    files: ["crates/server/ui/**/*.js"],
    ignores: ["crates/server/ui/worker.js", "crates/server/ui/caps/**", "crates/server/ui/wasm4/**"],
    languageOptions: { sourceType: "module", globals: globals.browser },
    rules,
  },
  {
    files: ["crates/server/ui/worker.js", "crates/server/ui/caps/**/*.js", "crates/server/ui/wasm4/**/*.js"],
    languageOptions: { sourceType: "module", globals: globals.worker },
    rules,
  },
  {
    files: ["tests/browser/**/*.{js,mjs}"],
    languageOptions: { sourceType: "module", globals: { ...globals.node, ...globals.browser } },
    rules,
  },
];
