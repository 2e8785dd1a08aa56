// The kanban board: drag a card (SortableJS) or use its "Move to" box; either posts the move
// with the version the card was drawn from. A stale move (409) puts the card where the other
// person left it and says so. Without JavaScript the "Move to" box is a plain form.
(() => {
  const board = document.querySelector(".board");
  if (!board) return;
  const status = document.getElementById("board-status");
  const dialog = document.getElementById("lost-dialog");
  let pending = null; // {card, stageId, from, next} while the lost reason is asked

  const say = (text, bad) => {
    status.textContent = text || "";
    status.classList.toggle("error", Boolean(bad));
  };

  const putBack = (origin) => {
    if (!origin) return;
    if (origin.from) origin.from.insertBefore(origin.card, origin.next || null);
    const box = origin.card.querySelector("select[name=stage_id]");
    if (box) box.value = origin.card.dataset.stageId; // the box says where the card is
  };

  const place = (card, data, keepFocus) => {
    const template = document.createElement("template");
    template.innerHTML = (data.card || "").trim();
    const fresh = template.content.firstElementChild;
    const column = board.querySelector(`.board-cards[data-stage-id="${data.stage_id}"]`);
    card.remove();
    if (fresh && column) {
      column.prepend(fresh);
      if (keepFocus) fresh.querySelector("select")?.focus();
    }
    for (const [stageId, html] of Object.entries(data.headers || {})) {
      const head = document.getElementById(`column-head-${stageId}`);
      if (head) head.innerHTML = html;
    }
  };

  const move = async (origin, stageId, lostReason) => {
    const { card } = origin;
    const form = card.querySelector("form.move-form");
    if (!form) { putBack(origin); return; }
    const body = new FormData(form);
    body.set("stage_id", stageId);
    body.set("version", card.dataset.version);
    body.set("from_stage", card.dataset.stageId);
    if (lostReason) body.set("lost_reason", lostReason);
    const keepFocus = card.contains(document.activeElement);
    card.classList.add("moving");
    let answer, data = {};
    try {
      answer = await fetch(form.action, {
        method: "POST", body, credentials: "same-origin",
        headers: { Accept: "application/json", "X-CSRFToken": body.get("csrfmiddlewaretoken") },
      });
      data = await answer.json();
    } catch (error) {
      card.classList.remove("moving");
      putBack(origin);
      say("Not moved: the server could not be reached. Try again.", true);
      return;
    }
    card.classList.remove("moving");
    if (answer.ok || answer.status === 409) {
      place(card, data, keepFocus);
      say(data.message, answer.status === 409);
    } else {
      putBack(origin);
      if (keepFocus) card.querySelector("select")?.focus();
      say(data.message || `Not moved (${answer.status}).`, true);
    }
  };

  const askReason = (origin, stageId) => {
    pending = { origin, stageId };
    dialog.querySelector("#lost-reason").value = "";
    dialog.showModal();
  };

  const start = (origin, stageId) => {
    const column = board.querySelector(`.board-cards[data-stage-id="${stageId}"]`);
    if (column && column.dataset.lost) askReason(origin, stageId);
    else move(origin, stageId);
  };

  if (dialog) {
    dialog.querySelector("#lost-form").addEventListener("submit", (event) => {
      const reason = dialog.querySelector("#lost-reason").value.trim();
      if (!reason) { event.preventDefault(); return; }
      const { origin, stageId } = pending;
      pending = null;
      move(origin, stageId, reason);
    });
    const cancel = () => {
      if (!pending) return;
      putBack(pending.origin);
      pending.origin.card.querySelector("select")?.focus();
      pending = null;
      say("Not moved.");
    };
    dialog.querySelector("#lost-cancel").addEventListener("click", () => { cancel(); dialog.close(); });
    dialog.addEventListener("cancel", cancel);
  }

  // The keyboard (and no-mouse) way: the card's "Move to" box and its Move button.
  board.addEventListener("submit", (event) => {
    const form = event.target.closest("form.move-form");
    if (!form) return;
    event.preventDefault();
    const card = form.closest(".deal-card");
    const stageId = form.elements.stage_id.value;
    if (stageId === card.dataset.stageId) return;
    start({ card, from: card.parentElement, next: card.nextSibling }, stageId);
  });

  if (!window.Sortable) return;
  const origins = new WeakMap();
  board.querySelectorAll(".board-cards").forEach((cards) => {
    window.Sortable.create(cards, {
      group: "deals", draggable: ".deal-card[data-movable]", filter: "select, button, input, option",
      preventOnFilter: false, animation: 120, delay: 200, delayOnTouchOnly: true,
      onChoose(event) {
        origins.set(event.item, { card: event.item, from: event.from,
                                  next: event.item.nextElementSibling });
      },
      onEnd(event) {
        if (event.from === event.to) return;
        const card = event.item;
        const origin = origins.get(card) || { card, from: event.from, next: null };
        start(origin, event.to.dataset.stageId);
      },
    });
  });
})();
