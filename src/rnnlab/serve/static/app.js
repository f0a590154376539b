// rnnlab serve's page: pick a loaded run, use it through the JSON API. No framework, no build.
"use strict";

const $ = (id) => document.getElementById(id);
const COLORS = ["#d9534f", "#2f9e5b", "#2f6fde", "#e09b2d", "#8e5bd8", "#3aa6b9", "#c05299"];
let models = [];
let current = null;

function showError(message) {
  const box = $("error");
  box.textContent = message || "";
  box.hidden = !message;
}

// POST JSON (or a FormData upload) to the current model; resolves to the answer, or shows the
// server's one-line error and resolves to null
async function predict(body) {
  showError("");
  const upload = body instanceof FormData;
  const init = upload ? { method: "POST", body }
    : { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) };
  let response;
  try {
    response = await fetch(`/api/models/${encodeURIComponent(current.name)}/predict`, init);
  } catch (e) {
    showError(`the server cannot be reached: ${e.message}`);
    return null;
  }
  const answer = await response.json().catch(() => ({ detail: response.statusText }));
  if (!response.ok) {
    showError(`${response.status}: ${answer.detail}`);
    return null;
  }
  return answer;
}

// run `fn` with `button` disabled while it works
async function busy(button, fn) {
  button.disabled = true;
  try { await fn(); } finally { button.disabled = false; }
}

function number(id) {
  const v = $(id).value.trim();
  return v === "" ? null : Number(v);
}

// ---- classify: the sentiment after each token -------------------------------------------
async function classify() {
  const text = $("review").value;
  if (!text.trim()) { $("classify-out").hidden = true; return; }
  const r = await predict({ text });
  if (!r || $("review").value !== text) return;  // an error, or the text changed meanwhile
  $("label").textContent = r.label;
  $("probability").textContent = `p = ${r.probability.toFixed(3)}`;
  const trace = $("trace");
  trace.replaceChildren();
  r.steps.forEach((probs, i) => {
    const tok = document.createElement("div");
    tok.className = "tok";
    const bar = document.createElement("div");
    bar.className = "bar";
    const fill = document.createElement("div");
    fill.className = "fill";
    if (probs) {  // the class the model would choose after this token, and how sure it is
      const best = probs.indexOf(Math.max(...probs));
      fill.style.height = `${Math.round(100 * probs[best])}%`;
      fill.style.background = COLORS[best % COLORS.length];
      tok.dataset.label = r.labels[best];
      tok.title = r.labels.map((l, j) => `${l} ${probs[j].toFixed(3)}`).join("  ");
    }
    bar.append(fill);
    const word = document.createElement("span");
    word.className = "word";
    word.textContent = r.tokens[i];
    tok.append(bar, word);
    trace.append(tok);
  });
  drawSpark(r);
  $("classify-out").hidden = false;
}

// every class' probability after each token, one line per class
function drawSpark(r) {
  const canvas = $("spark"), g = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height, pad = 24;
  g.clearRect(0, 0, W, H);
  g.strokeStyle = "#dde2ea";
  g.beginPath(); g.moveTo(pad, H / 2); g.lineTo(W - 4, H / 2); g.stroke();
  g.fillStyle = "#6b7483"; g.font = "11px system-ui";
  g.fillText("1", 4, 12); g.fillText("0", 4, H - 4);
  const n = r.steps.length;
  const x = (i) => pad + (n < 2 ? 0 : (i * (W - pad - 8)) / (n - 1));
  r.labels.forEach((label, j) => {
    g.strokeStyle = COLORS[j % COLORS.length];
    g.lineWidth = 2;
    g.beginPath();
    let started = false;
    r.steps.forEach((probs, i) => {
      if (!probs) return;
      const y = 4 + (1 - probs[j]) * (H - 8);
      if (started) g.lineTo(x(i), y); else { g.moveTo(x(i), y); started = true; }
    });
    g.stroke();
  });
  $("legend").replaceChildren(...r.labels.map((label, j) => {
    const key = document.createElement("span");
    key.textContent = `— ${label}`;
    key.style.color = COLORS[j % COLORS.length];
    return key;
  }));
}

let pending = null;
function liveClassify() {
  if (!$("live").checked) return;
  clearTimeout(pending);
  pending = setTimeout(classify, 250);
}

// ---- lm --------------------------------------------------------------------------------
async function generate() {
  const body = { prompt: $("prompt").value, max_tokens: number("max-tokens"),
                 temperature: number("temperature") ?? 1, top_k: number("top-k"), seed: number("seed") };
  const r = await predict(body);
  if (!r) return;
  const out = $("generated");
  const prompt = document.createElement("b");
  prompt.textContent = r.prompt;
  out.replaceChildren(prompt, document.createTextNode(r.text.slice(r.prompt.length)));
}

