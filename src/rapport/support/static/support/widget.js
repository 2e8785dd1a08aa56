/* Rapport chat assistant: one <script src="https://<your rapport>/w/widget.js" defer></script>
 * on your website. No framework, no third-party calls: it talks only to the Rapport that
 * served it. Everything it shows is set as text (never as HTML). */
(function () {
  "use strict";
  if (window.__rapportAssistant) { return; }
  window.__rapportAssistant = true;
  var script = document.currentScript || document.querySelector("script[src$='/w/widget.js']");
  if (!script) { return; }
  var base = new URL(script.src, location.href).origin;
  var label = script.getAttribute("data-label") || "Questions? Ask us";
  var store = {
    get: function (area, key) { try { return window[area].getItem(key); } catch (e) { return null; } },
    set: function (area, key, value) { try { window[area].setItem(key, value); } catch (e) { /* private mode */ } }
  };

  function visitorKey() {
    var key = store.get("localStorage", "rapport-visitor");
    if (!key || !/^[-_A-Za-z0-9]{8,64}$/.test(key)) {
      var bytes = new Uint8Array(16);
      (window.crypto || window.msCrypto).getRandomValues(bytes);
      key = Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
      store.set("localStorage", "rapport-visitor", key);
    }
    return key;
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text) { node.textContent = text; }
    return node;
  }

  var css = el("link", { rel: "stylesheet", href: base + "/w/widget.css" });
  document.head.appendChild(css);

  var root = el("div", { "class": "rapport-chat", "data-rapport": "assistant" });
  var launcher = el("button", { type: "button", "class": "rapport-chat-launcher",
    "aria-expanded": "false", "aria-controls": "rapport-chat-panel" }, label);
  var panel = el("section", { id: "rapport-chat-panel", "class": "rapport-chat-panel",
    role: "dialog", "aria-label": "Chat with our assistant", hidden: "" });
  var header = el("div", { "class": "rapport-chat-header" });
  header.appendChild(el("h2", { "class": "rapport-chat-title" }, "Ask us"));
  var close = el("button", { type: "button", "class": "rapport-chat-close", "aria-label": "Close the chat" }, "×");
  header.appendChild(close);
  var log = el("div", { "class": "rapport-chat-log", role: "log", "aria-live": "polite",
    "aria-label": "Conversation", tabindex: "0" });
  var form = el("form", { "class": "rapport-chat-form" });
  var inputId = "rapport-chat-input";
  form.appendChild(el("label", { "for": inputId, "class": "rapport-chat-sr" }, "Your question"));
  var input = el("input", { id: inputId, type: "text", autocomplete: "off", maxlength: "4000",
    placeholder: "Type your question…" });
  var send = el("button", { type: "submit", "class": "rapport-chat-send" }, "Send");
  form.appendChild(input);
  form.appendChild(send);
  var personButton = el("button", { type: "button", "class": "rapport-chat-person" }, "Talk to a person");
  var handover = el("form", { "class": "rapport-chat-handover", hidden: "" });
  handover.appendChild(el("p", {}, "Leave your name and email: a person will answer you by email."));
  var nameLabel = el("label", {}, "Name");
  var nameInput = el("input", { name: "name", type: "text", autocomplete: "name", maxlength: "200", required: "" });
  nameLabel.appendChild(nameInput);
  var emailLabel = el("label", {}, "Email");
  var emailInput = el("input", { name: "email", type: "email", autocomplete: "email", maxlength: "254", required: "" });
  emailLabel.appendChild(emailInput);
  handover.appendChild(nameLabel);
  handover.appendChild(emailLabel);
  handover.appendChild(el("button", { type: "submit", "class": "rapport-chat-send" }, "Send to a person"));

  panel.appendChild(header);
  panel.appendChild(log);
  panel.appendChild(form);
  panel.appendChild(personButton);
  panel.appendChild(handover);
  root.appendChild(panel);
  root.appendChild(launcher);

  var token = store.get("sessionStorage", "rapport-chat-token");
  var started = null;

  function post(endpoint, body) {
    return fetch(base + "/w/api/" + endpoint, {
      method: "POST", mode: "cors", credentials: "omit",
      headers: { "Content-Type": "text/plain;charset=UTF-8" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (!response.ok) {
          var error = new Error(data.detail || ("The assistant answered " + response.status + "."));
          error.status = response.status;
          throw error;
        }
        return data;
      });
    }, function () {
      throw new Error("The assistant cannot be reached right now. Please try again later.");
    });
  }

  function say(who, text) {
    var item = el("div", { "class": "rapport-chat-msg rapport-chat-" + who });
    item.appendChild(el("span", { "class": "rapport-chat-sr" }, who === "visitor" ? "You: " : "Assistant: "));
    item.appendChild(el("p", {}, text));
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
    return item;
  }

  function problem(message) {
    var item = el("div", { "class": "rapport-chat-msg rapport-chat-error", role: "alert" }, message);
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function start() {
    if (token) { return Promise.resolve(token); }
    if (!started) {
      started = post("start", { visitor: visitorKey(), page_url: location.href.slice(0, 500) })
        .then(function (data) {
          token = data.token;
          store.set("sessionStorage", "rapport-chat-token", token);
          say("bot", data.greeting);
          return token;
        }, function (error) { started = null; throw error; });
    }
    return started;
  }

  function thumbs(item, messageId) {
    var group = el("div", { "class": "rapport-chat-thumbs", role: "group", "aria-label": "Was this answer helpful?" });
    group.appendChild(el("span", { "class": "rapport-chat-thumbs-q" }, "Helpful?"));
    [[1, "Yes", "Helpful"], [-1, "No", "Not helpful"]].forEach(function (choice) {
      var button = el("button", { type: "button", "aria-label": choice[2], "aria-pressed": "false" }, choice[1]);
      button.addEventListener("click", function () {
        post("feedback", { token: token, message_id: messageId, value: choice[0] }).then(function () {
          Array.prototype.forEach.call(group.querySelectorAll("button"), function (b) { b.setAttribute("aria-pressed", "false"); });
          button.setAttribute("aria-pressed", "true");
        }, function (error) { problem(error.message); });
      });
      group.appendChild(button);
    });
    item.appendChild(group);
  }

  function showAnswer(data) {
    var item = el("div", { "class": "rapport-chat-msg rapport-chat-bot" + (data.known ? " rapport-chat-answer" : " rapport-chat-unknown") });
    item.appendChild(el("span", { "class": "rapport-chat-sr" }, "Assistant: "));
    if (data.known && data.article) {
      item.appendChild(el("p", {}, "From our help centre:"));
      item.appendChild(el("blockquote", {}, data.text));
      var link = el("a", { href: data.article.url, target: "_blank", rel: "noopener" }, "Read “" + data.article.title + "”");
      item.appendChild(link);
      log.appendChild(item);
      thumbs(item, data.message_id);
    } else {
      item.appendChild(el("p", {}, data.text));
      log.appendChild(item);
      handover.hidden = false;
      personButton.hidden = true;
    }
    log.scrollTop = log.scrollHeight;
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    input.focus();
    start().catch(function (error) { problem(error.message); });
  }

  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
  close.addEventListener("click", shut);
  panel.addEventListener("keydown", function (event) { if (event.key === "Escape") { shut(); } });
  personButton.addEventListener("click", function () {
    handover.hidden = false;
    personButton.hidden = true;
    nameInput.focus();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value.trim();
    if (!text) { input.focus(); return; }
    send.disabled = true;
    start().then(function () {
      say("visitor", text);
      input.value = "";
      return post("message", { token: token, text: text }).then(showAnswer);
    }).catch(function (error) { problem(error.message); }).then(function () {
      send.disabled = false;
      input.focus();
    });
  });

  handover.addEventListener("submit", function (event) {
    event.preventDefault();
    start().then(function () {
      return post("handover", { token: token, name: nameInput.value.trim(), email: emailInput.value.trim() });
    }).then(function (data) {
      handover.hidden = true;
      form.hidden = true;
      say("bot", data.text);
    }).catch(function (error) { problem(error.message); });
  });

  function mount() { document.body.appendChild(root); }
  if (document.body) { mount(); } else { document.addEventListener("DOMContentLoaded", mount); }
})();
