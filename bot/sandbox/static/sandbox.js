// The sandbox page: renders what the bot sent to the Slack stand-in, and tells the sandbox
// what a person did. Everything user-made is inserted as text nodes, never as HTML.
"use strict";

// A tab is one Slack client: the forms it opens are its own, and a reload is a new client.
const TAB = Math.random().toString(36).slice(2) + Date.now().toString(36);
const view = { me: null, conv: "dm", state: null, raw: null, modalSig: null, shown: new Map(), shownConv: null };
let EMOJI = {}; // shortcode -> emoji, from the maintained table the sandbox serves

function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null) continue;
    if (k === "class") node.className = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

async function post(path, body) {
  const resp = await fetch(path, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
  const data = await resp.json().catch(() => ({}));
  if (!resp.ok) toast(data.message || `${path}: HTTP ${resp.status}`);
  return data;
}

// Copy says what happened: copied, or (where the browser refuses the clipboard) the text is
// selected for Ctrl+C.
async function copyPipeline() {
  const button = document.getElementById("copy-pipeline");
  let said = "Copied";
  try {
    await navigator.clipboard.writeText(view.state.pipeline);
  } catch (_) {
    const range = document.createRange();
    range.selectNodeContents(document.getElementById("pipeline"));
    const selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    said = "Selected: press Ctrl+C";
  }
  button.textContent = said;
  clearTimeout(copyPipeline.timer);
  copyPipeline.timer = setTimeout(() => { button.textContent = "Copy"; }, 3000);
}

function toast(text) {
  const t = document.getElementById("toast");
  t.textContent = text;
  t.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { t.hidden = true; }, 4000);
}