// ---- tag: entities highlighted ----------------------------------------------------------
async function tag() {
  const r = await predict({ text: $("tag-text").value });
  if (!r) return;
  const types = [...new Set(r.entities.map((e) => e.type))];
  const out = $("tagged");
  out.replaceChildren();
  let i = 0;
  for (const e of [...r.entities].sort((a, b) => a.start - b.start)) {
    if (i < e.start) out.append(document.createTextNode(r.tokens.slice(i, e.start).join(" ") + " "));
    const span = document.createElement("mark");
    span.className = "ent";
    const color = COLORS[types.indexOf(e.type) % COLORS.length];
    span.style.background = `${color}33`;
    span.style.border = `1px solid ${color}`;
    span.textContent = r.tokens.slice(e.start, e.end).join(" ");
    const sup = document.createElement("sup");
    sup.textContent = e.type;
    span.append(sup);
    out.append(span, document.createTextNode(" "));
    i = e.end;
  }
  if (i < r.tokens.length) out.append(document.createTextNode(r.tokens.slice(i).join(" ")));
}

// ---- translate: the attention heatmap ---------------------------------------------------
async function translate() {
  const r = await predict({ text: $("source").value, beam: number("beam") ?? 1 });
  if (!r) return;
  $("translation").textContent = r.translation;
  const canvas = $("heatmap");
  canvas.hidden = !r.attention;
  if (r.attention) drawHeatmap(canvas, r.attention, r.src_tokens, r.output_tokens);
}

function drawHeatmap(canvas, att, cols, rows) {
  const g = canvas.getContext("2d");
  g.font = "12px system-ui";
  const left = 12 + Math.max(...rows.map((t) => g.measureText(t).width));
  const top = 12 + Math.max(...cols.map((t) => g.measureText(t).width));
  const cell = Math.max(8, Math.min(40, (canvas.width - left - 8) / cols.length,
                                    (460 - top) / rows.length));
  canvas.height = Math.ceil(top + cell * rows.length + 8);
  g.clearRect(0, 0, canvas.width, canvas.height);
  g.font = "12px system-ui";
  att.forEach((row, i) => row.forEach((a, j) => {
    const shade = Math.round(255 * (1 - a));
    g.fillStyle = `rgb(${shade}, ${shade}, 255)`;
    g.fillRect(left + j * cell, top + i * cell, cell - 1, cell - 1);
  }));
  g.fillStyle = "#1d2430";
  g.textAlign = "right"; g.textBaseline = "middle";
  rows.forEach((t, i) => g.fillText(t, left - 6, top + (i + 0.5) * cell));
  cols.forEach((t, j) => {
    g.save();
    g.translate(left + (j + 0.5) * cell, top - 6);
    g.rotate(-Math.PI / 2);
    g.textAlign = "left";
    g.fillText(t, 0, 0);
    g.restore();
  });
}

// ---- speech, music, forecast, series, embeddings ----------------------------------------
async function transcribe() {
  const file = $("wav").files[0];
  if (!file) { showError("choose a WAV file first"); return; }
  const form = new FormData();
  form.append("file", file);
  const r = await predict(form);
  if (r) $("transcript").textContent = `${r.text}  (p = ${r.probability.toPrecision(3)})`;
}

// the image under each word's attention map (dark where the model did not look)
async function caption() {
  const file = $("image").files[0];
  if (!file) { showError("choose an image first"); return; }
  const form = new FormData();
  form.append("file", file);
  form.append("beam", String(number("caption-beam") ?? 1));
  const r = await predict(form);
  if (!r) return;
  $("caption-out").textContent = r.caption;
  const maps = $("caption-attention");
  maps.replaceChildren();
  if (!r.attention) return;
  const image = await createImageBitmap(file);
  r.attention.forEach((grid, t) => {
    const canvas = document.createElement("canvas");
    canvas.width = canvas.height = 96;
    const g = canvas.getContext("2d");
    g.drawImage(image, 0, 0, 96, 96);
    const G = grid.length, cell = 96 / G, top = Math.max(...grid.flat());
    grid.forEach((row, i) => row.forEach((a, j) => {
      g.fillStyle = `rgba(0, 0, 0, ${0.8 * (1 - a / top)})`;
      g.fillRect(j * cell, i * cell, cell, cell);
    }));
    const figure = document.createElement("figure");
    const word = document.createElement("figcaption");
    word.textContent = r.output_tokens[t];
    figure.append(canvas, word);
    maps.append(figure);
  });
}

