/* hrbot web chat. Plain browser JavaScript, no framework, no CDN.
 *
 * Replies to what the user sends come back in the POST's response; pushes (and what other tabs of
 * the same person say) arrive on the server-sent event stream. Every message has an id: a bubble
 * is drawn once, and a card update (a message that "replaces" another) redraws the earlier bubble
 * in place, without its buttons.
 */
"use strict";

(function () {
  const API = "/chat/api";
  const HEADERS = { "X-Hrbot-Chat": "1" };
  const { LABELS, ROLE_SHORTCUTS } = window.HRBOT_CHAT;

  const $ = (id) => document.getElementById(id);
  const state = { me: null, people: [], lang: "zh-CN", defaultLocale: "zh-CN", maxMb: 20, bubbles: new Map(), lastId: 0,
    stream: null, pending: [] };

  function t(key) { return LABELS[state.lang][key] || LABELS["zh-CN"][key] || key; }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (name === "class") node.className = value;
      else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value === true ? "" : value);
    }
    for (const child of children.flat()) {
      if (child !== null && child !== undefined) node.append(child);
    }
    return node;
  }

  function initial(name) { return Array.from(name || "?")[0].toUpperCase(); }

  function avatar(person) {
    return el("span", { class: `avatar role-${person.role}` }, initial(person.name));
  }

  function applyLabels() {
    document.documentElement.lang = state.lang;
    document.querySelectorAll("[data-i18n]").forEach((n) => { n.textContent = t(n.dataset.i18n); });
    document.querySelectorAll("[data-i18n-placeholder]").forEach((n) => {
      n.placeholder = t(n.dataset.i18nPlaceholder);
    });
    $("lang").textContent = state.lang === "en" ? "中文" : "EN";
    renderPeople();
    renderMe();
  }

  function renderPeople() {
    const list = $("people-list");
    list.replaceChildren();
    const groups = LABELS[state.lang].groups;
    for (const role of Object.keys(groups)) {
      const members = state.people.filter((p) => p.role === role);
      if (!members.length) continue;
      list.append(el("div", { class: "group-title" }, groups[role]));
      for (const p of members) {
        const active = state.me && state.me.employee_no === p.employee_no;
        list.append(el("button", {
          type: "button", class: `person${active ? " active" : ""}`, "data-employee": p.employee_no,
          onclick: () => choose(p.employee_no),
        }, avatar(p), el("span", {}, el("span", { class: "name" }, p.name),
          el("span", { class: "sub" }, `${p.employee_no} · ${p.branch}`))));
      }
    }
  }

  function renderMe() {
    const me = $("me");
    me.replaceChildren();
    if (state.me) {
      me.append(avatar(state.me), el("div", {}, el("strong", {}, state.me.name),
        el("div", { class: "sub" }, `${LABELS[state.lang].roles[state.me.role] || state.me.role} · ${state.me.branch}`)));
    }
    const bar = $("shortcuts");
    bar.replaceChildren();
    if (!state.me) return;
    for (const command of ROLE_SHORTCUTS[state.me.role] || ROLE_SHORTCUTS.employee) {
      const label = LABELS[state.lang].shortcuts[command];
      // In Chinese the chip says its word (报销, 待审批 …), which the bot knows as the command and
      // reads as Chinese; a bare "/claim" would make it answer in English.
      const said = state.lang === "en" ? command : label;
      bar.append(el("button", { type: "button", class: "chip", "data-command": command,
        onclick: () => send(said, []) }, label));
    }
  }

  function showEmpty() {
    $("messages").replaceChildren(el("div", { class: "empty" },
      el("h2", {}, t("choose_title")), el("p", {}, t("choose_hint"))));
    $("composer").classList.add("disabled");
  }

  function time(iso) {
    const d = new Date(iso);
    return d.toLocaleTimeString(state.lang, { hour: "2-digit", minute: "2-digit" });
  }

  function fileChip(file) {
    const label = `📎 ${file.filename}`;
    if (file.url) return el("a", { class: "file", href: file.url, download: file.filename }, label);
    if (file.data) {
      // Sent once, with the answer that made it (a /mydata zip: the server keeps no copy).
      const bytes = Uint8Array.from(atob(file.data), (c) => c.charCodeAt(0));
      const href = URL.createObjectURL(new Blob([bytes], { type: file.content_type || "application/octet-stream" }));
      return el("a", { class: "file", href, download: file.filename }, label);
    }
    return el("span", { class: "file" }, label);
  }

  function bubbleBody(message, bubble) {
    const body = [];
    if (message.kind === "push") body.push(el("div", { class: "badge" }, t("notice")));
    body.push(el("div", { class: "text" }, message.text));
    if (message.files && message.files.length) body.push(el("div", { class: "files" }, message.files.map(fileChip)));
    if (message.buttons && message.buttons.length) {
      body.push(el("div", { class: "buttons" }, message.buttons.map((b) => el("button", {
        type: "button", class: `btn ${b.style || "default"}`, "data-action": b.action, "data-token": b.token,
        onclick: (event) => click(b, event.currentTarget, bubble),
      }, b.label))));
    }
    body.push(el("div", { class: "time" }, time(message.at)));
    return body;
  }

  function draw(message) {
    if (state.bubbles.has(message.id)) {
      // The event stream may draw an answer before the turn's own reply: only the reply carries
      // a file sent inline, so its chips replace the ones drawn without it.
      const files = state.bubbles.get(message.id).querySelector(".files");
      if (files && (message.files || []).some((f) => f.data)) files.replaceChildren(...message.files.map(fileChip));
      return;
    }
    state.lastId = Math.max(state.lastId, message.id);
    const old = message.replaces && state.bubbles.get(message.replaces);
    if (old) {
      // A card update: the earlier bubble shows the outcome, keeps what it was about, loses its buttons.
      const was = old.querySelector(".text").textContent;
      old.className = "bubble closed";
      old.dataset.key = message.key || "";
      old.replaceChildren(...bubbleBody(message, old), el("div", { class: "was" }, `${t("original")}: ${was}`));
      state.bubbles.set(message.id, old);
      return;
    }
    const mine = message.from === "me";
    const bubble = el("div", { class: `bubble${message.kind === "push" ? " push" : ""}`,
      "data-id": message.id, "data-key": message.key || "" });
    bubble.append(...bubbleBody(message, bubble));
    const row = el("div", { class: `msg ${mine ? "from-me" : "from-bot"}` },
      mine ? null : el("span", { class: "avatar bot-avatar" }, "hr"), bubble);
    state.bubbles.set(message.id, bubble);
    const list = $("messages");
    list.querySelector(".empty")?.remove();
    list.append(row);
    list.scrollTop = list.scrollHeight;
  }

  async function api(path, options) {
    const response = await fetch(API + path, Object.assign({ credentials: "same-origin" }, options));
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw Object.assign(new Error(body.detail || response.statusText), { status: response.status, body });
    return body;
  }

  function showError(error) {
    let text = t("failed");
    if (error && error.body && error.body.error === "too_large") {
      text = t("too_large").replace("{name}", error.body.filename).replace("{mb}", error.body.limit_mb);
    } else if (error && error.body && error.body.error === "too_many_files") text = t("too_many");
    else if (error && error.status === 401) text = t("choose_first");
    // Only what the server wrote for people (bilingual); a bare 500, a proxy's page or a lost
    // connection says "could not send" in the page's language, never "Internal Server Error".
    else if (error && error.body && typeof error.body.detail === "string") text = error.body.detail;
    $("error").textContent = text;
  }

  async function choose(employeeNo) {
    const body = await api("/persona", { method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, HEADERS),
      body: JSON.stringify({ employee_no: employeeNo }) });
    state.me = body.me;
    state.lang = state.me.locale || state.defaultLocale;  // each person reads their own language
    localStorage.setItem("hrbot.lang", state.lang);
    $("app").classList.remove("show-people");
    await loadHistory();
  }

  async function loadHistory() {
    if (state.stream) state.stream.close();
    state.bubbles.clear();
    state.lastId = 0;
    $("messages").replaceChildren();
    $("error").textContent = "";
    $("composer").classList.remove("disabled");
    applyLabels();
    const body = await api("/history");
    body.messages.forEach(draw);
    state.lastId = Math.max(state.lastId, body.last_id);
    openStream();
    $("text").focus();
  }

  function openStream() {
    const conn = $("conn");
    const stream = new EventSource(`${API}/events?after=${state.lastId}`);
    state.stream = stream;
    stream.addEventListener("message", (event) => draw(JSON.parse(event.data)));
    stream.onopen = () => { conn.hidden = false; conn.className = "conn live"; conn.textContent = t("live"); };
    stream.onerror = () => { conn.className = "conn"; conn.textContent = t("reconnecting"); };
  }

  async function send(text, files) {
    $("error").textContent = "";
    const form = new FormData();
    form.append("text", text);
    form.append("locale", state.lang);
    for (const file of files) form.append("files", file, file.name);
    $("send").disabled = true;
    try {
      const body = await api("/message", { method: "POST", headers: HEADERS, body: form });
      body.messages.forEach(draw);
      return true;
    } catch (error) {
      showError(error);
      return false;
    } finally {
      $("send").disabled = false;
    }
  }

  async function click(button, node, bubble) {
    $("error").textContent = "";
    bubble.querySelectorAll(".btn").forEach((b) => { b.disabled = true; b.classList.remove("chosen"); });
    try {
      const body = await api("/click", { method: "POST", headers: Object.assign({ "Content-Type": "application/json" }, HEADERS),
        body: JSON.stringify({ token: button.token, action: button.action }) });
      node.classList.add("chosen");
      body.messages.forEach(draw);
    } catch (error) {
      showError(error);
    } finally {
      bubble.querySelectorAll(".btn").forEach((b) => { b.disabled = false; });
    }
  }

  function size(bytes) {
    if (bytes < 1024) return `${bytes} B`;
    if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(0)} KB`;
    return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  }

  function renderPending() {
    $("pending").replaceChildren(...state.pending.map((file, index) => el("span", { class: "file" },
      `📎 ${file.name} · ${size(file.size)}`,
      el("button", { type: "button", "aria-label": "remove", onclick: () => { state.pending.splice(index, 1); renderPending(); } }, "×"))));
  }

  function addFiles(files) {
    $("error").textContent = "";
    for (const file of files) {
      if (file.size > state.maxMb * 1024 * 1024) {
        showError({ body: { error: "too_large", filename: file.name, limit_mb: state.maxMb } });
        continue;
      }
      state.pending.push(file);
    }
    renderPending();
  }

  function wire() {
    const text = $("text");
    $("composer").addEventListener("submit", async (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value && !state.pending.length) return;
      if (await send(value, state.pending)) {
        text.value = "";
        state.pending = [];
        renderPending();
        text.style.height = "";
      }
    });
    text.addEventListener("keydown", (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        $("composer").requestSubmit();
      }
    });
    text.addEventListener("input", () => {
      text.style.height = "auto";
      text.style.height = `${Math.min(text.scrollHeight, 160)}px`;
    });
    $("files").addEventListener("change", (event) => { addFiles(event.target.files); event.target.value = ""; });
    $("messages").addEventListener("dragover", (event) => event.preventDefault());
    $("messages").addEventListener("drop", (event) => { event.preventDefault(); addFiles(event.dataTransfer.files); });
    $("lang").addEventListener("click", () => {
      state.lang = state.lang === "en" ? "zh-CN" : "en";
      localStorage.setItem("hrbot.lang", state.lang);
      applyLabels();
    });
    $("toggle-people").addEventListener("click", () => $("app").classList.toggle("show-people"));
  }

  async function start() {
    wire();
    const session = await api("/session");
    state.people = session.people;
    state.maxMb = session.max_upload_mb;
    state.defaultLocale = session.default_locale;
    state.me = session.me;
    state.lang = localStorage.getItem("hrbot.lang") || (state.me && state.me.locale) || session.default_locale;
    applyLabels();
    if (state.me) await loadHistory();
    else showEmpty();
  }

  document.addEventListener("DOMContentLoaded", () => { start().catch(showError); });
})();