// --- mrkdwn ------------------------------------------------------------------
function decode(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function inline(text) {
  // `code`, *bold*, _italic_, ~strike~ and :emoji:, on text that is already decoded.
  const out = document.createDocumentFragment();
  const pattern = /`([^`]+)`|\*([^*\n]+)\*|(?<![\w])_([^_\n]+)_(?![\w])|~([^~\n]+)~|:([a-z0-9_+-]+):/g;
  let last = 0;
  for (const m of text.matchAll(pattern)) {
    out.append(text.slice(last, m.index));
    if (m[1] !== undefined) out.append(el("code", {}, m[1]));
    else if (m[2] !== undefined) out.append(el("strong", {}, inline(m[2])));
    else if (m[3] !== undefined) out.append(el("em", {}, inline(m[3])));
    else if (m[4] !== undefined) out.append(el("s", {}, inline(m[4])));
    else out.append(EMOJI[m[5]] || m[0]);
    last = m.index + m[0].length;
  }
  out.append(text.slice(last));
  return out;
}

function mrkdwn(text) {
  const names = (view.state && view.state.names) || {};
  const out = el("span", { class: "mrkdwn" });
  const lines = String(text).split("\n");
  lines.forEach((line, i) => {
    if (i) out.append(el("br"));
    for (const part of line.split(/(<[^<>]+>)/)) {
      if (part.startsWith("<") && part.endsWith(">")) {
        const inner = part.slice(1, -1);
        const [target, label] = inner.split("|", 2);
        if (target.startsWith("@")) out.append(el("span", { class: "mention" }, "@" + (names[target.slice(1)] || target.slice(1))));
        else if (target.startsWith("#")) out.append(el("span", { class: "mention" }, "#" + (names[target.slice(1)] || target.slice(1))));
        else if (target.startsWith("!subteam^")) {
          const groups = (view.state && view.state.groups) || {};
          out.append(el("span", { class: "mention" }, label || groups[target.slice(9)] || "@a user group"));
        } else if (target.startsWith("!")) out.append(el("span", { class: "mention" }, "@" + (label || target.slice(1))));
        else if (/^https?:\/\//.test(target)) out.append(el("a", { href: decode(target), target: "_blank", rel: "noopener noreferrer" }, decode(label || target)));
        else out.append(decode(part));
      } else {
        out.append(inline(decode(part)));
      }
    }
  });
  return out;
}

function textObject(obj) {
  if (!obj) return "";
  return obj.type === "mrkdwn" ? mrkdwn(obj.text) : document.createTextNode(obj.text);
}

// --- Block Kit ------------------------------------------------------------------
function button(element, where) {
  const style = element.style === "primary" ? " primary" : element.style === "danger" ? " danger" : "";
  return el("button", {
    type: "button",
    class: "btn" + style,
    "data-action": element.action_id,
    onclick: () => act(element, where),
  }, element.text ? element.text.text : element.action_id);
}

function renderBlock(block, where) {
  switch (block.type) {
    case "header":
      return el("div", { class: "block header" }, textObject(block.text));
    case "section": {
      const node = el("div", { class: "block section" });
      if (block.text) node.append(el("div", {}, textObject(block.text)));
      if (block.fields) node.append(el("div", { class: "fields" }, ...block.fields.map((f) => el("div", {}, textObject(f)))));
      if (block.accessory && block.accessory.type === "button") node.append(el("div", { class: "actions" }, button(block.accessory, where)));
      else if (block.accessory) node.append(el("div", { class: "unsupported" }, `Unsupported accessory: ${block.accessory.type}`));
      return node;
    }
    case "context":
      return el("div", { class: "block context" }, ...(block.elements || []).map((e) =>
        e.type === "image" ? image(e, "context-image") : el("span", {}, textObject(e))));
    case "image":
      return el("figure", { class: "block image" }, block.title ? el("figcaption", {}, textObject(block.title)) : null, image(block, "picture"));
    case "divider":
      return el("hr", { class: "block divider" });
    case "actions":
      return el("div", { class: "block actions" }, ...(block.elements || []).map((e) =>
        e.type === "button" ? button(e, where) : el("span", { class: "unsupported" }, `Unsupported element: ${e.type}`)));
    default:
      return el("div", { class: "block unsupported" }, `Unsupported block: ${block.type}`);
  }
}

function image(e, cls) {
  // A file the bot uploaded shows from the stand-in; a public URL is not fetched from a sandbox.
  const file = e.slack_file && e.slack_file.id;
  if (file) return el("img", { class: cls, src: `/sandbox/file/${encodeURIComponent(file)}`, alt: e.alt_text || "" });
  return el("span", { class: "image-alt" }, `[${e.alt_text || "image"}]`);
}

function renderBlocks(blocks, fallback, where) {
  const node = el("div", { class: "blocks" });
  if (!blocks || !blocks.length) node.append(mrkdwn(fallback || ""));
  else for (const b of blocks) node.append(renderBlock(b, where));
  return node;
}

async function act(element, where) {
  await post("/sandbox/action", { user: view.me, tab: TAB, conv: view.conv, action_id: element.action_id, value: element.value || "", ...where });
  await refresh();
}

// --- the modal ------------------------------------------------------------------
function renderModal(modal) {
  const backdrop = document.getElementById("modal-backdrop");
  if (!modal) {
    backdrop.hidden = true;
    view.modalSig = null;
    return;
  }
  const sig = JSON.stringify([modal.id, modal.blocks, modal.errors, modal.title]);
  if (sig === view.modalSig) return; // keep what the person is typing
  const form = document.getElementById("modal-form");
  const typed = form.dataset.viewId === modal.id ? readValues() : null; // field errors keep what was typed
  view.modalSig = sig;
  backdrop.hidden = false;
  document.getElementById("modal-title").textContent = modal.title ? modal.title.text : "";
  const submit = document.getElementById("modal-submit");
  submit.hidden = !modal.submit;
  submit.textContent = modal.submit ? modal.submit.text : "";
  document.getElementById("modal-close").textContent = modal.close ? modal.close.text : "Close";
  form.replaceChildren();
  form.dataset.viewId = modal.id;
  const errors = modal.errors || {};
  for (const block of modal.blocks || []) {
    if (block.type !== "input") {
      form.append(renderBlock(block, { channel: "", ts: "" }));
      continue;
    }
    const e = block.element || {};
    const id = `f-${block.block_id}`;
    const wrap = el("div", { class: "input-block" + (errors[block.block_id] ? " has-error" : ""), "data-block": block.block_id, "data-action": e.action_id, "data-type": e.type });
    wrap.append(el("label", { class: "title", for: id }, block.label.text, block.optional ? el("span", { class: "optional" }, " (optional)") : null));
    const before = typed && typed[block.block_id] && typed[block.block_id][e.action_id];
    if (e.type === "plain_text_input") {
      const input = e.multiline ? el("textarea", { id, name: block.block_id }) : el("input", { id, type: "text", name: block.block_id });
      if (e.max_length) input.setAttribute("maxlength", String(e.max_length));
      if (e.placeholder) input.setAttribute("placeholder", e.placeholder.text);
      input.value = before ? (before.value || "") : (e.initial_value || "");
      wrap.append(input);
    } else if (e.type === "radio_buttons") {
      const chosen = before && before.selected_option ? before.selected_option.value : null;
      (e.options || []).forEach((o, i) => {
        const rid = `${id}-${i}`;
        const radio = el("input", { type: "radio", id: rid, name: block.block_id, value: o.value });
        if (chosen === o.value) radio.checked = true;
        wrap.append(el("div", {}, radio, el("label", { for: rid }, o.text.text)));
      });
    } else {
      wrap.append(el("div", { class: "unsupported" }, `Unsupported input: ${e.type}`));
    }
    if (errors[block.block_id]) wrap.append(el("div", { class: "error", role: "alert" }, errors[block.block_id]));
    form.append(wrap);
  }
}

function readValues() {
  const values = {};
  for (const wrap of document.querySelectorAll("#modal-form .input-block")) {
    const block = wrap.dataset.block, action = wrap.dataset.action;
    if (wrap.dataset.type === "radio_buttons") {
      const picked = wrap.querySelector("input[type=radio]:checked");
      values[block] = { [action]: { type: "radio_buttons", selected_option: picked ? { value: picked.value, text: { type: "plain_text", text: picked.value } } : null } };
    } else {
      const input = wrap.querySelector("input, textarea");
      values[block] = { [action]: { type: "plain_text_input", value: input && input.value ? input.value : null } };
    }
  }
  return values;
}

// --- the page ----------------------------------------------------------------------
const MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"];

// When a message was sent, on the bot's clock (the stand-in stamps messages with it), in UTC
// as the clock above shows it.
function timeOf(ts) {
  const at = new Date(parseFloat(ts) * 1000);
  if (!ts || isNaN(at.getTime())) return null;
  const hm = at.toISOString().slice(11, 16);
  return el("span", { class: "time", title: at.toISOString().replace("T", " ").slice(0, 19) + " UTC" },
    `${at.getUTCDate()} ${MONTHS[at.getUTCMonth()]} ${hm}`);
}

function itemNode(item) {
  const where = { channel: item.channel || "", ts: item.ts };
  if (item.kind === "message") {
    return el("div", { class: "message", "data-key": item.key },
      el("div", { class: "meta" }, el("strong", {}, "signoff"), timeOf(item.ts),
        item.edited ? el("span", { class: "edited" }, "(edited)") : null),
      renderBlocks(item.blocks, item.text, where));
  }
  const refused = item.kind === "refused";
  const dismiss = el("button", { type: "button", class: "dismiss", onclick: () => dismissItem(item.key) }, "Dismiss");
  return el("div", { class: refused ? "message refused" : "message ephemeral", "data-key": item.key, role: refused ? "alert" : null },
    el("div", { class: "meta" }, refused ? "The Slack stand-in refused what the bot sent (Slack would too)" : "Only visible to you",
      timeOf(item.ts), dismiss),
    refused ? el("div", {}, item.text) : renderBlocks(item.blocks, item.text, where));
}

async function dismissItem(key) {
  await post("/sandbox/dismiss", { user: view.me, key });
  await refresh();
}

// Only what changed is replaced: text a person selected, a button under the pointer and the
// scroll position survive a refresh. New items bring the view to the newest one.
function renderConversation(box, items) {
  if (view.shownConv !== view.conv + view.me) {
    view.shown = new Map();
    view.shownConv = view.conv + view.me;
    box.replaceChildren();
  }
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 40;
  let added = false;
  const keep = new Set();
  let cursor = box.firstChild;
  for (const item of items) {
    const sig = JSON.stringify(item);
    let entry = view.shown.get(item.key);
    if (!entry || entry.sig !== sig) {
      const node = itemNode(item);
      if (entry) {
        if (cursor === entry.node) cursor = node;
        entry.node.replaceWith(node);
      } else added = true;
      entry = { sig, node };
      view.shown.set(item.key, entry);
    }
    keep.add(item.key);
    if (entry.node !== cursor) box.insertBefore(entry.node, cursor);
    else cursor = cursor.nextSibling;
  }
  for (const [key, entry] of view.shown) if (!keep.has(key)) { entry.node.remove(); view.shown.delete(key); }
  for (const stray of [...box.children]) if (!stray.dataset.key) stray.remove();
  if (!items.length) {
    box.append(el("p", { class: "empty" }, "No messages yet. Type /signoff below to ask for a sign-off, or /signoff help to see everything."));
  }
  if (added || atBottom) {
    box.scrollTop = box.scrollHeight;
    // A picture that loads later grows the conversation: stay on the newest message.
    for (const img of box.querySelectorAll("img")) {
      if (!img.complete) img.addEventListener("load", () => { box.scrollTop = box.scrollHeight; }, { once: true });
    }
  }
}

function renderHome(box, s) {
  const sig = JSON.stringify([s.home, s.conversations.home]);
  if (view.shownConv === "home" + view.me && view.homeSig === sig) return;
  view.shownConv = "home" + view.me;
  view.homeSig = sig;
  view.shown = new Map();
  box.replaceChildren(
    s.home ? renderBlocks(s.home.blocks, "", { channel: "", ts: "" }) : el("p", {}, "App Home has not been published for you yet."),
    ...s.conversations.home.map(itemNode));
}

const DEPLOY_WORDS = { held: "Held by signoff", approved: "Released: deploying", rejected: "Rejected: not deployed" };

function renderDeployments(list) {
  const box = document.getElementById("deployments");
  box.replaceChildren(...(list || []).map((d) => el("li", { "data-run": String(d.run) },
    el("strong", { class: d.state }, `Run #${d.run} (${d.by}): ${DEPLOY_WORDS[d.state] || d.state}`),
    d.said ? el("div", {}, d.said) : null)));
}

