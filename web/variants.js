// The demo page's variants panel: the variants of one served image (its thumbnails and the
// ones asked for), and a small form that asks for a resize, a crop or an optimize, waits for
// it, and says how it went. library.js opens it from an image's "Variants" action.
import {
  cropImage,
  getAsset,
  listVariants,
  MediaportError,
  optimizeImage,
  resizeImage,
  waitForVariant,
} from "./mediaport.js";
import { formatBytes, formatSaving, sentence } from "./format.js";

const OPERATIONS = {
  resize: { submit: "Resize", run: resizeImage, fields: ["width", "height", "fit"] },
  crop: { submit: "Crop", run: cropImage, fields: ["x", "y", "width", "height"] },
  optimize: { submit: "Optimize", run: optimizeImage, fields: [] },
};
const FORMAT_NAMES = { webp: "WebP", avif: "AVIF", jpeg: "JPEG", png: "PNG" };
// The format a crop or an optimize keeps when none is chosen (a GIF becomes WebP).
const SAME_FORMAT = { "image/jpeg": "jpeg", "image/png": "png", "image/webp": "webp" };
const FAILURES = {
  NOT_SMALLER: "not smaller, no copy kept",
  UNREADABLE: "the image could not be read",
  GAVE_UP: "gave up after several tries",
};
const VARIANT_TIMEOUT_MS = 60_000;

const $ = (id) => document.getElementById(id);
const ui = {
  dialog: $("variants"),
  title: $("variants-title"),
  meta: $("variants-meta"),
  list: $("variants-list"),
  listError: $("variants-list-error"),
  form: $("variant-form"),
  fields: {
    x: $("variant-x"),
    y: $("variant-y"),
    width: $("variant-width"),
    height: $("variant-height"),
    fit: $("variant-fit"),
    format: $("variant-format"),
    quality: $("variant-quality"),
  },
  formatDefault: $("variant-format-default"),
  submit: $("variant-submit"),
  result: $("variant-result"),
  error: $("variant-error"),
};

// The image the panel shows, what to tell when it changes, and the work in flight for it
// (cancelled when the panel closes or shows another image).
const panel = { asset: null, onChange: null, controller: null, listRequest: 0 };
let host = null;

/** Wire the panel's controls, once. `token` reads the session's token when a request is made. */
export function setUpVariants({ token }) {
  host = { token };
  ui.form.addEventListener("submit", submitOperation);
  for (const radio of ui.form.elements.operation) radio.addEventListener("change", showOperation);
  ui.dialog.addEventListener("click", (event) => {
    if (event.target === ui.dialog || event.target.closest("[data-close]")) ui.dialog.close();
  });
  ui.dialog.addEventListener("close", () => {
    panel.controller?.abort();
    panel.controller = null;
    panel.asset = null;
  });
}

/** Show the variants of a served image; `onChange` hears of the asset changed by an optimize. */
export function openVariants(asset, { onChange = () => {} } = {}) {
  panel.controller?.abort();
  panel.controller = new AbortController();
  panel.asset = asset;
  panel.onChange = onChange;
  ui.title.textContent = `Variants of ${nameOf(asset)}`;
  showMeta(asset);
  ui.form.reset();
  showOperation();
  showResult("");
  hideError();
  ui.submit.disabled = false;
  ui.list.replaceChildren();
  ui.dialog.showModal();
  refreshList();
}

/** Close the panel, and stop what it waits for (on sign-out). */
export function closeVariants() {
  ui.dialog.close();
}

// ---- the list ------------------------------------------------------------------------------

async function refreshList() {
  const { asset } = panel;
  if (!asset) return;
  const request = ++panel.listRequest;
  ui.list.setAttribute("aria-busy", "true");
  let variants;
  try {
    variants = await listVariants(asset.assetId, apiOptions());
  } catch (error) {
    if (request === panel.listRequest) showListError(`Could not list the variants. ${describeError(error)}`);
    return;
  } finally {
    if (request === panel.listRequest) ui.list.setAttribute("aria-busy", "false");
  }
  if (request !== panel.listRequest || panel.asset !== asset) return;
  ui.listError.hidden = true;
  ui.list.replaceChildren(...variants.map(variantRow));
}

