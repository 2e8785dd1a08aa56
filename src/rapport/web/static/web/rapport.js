// Small behaviours htmx does not cover: "select all" for bulk actions, confirm dialogs, closing search.
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-select-all]");
  if (all) {
    document.querySelectorAll("input[name=ids]").forEach((box) => { box.checked = all.checked; });
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target;
  const message = form.getAttribute("data-confirm");
  if (message && !window.confirm(message)) event.preventDefault();
  if (form.hasAttribute("data-confirm-delete") && form.elements.action?.value === "delete") {
    const count = form.querySelectorAll("input[name=ids]:checked").length;
    if (!window.confirm(`Delete ${count} contact${count === 1 ? "" : "s"}? You can restore them for 30 days.`)) {
      event.preventDefault();
    } else {
      form.elements.confirmed.value = "yes";
    }
  }
});
document.addEventListener("click", (event) => {
  const results = document.getElementById("search-results");
  if (results && !event.target.closest(".search-box")) results.innerHTML = "";
  // A top-bar menu closes when you click anywhere else (or open another).
  document.querySelectorAll(".topbar details[open]").forEach((menu) => {
    if (!menu.contains(event.target)) menu.removeAttribute("open");
  });
});
document.addEventListener("keydown", (event) => {
  if (event.key !== "Escape") return;
  document.querySelectorAll(".topbar details[open]").forEach((menu) => {
    menu.removeAttribute("open");
    menu.querySelector("summary")?.focus();
  });
});
