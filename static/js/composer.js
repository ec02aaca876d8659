// The composer's schedule fields: show those of the chosen "when" and frequency only.
// Without this script every field shows, each labelled, and the form still works.
(function () {
  "use strict";

  function checked(form, name) {
    const input = form.querySelector(`[name="${name}"]:checked`) || form.querySelector(`select[name="${name}"]`);
    return input ? input.value : "";
  }

  function refresh(form) {
    const mode = checked(form, "schedule_mode");
    const frequency = checked(form, "frequency");
    form.querySelectorAll("[data-schedule]").forEach((element) => {
      const modes = element.dataset.schedule.split(" ");
      const wantsFrequency = element.dataset.frequency;
      element.hidden = !modes.includes(mode) || (wantsFrequency !== undefined && wantsFrequency !== frequency);
    });
  }

  function setUp() {
    const form = document.getElementById("composer-form");
    if (!form || form.dataset.scheduleReady) return;
    form.dataset.scheduleReady = "1";
    form.addEventListener("change", () => refresh(form));
    refresh(form);
  }

  document.addEventListener("DOMContentLoaded", setUp);
  document.addEventListener("htmx:afterSettle", setUp);
})();