async function compose() {
  const r = await predict({ steps: number("music-steps") ?? 64,
                            temperature: number("music-temperature") ?? 1, seed: number("music-seed") });
  if (!r) return;
  const link = document.createElement("a");
  link.href = `data:audio/midi;base64,${r.midi_base64}`;
  link.download = `${current.name}.mid`;
  link.textContent = `download ${current.name}.mid`;
  $("midi").replaceChildren(link, document.createTextNode(
    `  (${r.steps} steps, ${r.notes} key-steps sounding)`));
}

async function forecast() {
  const r = await predict({ steps: number("forecast-steps") });
  if (!r) return;
  const canvas = $("forecast-chart"), g = canvas.getContext("2d");
  canvas.hidden = false;
  const all = [...r.history, ...r.lo, ...r.hi];
  const lo = Math.min(...all), hi = Math.max(...all), n = r.history.length + r.point.length;
  const W = canvas.width, H = canvas.height;
  const x = (i) => 10 + (i * (W - 20)) / (n - 1), y = (v) => H - 10 - ((v - lo) / (hi - lo || 1)) * (H - 20);
  g.clearRect(0, 0, W, H);
  const h = r.history.length;
  g.fillStyle = "#2f6fde33";
  g.beginPath();
  r.hi.forEach((v, i) => g.lineTo(x(h + i), y(v)));
  [...r.lo].reverse().forEach((v, i) => g.lineTo(x(h + r.lo.length - 1 - i), y(v)));
  g.fill();
  const line = (values, offset, color) => {
    g.strokeStyle = color; g.lineWidth = 2; g.beginPath();
    values.forEach((v, i) => (i ? g.lineTo(x(offset + i), y(v)) : g.moveTo(x(offset + i), y(v))));
    g.stroke();
  };
  line(r.history, 0, "#1d2430");
  line([r.history[h - 1], ...r.point], h - 1, "#2f6fde");
  $("forecast-out").textContent = r.point.map((v, i) =>
    `${r.dates ? r.dates[i] : `+${i + 1}`}: ${v.toFixed(2)} [${r.lo[i].toFixed(2)}, ${r.hi[i].toFixed(2)}]`).join("   ");
}

async function classifySeries() {
  let series;
  try { series = JSON.parse($("series").value); } catch (e) { showError(`not JSON: ${e.message}`); return; }
  const r = await predict({ series });
  if (r) $("series-out").textContent = `${r.label}  (p = ${r.probability.toFixed(3)})`;
}

async function neighbours() {
  const split = (id) => $(id).value.split(/\s+/).filter(Boolean);
  const r = await predict({ words: split("words"), minus: split("minus") });
  if (!r) return;
  $("neighbour-list").replaceChildren(...r.neighbours.map((n) => {
    const li = document.createElement("li");
    li.textContent = `${n.word}  ${n.score.toFixed(3)}`;
    return li;
  }));
}

// ---- picking a model --------------------------------------------------------------------
function choose(name) {
  current = models.find((m) => m.name === name);
  $("kind").textContent = current ? `${current.kind} (${current.task})` : "";
  const task = !current ? null : current.input === "none" ? "none" : current.task;
  for (const section of document.querySelectorAll("section[data-task]")) {
    section.hidden = section.dataset.task !== task;
  }
  showError("");
}

async function start() {
  const response = await fetch("/api/models");
  models = (await response.json()).models;
  const select = $("model");
  for (const m of models) select.append(new Option(`${m.name} — ${m.kind}`, m.name));
  select.addEventListener("change", () => choose(select.value));
  const wanted = new URLSearchParams(location.search).get("model");
  if (wanted && models.some((m) => m.name === wanted)) select.value = wanted;
  choose(select.value);

  const on = (id, fn) => $(id).addEventListener("click", (e) => busy(e.currentTarget, fn));
  on("classify", classify);
  on("generate", generate);
  on("tag", tag);
  on("translate", translate);
  on("transcribe", transcribe);
  on("caption", caption);
  on("compose", compose);
  on("forecast", forecast);
  on("classify-series", classifySeries);
  on("neighbours", neighbours);
  $("review").addEventListener("input", liveClassify);
  for (const [input, button] of [["prompt", "generate"], ["tag-text", "tag"], ["source", "translate"],
                                 ["words", "neighbours"], ["minus", "neighbours"]]) {
    $(input).addEventListener("keydown", (e) => { if (e.key === "Enter") $(button).click(); });
  }
  document.body.dataset.ready = "true";  // for tests: the models are listed
}

start().catch((e) => showError(`cannot list the models: ${e.message}`));