function render() {
  const s = view.state;
  if (!s) return;
  renderDeployments(s.deployments);
  const me = s.people.find((p) => p.user === s.me);
  document.getElementById("role").textContent = me ? me.role : "";
  document.getElementById("clock").textContent = "Bot clock: " + s.now.replace("T", " ").slice(0, 16) + " UTC";
  const pipeline = document.getElementById("pipeline");
  if (pipeline.textContent !== s.pipeline) pipeline.textContent = s.pipeline;
  for (const b of document.querySelectorAll(".conv")) b.classList.toggle("active", b.dataset.conv === view.conv);
  const title = { dm: "signoff (direct messages)", channel: "# signoff-summary", home: "App Home" }[view.conv];
  document.getElementById("pane-title").textContent = title;
  document.getElementById("composer").hidden = view.conv === "home"; // App Home has no composer in Slack
  const box = document.getElementById("messages");
  if (view.conv === "home") renderHome(box, s);
  else renderConversation(box, s.conversations[view.conv]);
  renderModal(s.modal);
}

async function refresh() {
  if (!view.me) return;
  const resp = await fetch(`/sandbox/state?user=${encodeURIComponent(view.me)}&tab=${TAB}`).catch(() => null);
  if (!resp || !resp.ok) return;
  const raw = await resp.text();
  if (raw === view.raw) return; // nothing changed: touch nothing
  view.raw = raw;
  view.state = JSON.parse(raw);
  render();
}

