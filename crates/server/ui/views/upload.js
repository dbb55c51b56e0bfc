// The upload panel: drop a bundle (from `lodge app pack DIR`) or choose one.

import { h } from "../dom.js";

export function uploadPanel(api, onPublished) {
  const input = h("input", { type: "file", id: "bundle", accept: ".gz,.tgz,application/gzip", class: "visually-hidden", tabindex: -1 });
  const progress = h("progress", { max: 1, value: 0, hidden: true });
  const result = h("div", { role: "status", "aria-live": "polite" });
  const drop = h("div", { class: "drop" },
    h("p", {}, "Drop a bundle here, or ", h("label", { for: "bundle", class: "button", tabindex: 0, role: "button",
      onkeydown: (e) => (e.key === "Enter" || e.key === " ") && (e.preventDefault(), input.click()) }, "choose a file"), "."),
    h("p", { class: "muted" }, "Make one with ", h("span", { class: "mono" }, "lodge app pack DIR"), ". ",
      api.account ? `It is published as ${api.account.username}.` : "Uploading asks you to sign in."),
    input, progress);
  const upload = async (file) => {
    if (!file) return;
    progress.hidden = false;
    progress.value = 0;
    result.replaceChildren(h("p", {}, `Uploading ${file.name}…`));
    try {
      const answer = await api.authorized("POST", "/apps", file, (fraction) => (progress.value = fraction));
      const verb = answer.status === "unchanged" ? "was already published" : "published";
      result.replaceChildren(h("p", { class: "notice" }, `${answer.name}@${answer.version} ${verb}. `,
        h("a", { href: `/app/${answer.name}` }, "Open it")));
      onPublished();
    } catch (e) {
      result.replaceChildren(h("p", { class: "notice error", role: "alert" }, `Upload refused: ${e.message}`));
    } finally {
      progress.hidden = true;
      input.value = "";
    }
  };
  input.addEventListener("change", () => upload(input.files[0]));
  drop.addEventListener("dragover", (e) => {
    e.preventDefault();
    drop.classList.add("over");
  });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (e) => {
    e.preventDefault();
    drop.classList.remove("over");
    upload(e.dataTransfer.files[0]);
  });
  return h("section", { "aria-labelledby": "upload-title" }, h("h2", { id: "upload-title" }, "Upload"), drop, result);
}