function variantRow(variant) {
  const row = document.createElement("tr");
  row.dataset.variant = variant.name;
  row.dataset.status = variant.status;
  const name = document.createElement("th");
  name.scope = "row";
  const code = document.createElement("code");
  code.textContent = variant.name;
  const what = document.createElement("small");
  what.textContent = describeParams(variant.params || {});
  name.append(code, what);
  const link = document.createElement("td");
  if (variant.status === "READY" && variant.url) {
    const open = document.createElement("a");
    open.href = variant.url;
    open.target = "_blank";
    open.rel = "noopener";
    open.textContent = "Open";
    open.setAttribute("aria-label", `Open variant ${variant.name}`);
    link.append(open);
  }
  row.append(
    name,
    cell(`${variant.width}×${variant.height}`, "size"),
    cell(FORMAT_NAMES[variant.format] || variant.format, "format"),
    cell(describeStatus(variant), "status"),
    cell(variant.bytes == null ? "—" : formatBytes(variant.bytes), "bytes"),
    link,
  );
  return row;
}

function cell(text, kind) {
  const element = document.createElement("td");
  element.className = kind;
  element.textContent = text;
  return element;
}

function describeParams(params) {
  const quality = params.quality ? `, quality ${params.quality}` : "";
  switch (params.operation) {
    case "thumbnail":
      return `thumbnail, longest edge ${params.maxEdge}`;
    case "resize": {
      const fit = params.fit ? `, ${params.fit}` : "";
      return `resize to ${params.width ?? "auto"}×${params.height ?? "auto"}${fit}${quality}`;
    }
    case "crop":
      return `crop ${params.width}×${params.height} at ${params.x},${params.y}${quality}`;
    case "optimize":
      return `optimize${quality}`;
    default:
      return params.operation || "";
  }
}

function describeStatus(variant) {
  if (variant.status === "READY") return "Ready";
  if (variant.status === "PENDING") return "Being made…";
  return `Failed: ${FAILURES[variant.reason] || variant.detail || "unknown reason"}`;
}

function showMeta(asset) {
  const parts = [];
  if (asset.width && asset.height) parts.push(`original ${asset.width}×${asset.height}`);
  if (asset.mimeType) parts.push(asset.mimeType);
  if (asset.size) parts.push(formatBytes(asset.size));
  if (asset.optimizedSize) {
    const saving = formatSaving(asset.originalSize || asset.size, asset.optimizedSize, asset.compressionRatio);
    parts.push(`optimized: ${saving}`);
  }
  ui.meta.textContent = parts.join(" · ");
}

// ---- asking for one --------------------------------------------------------------------------

function operation() {
  return ui.form.elements.operation.value || "resize";
}

/** Only the fields the chosen operation takes; the format's default says what it is. */
function showOperation() {
  const chosen = operation();
  const { fields, submit } = OPERATIONS[chosen];
  for (const name of ["x", "y", "width", "height", "fit"]) {
    ui.fields[name].closest(".field").hidden = !fields.includes(name);
  }
  ui.submit.textContent = submit;
  const same = SAME_FORMAT[panel.asset?.mimeType] || "webp";
  ui.formatDefault.textContent =
    chosen === "resize" ? "WebP (default)" : `Same as the original (${FORMAT_NAMES[same]})`;
  hideError();
}

async function submitOperation(event) {
  event.preventDefault();
  const { asset, controller } = panel;
  if (!asset) return;
  hideError();
  const chosen = operation();
  let request;
  try {
    request = readRequest(chosen);
  } catch (problem) {
    return showError(problem.message);
  }
  const options = { ...apiOptions(), signal: controller.signal };
  ui.submit.disabled = true;
  showResult(`Asking for the ${chosen}…`, "pending");
  try {
    let variant = await OPERATIONS[chosen].run(asset.assetId, request, options);
    if (variant.status === "PENDING") {
      showResult(`Making the ${chosen}: ${describeVariant(variant)}…`, "pending");
      refreshList();
      variant = await waitForVariant(asset.assetId, variant.name, { ...options, timeoutMs: VARIANT_TIMEOUT_MS });
    }
    await showOutcome(chosen, variant, options);
  } catch (error) {
    if (controller.signal.aborted) return;
    if (error instanceof MediaportError && error.title === "Timed out" && error.variant) {
      showResult(`Still being made after a minute; it shows in the list above once it is ready.`, "pending");
    } else {
      showResult("");
      showError(`The ${chosen} was refused. ${describeError(error)}`);
    }
  } finally {
    if (!controller.signal.aborted) {
      ui.submit.disabled = false;
      refreshList();
    }
  }
}

