// Key = value fields as rows of two inputs. The textarea stays the field the form sends
// (one "key = value" per line); without this script it is shown and typed into directly.
(function () {
  "use strict";

  function parse(text) {
    return text.split("\n").filter((line) => line.trim()).map((line) => {
      const at = line.indexOf("=");
      return at < 0 ? [line.trim(), ""] : [line.slice(0, at).trim(), line.slice(at + 1).trim()];
    });
  }

  function build(area) {
    const label = document.querySelector(`label[for="${area.id}"]`);
    const name = label ? label.textContent.trim() : area.name;
    const box = document.createElement("div");
    box.className = "kv-rows";
    const list = document.createElement("div");
    list.className = "kv-list";
    const add = document.createElement("button");
    add.type = "button";
    add.className = "button button-ghost button-small";
    add.textContent = area.dataset.addLabel || "Add a row";

    function sync() {
      const lines = [];
      list.querySelectorAll(".kv-row").forEach((row) => {
        const [key, value] = row.querySelectorAll("input");
        if (key.value.trim() || value.value.trim()) lines.push(`${key.value.trim()} = ${value.value.trim()}`);
      });
      area.value = lines.join("\n");
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }

    function row(key, value) {
      const item = document.createElement("div");
      item.className = "kv-row";
      const number = list.children.length + 1;
      const keyInput = document.createElement("input");
      keyInput.type = "text";
      keyInput.value = key;
      keyInput.placeholder = area.dataset.keyLabel || "key";
      keyInput.setAttribute("aria-label", `${name}: ${area.dataset.keyLabel || "key"} ${number}`);
      const valueInput = document.createElement("input");
      valueInput.type = "text";
      valueInput.value = value;
      valueInput.placeholder = area.dataset.valueLabel || "value";
      valueInput.setAttribute("aria-label", `${name}: ${area.dataset.valueLabel || "value"} ${number}`);
      const remove = document.createElement("button");
      remove.type = "button";
      remove.className = "button button-ghost button-small";
      remove.textContent = "×";
      remove.setAttribute("aria-label", `${area.dataset.removeLabel || "Remove row"} ${number}`);
      remove.addEventListener("click", () => { item.remove(); sync(); add.focus(); });
      keyInput.addEventListener("input", sync);
      valueInput.addEventListener("input", sync);
      item.append(keyInput, valueInput, remove);
      list.append(item);
      return keyInput;
    }

    parse(area.value).forEach(([key, value]) => row(key, value));
    if (!list.children.length) row("", "");
    add.addEventListener("click", () => row("", "").focus());
    box.append(list, add);
    area.hidden = true;
    area.after(box);
    if (label) label.htmlFor = list.querySelector("input").id = `${area.id}_first_key`;
  }

  function setUp() {
    document.querySelectorAll("textarea[data-key-value]:not([hidden])").forEach(build);
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
