// The app form shows the fields of the chosen provider, and the custom URL only when
// "Custom URL" is the endpoint. Without this script every field shows and the server
// checks what each provider needs.
(function () {
  "use strict";
  var form = document.getElementById("app-form");
  if (!form) return;
  var provider = form.querySelector("[name=provider]");
  var endpoint = form.querySelector("[name=endpoint]");
  var custom = form.querySelector("[name=custom_endpoint]");
  var customField = custom ? custom.closest(".field") : null;

  function update() {
    form.querySelectorAll("fieldset[data-provider]").forEach(function (fieldset) {
      fieldset.hidden = !!provider.value && fieldset.dataset.provider !== provider.value;
    });
    if (customField) {
      customField.hidden = endpoint.value !== "custom" && !customField.classList.contains("has-error");
    }
  }

  provider.addEventListener("change", update);
  endpoint.addEventListener("change", update);
  update();
})();
