"""The explorer's one HTML page (plain HTML and JavaScript; `trainers.explore` serves it)."""

PAGE = r"""<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>bigan_tf explorer</title>
<style>
 body { font-family: sans-serif; margin: 1.5em; max-width: 1100px; color: #222; }
 section { border: 1px solid #ccc; border-radius: 6px; padding: 0.8em 1em; margin: 1em 0; }
 section.hidden-panel { color: #888; }
 h1 { font-size: 1.4em; } h2 { font-size: 1.1em; margin: 0 0 0.5em 0; }
 figure { display: inline-block; margin: 0.5em 1em 0.5em 0; vertical-align: top; }
 figure img { image-rendering: pixelated; border: 1px solid #ddd; max-width: 100%; }
 figcaption { font-size: 0.85em; } code { font-size: 0.8em; word-break: break-all; }
 .error { color: #b00; font-weight: bold; } .notice { color: #a60; }
 input[type=number] { width: 7em; } label { margin-right: 1em; }
</style>
</head>
<body>
<h1>bigan_tf explorer</h1>
<p id="model-info">Loading the model…</p>

<section id="panel-samples"><h2>Samples</h2>
 <label>seed <input type="number" id="samples-seed" value="0" min="0"></label>
 <button id="samples-show">Show</button> <button id="samples-new">New seed</button>
 <div class="out" id="samples-out"></div></section>

<section id="panel-style_sweep"><h2>Style sweep</h2>
 <label>seed <input type="number" id="style-seed" value="0" min="0"></label>
 <button id="style-show">Show</button>
 <div class="out" id="style-out"></div></section>

<section id="panel-class_sweep"><h2>Class sweep</h2>
 <label>seed <input type="number" id="class-seed" value="0" min="0"></label>
 <button id="class-show">Show</button>
 <div class="out" id="class-out"></div></section>

<section id="panel-encode"><h2>Encode an image</h2>
 <label>upload <input type="file" id="encode-file" accept="image/*"></label>
 <label>or held-out index <input type="number" id="encode-index" value="0" min="0"></label>
 <button id="encode-upload">Encode upload</button> <button id="encode-pick">Encode index</button>
 <div class="out" id="encode-out"></div></section>

<section id="panel-classify"><h2>Classify (semi-supervised GAN)</h2>
 <label>upload <input type="file" id="classify-file" accept="image/*"></label>
 <label>or held-out index <input type="number" id="classify-index" value="0" min="0"></label>
 <button id="classify-upload">Classify upload</button>
 <button id="classify-pick">Classify index</button>
 <div class="out" id="classify-out"></div></section>
<section id="panel-encode_list"><h2>Encode a list</h2>
 <label>images <input type="file" id="list-files" accept="image/*" multiple></label>
 <button id="list-encode">Encode</button>
 <div class="out" id="list-out"></div></section>
<section id="panel-interpolate"><h2>Interpolate</h2>
 <label>held-out indices <input type="number" id="interp-a" value="0" min="0">
  <input type="number" id="interp-b" value="1" min="0"></label>
 <button id="interp-indices">Between images</button>
 <label>seeds <input type="number" id="interp-sa" value="0" min="0">
  <input type="number" id="interp-sb" value="1" min="0"></label>
 <button id="interp-seeds">Between seeds</button>
 <div>slider: <input type="range" id="interp-slider" min="0" max="0" value="0" disabled>
  <span id="interp-frame"></span></div>
 <div class="out" id="interp-out"></div></section>

<section id="panel-analogy"><h2>Analogy (sink 1 + sink 2 − source)</h2>
 <label>held-out indices source,sink1,sink2 <input type="text" id="analogy-indices" value=""
  placeholder="e.g. 1,2,3 (empty: random)"></label>
 <label>seed <input type="number" id="analogy-seed" value="0" min="0"></label>
 <button id="analogy-show">Show</button>
 <div class="out" id="analogy-out"></div></section>
<section id="panel-training"><h2>Training (the fixed-z samples at every evaluation)</h2>
 <button id="training-show">Show</button>
 <div class="out" id="training-out"></div></section>
<section id="panel-attributes"><h2>Attribute sliders</h2>
 <label>held-out index <input type="number" id="attr-index" value="0" min="0"></label>
 <div id="attr-sliders"></div>
 <button id="attr-show">Show</button>
 <div class="out" id="attr-out"></div></section>

<script>
"use strict";
function figure(p) {
  const f = document.createElement("figure");
  const img = document.createElement("img");
  img.src = p.animated ? "data:image/gif;base64," + p.gif : "data:image/png;base64," + p.png;
  img.alt = p.title;
  f.appendChild(img);
  const c = document.createElement("figcaption");
  c.innerHTML = p.caption.map(escape).join("<br>");
  const links = document.createElement("div");
  links.innerHTML = '<a download="' + slug(p.title) + '.png" href="data:image/png;base64,' +
    p.png + '">download PNG</a>' + (p.gif ? ' · <a download="' + slug(p.title) +
    '.gif" href="data:image/gif;base64,' + p.gif + '">download GIF</a>' : "");
  c.appendChild(links);
  if (p.notice) { const n = document.createElement("div"); n.className = "notice";
    n.textContent = p.notice; c.appendChild(n); }
  if (p.command) { const k = document.createElement("code"); k.textContent = p.command;
    c.appendChild(k); }
  if (p.probabilities) { const t = document.createElement("div");
    t.textContent = "probabilities: " + p.probabilities.map((q, k) => k + ": " +
      (100 * q).toFixed(1) + "%").join(", ");
    c.appendChild(t); }
  if (p.table) { const t = document.createElement("a"); t.textContent = "download codes (CSV)";
    t.download = slug(p.title) + ".csv";
    t.href = "data:text/csv;charset=utf-8," + encodeURIComponent(p.table);
    c.appendChild(document.createElement("br")); c.appendChild(t); }
  f.appendChild(c);
  return f;
}
function escape(s) { const d = document.createElement("div"); d.textContent = s; return d.innerHTML; }
function slug(s) { return s.replace(/[^a-z0-9]+/gi, "_").slice(0, 40); }
function show(outId, result) {
  const out = document.getElementById(outId); out.innerHTML = "";
  if (result.error) { const e = document.createElement("p"); e.className = "error";
    e.textContent = result.error; out.appendChild(e); return; }
  const pictures = result.pictures || [result.picture];
  pictures.forEach(p => out.appendChild(figure(p)));
}
async function call(outId, url, options) {
  document.getElementById(outId).innerHTML = "<p>Working…</p>";
  let result;
  try {
    const response = await fetch(url, options);
    result = await response.json();
  } catch (err) { result = {error: "The server did not answer: " + err}; }
  show(outId, result);
  return result;
}
const v = id => document.getElementById(id).value;
document.getElementById("samples-show").onclick = () =>
  call("samples-out", "/api/samples?seed=" + v("samples-seed"));
document.getElementById("samples-new").onclick = () => {
  document.getElementById("samples-seed").value = Math.floor(Math.random() * 1000000);
  call("samples-out", "/api/samples?seed=" + v("samples-seed"));
};
document.getElementById("style-show").onclick = () =>
  call("style-out", "/api/style_sweep?seed=" + v("style-seed"));
document.getElementById("class-show").onclick = () =>
  call("class-out", "/api/class_sweep?seed=" + v("class-seed"));
document.getElementById("encode-upload").onclick = () => {
  const file = document.getElementById("encode-file").files[0];
  if (!file) { show("encode-out", {error: "Choose an image file first."}); return; }
  const form = new FormData(); form.append("image", file);
  call("encode-out", "/api/encode", {method: "POST", body: form});
};
document.getElementById("encode-pick").onclick = () => {
  const form = new FormData(); form.append("index", v("encode-index"));
  call("encode-out", "/api/encode", {method: "POST", body: form});
};
async function interpolate(url) {
  const result = await call("interp-out", url);
  const slider = document.getElementById("interp-slider");
  if (result.frames) {
    slider.max = result.frames.length - 1; slider.value = 0; slider.disabled = false;
    slider.oninput = () => {
      const img = document.querySelector("#interp-out img");
      img.src = "data:image/png;base64," + result.frames[slider.value];
      document.getElementById("interp-frame").textContent =
        "frame " + (Number(slider.value) + 1) + " of " + (Number(slider.max) + 1);
    };
  }
}
document.getElementById("interp-indices").onclick = () =>
  interpolate("/api/interpolate?a=" + v("interp-a") + "&b=" + v("interp-b"));
document.getElementById("interp-seeds").onclick = () =>
  interpolate("/api/interpolate?seed_a=" + v("interp-sa") + "&seed_b=" + v("interp-sb"));
document.getElementById("analogy-show").onclick = () =>
  call("analogy-out", "/api/analogy?seed=" + v("analogy-seed") + "&indices=" +
       encodeURIComponent(v("analogy-indices")));
document.getElementById("classify-upload").onclick = () => {
  const file = document.getElementById("classify-file").files[0];
  if (!file) { show("classify-out", {error: "Choose an image file first."}); return; }
  const form = new FormData(); form.append("image", file);
  call("classify-out", "/api/classify", {method: "POST", body: form});
};
document.getElementById("classify-pick").onclick = () => {
  const form = new FormData(); form.append("index", v("classify-index"));
  call("classify-out", "/api/classify", {method: "POST", body: form});
};
document.getElementById("list-encode").onclick = () => {
  const files = document.getElementById("list-files").files;
  if (!files.length) { show("list-out", {error: "Choose one or more image files first."}); return; }
  const form = new FormData();
  for (const file of files) form.append("images", file);
  call("list-out", "/api/encode_list", {method: "POST", body: form});
};
document.getElementById("training-show").onclick = () => call("training-out", "/api/training");
document.getElementById("attr-show").onclick = () => {
  const params = new URLSearchParams({index: v("attr-index")});
  for (const input of document.querySelectorAll("#attr-sliders input"))
    params.set(input.dataset.name, input.value);
  call("attr-out", "/api/attributes?" + params.toString());
};
fetch("/api/info").then(r => r.json()).then(info => {
  // One slider per attribute vector, from -3 to +3 in steps of 0.5.
  const sliders = document.getElementById("attr-sliders");
  for (const name of info.attributes || []) {
    const label = document.createElement("label");
    const value = document.createElement("span");
    value.textContent = "0";
    label.textContent = name + " ";
    const input = document.createElement("input");
    Object.assign(input, {type: "range", min: -3, max: 3, step: 0.5, value: 0});
    input.dataset.name = name;
    input.oninput = () => { value.textContent = input.value; };
    label.append(input, value);
    sliders.append(label, document.createElement("br"));
  }
  document.getElementById("model-info").textContent = "Model " + info.model +
    (info.epoch !== null ? " (checkpoint epoch " + info.epoch + ")" : " (export)") +
    ", images " + info.image_shape.join("×") + ", latent " + info.latent_dim +
    (info.dataset ? ", dataset " + info.dataset + " (" + info.num_images + " held-out images)" : "");
  for (const [panel, reason] of Object.entries(info.panels)) {
    const section = document.getElementById("panel-" + panel);
    if (section && reason) {
      section.className = "hidden-panel";
      section.innerHTML = "<h2>" + section.querySelector("h2").textContent +
        "</h2><p>Not available: " + escape(reason) + ".</p>";
    }
  }
  if (!info.panels.samples) document.getElementById("samples-show").click();
});
</script>
</body>
</html>
"""