async function start() {
  EMOJI = await (await fetch("/sandbox/emoji.json")).json().catch(() => ({}));
  const first = await (await fetch("/sandbox/state?user=U0JUNE")).json().catch(() => null);
  const select = document.getElementById("who");
  const people = first && first.people ? first.people : [];
  for (const p of people) select.append(el("option", { value: p.user }, `${p.name} (${p.role})`));
  const saved = sessionStorage.getItem("signoff-me");
  view.me = people.some((p) => p.user === saved) ? saved : (people[0] || {}).user;
  select.value = view.me;
  select.addEventListener("change", () => { view.me = select.value; sessionStorage.setItem("signoff-me", view.me); view.modalSig = null; view.raw = null; refresh(); });
  for (const b of document.querySelectorAll(".conv")) b.addEventListener("click", async () => {
    view.conv = b.dataset.conv;
    view.raw = null;
    if (view.conv === "home") await post("/sandbox/home", { user: view.me });
    refresh();
  });
  document.getElementById("composer").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = document.getElementById("command");
    const text = input.value.trim();
    if (!text.startsWith("/signoff")) { toast("Type a /signoff command, e.g. /signoff help"); return; }
    input.value = "";
    await post("/sandbox/command", { user: view.me, tab: TAB, conv: view.conv, text });
    await refresh();
  });
  document.getElementById("modal-submit").addEventListener("click", async () => {
    const viewId = document.getElementById("modal-form").dataset.viewId;
    await post("/sandbox/submit", { user: view.me, view_id: viewId, values: readValues() });
    view.modalSig = null;
    view.raw = null;
    await refresh();
  });
  document.getElementById("modal-close").addEventListener("click", async () => {
    await post("/sandbox/close", { user: view.me, view_id: document.getElementById("modal-form").dataset.viewId });
    await refresh();
  });
  for (const b of document.querySelectorAll("[data-advance]")) b.addEventListener("click", async () => {
    const data = await post("/sandbox/time", { advance: b.dataset.advance });
    if (data.now) toast("The bot's clock is now " + data.now.replace("T", " ").slice(0, 16) + " UTC");
    await refresh();
  });
  document.getElementById("deploy").addEventListener("click", async () => {
    const data = await post("/sandbox/deploy", { user: view.me });
    if (data.run) toast(`GitHub started run #${data.run} and holds it until signoff answers`);
    view.raw = null;
    await refresh();
  });
  document.getElementById("copy-pipeline").addEventListener("click", copyPipeline);
  await refresh();
  setInterval(refresh, 1000);
}

start();
