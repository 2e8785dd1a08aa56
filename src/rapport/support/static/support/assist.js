// The assist panel's "Use this reply": puts the (edited) suggestion into the ticket page's
// reply box (<form id="reply-form"> … <textarea name="body">). Loaded with the panel, which
// htmx may swap in more than once: one listener on the document, installed once.
(function () {
  if (window.rapportAssist) return;
  window.rapportAssist = true;
  document.addEventListener("click", function (event) {
    const button = event.target.closest("[data-assist-use]");
    if (!button) return;
    const source = document.getElementById(button.dataset.assistUse);
    const status = button.parentElement.querySelector("[data-assist-status]");
    const box = document.querySelector("#reply-form [name=body]");
    if (!source) return;
    if (!box) {
      if (status) status.textContent = "Open the ticket page to reply; the text is selected to copy.";
      source.focus();
      source.select();
      return;
    }
    box.value = source.value;
    box.dispatchEvent(new Event("input", { bubbles: true }));
    box.focus();
    if (status) status.textContent = "Put into the reply box: edit it there and send.";
  });
})();