/** The form as a request; an Error says what to fix first. */
function readRequest(chosen) {
  const request = { format: ui.fields.format.value || undefined, quality: whole("quality", "Quality", 1, 100) };
  if (chosen === "resize") {
    Object.assign(request, { width: whole("width", "Width", 1), height: whole("height", "Height", 1) });
    if (request.width == null && request.height == null) throw new Error("Give a width, a height or both.");
    request.fit = ui.fields.fit.value;
  }
  if (chosen === "crop") {
    Object.assign(request, {
      x: whole("x", "X", 0) ?? 0,
      y: whole("y", "Y", 0) ?? 0,
      width: whole("width", "Width", 1),
      height: whole("height", "Height", 1),
    });
    if (request.width == null || request.height == null) throw new Error("Give the width and height of the crop.");
  }
  return request;
}

/** A number field's whole number (undefined when empty); an Error when it is not one. */
function whole(name, label, min, max = Infinity) {
  const text = ui.fields[name].value.trim();
  if (!text) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < min || value > max) {
    const range = max === Infinity ? `${min} or more` : `${min} to ${max}`;
    throw new Error(`${label} must be a whole number, ${range}.`);
  }
  return value;
}

async function showOutcome(chosen, variant, options) {
  if (variant.status === "FAILED") {
    if (variant.reason === "NOT_SMALLER") {
      showResult("optimized: already as small as it gets; no copy was kept.", "not-smaller");
    } else {
      showResult(`The ${chosen} failed: ${FAILURES[variant.reason] || sentence(variant.detail)}`, "failed");
    }
    return;
  }
  if (chosen === "optimize") {
    // The asset now carries what was saved.
    const asset = await getAsset(panel.asset.assetId, options);
    panel.asset = asset;
    showMeta(asset);
    panel.onChange(asset);
    const { originalSize, optimizedSize, compressionRatio } = asset;
    const saving = formatSaving(originalSize || asset.size, optimizedSize || variant.bytes, compressionRatio);
    showResult(`optimized: ${saving}`, "ready", variant);
    return;
  }
  showResult(`Ready: ${describeVariant(variant)}, ${formatBytes(variant.bytes)}.`, "ready", variant);
}

/** "400×300 WebP". */
function describeVariant(variant) {
  return `${variant.width}×${variant.height} ${FORMAT_NAMES[variant.format] || variant.format}`;
}

function showResult(text, outcome = "", variant = null) {
  ui.result.replaceChildren(text);
  ui.result.dataset.outcome = outcome;
  if (variant?.url) {
    const open = document.createElement("a");
    open.href = variant.url;
    open.target = "_blank";
    open.rel = "noopener";
    open.textContent = "Open it";
    ui.result.append(" ", open);
  }
}

// ---- errors ----------------------------------------------------------------------------------

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function hideError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

function showListError(message) {
  ui.listError.textContent = message;
  ui.listError.hidden = false;
}

/** A refused request in plain words, as a sentence. */
function describeError(error) {
  if (!(error instanceof MediaportError)) return sentence(String(error?.message || error));
  if (error.status === 0) return "The server did not answer. Is `make dev` running?";
  if (error.status === 401) return "Your session has expired. Sign out and in again.";
  const fields = error.errors.map((problem) => problem.detail).filter(Boolean);
  return sentence(fields.length ? fields.join("; ") : error.detail || error.title);
}

function apiOptions() {
  return { token: host.token };
}

function nameOf(asset) {
  return asset.originalFilename || asset.filename;
}
