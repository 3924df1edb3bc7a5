// The demo page: sign in with a local dev token, drop files, watch them become media, and
// see how much storage they take. The library of folders, tags and a trash is library.js.
import {
  createUploadQueue,
  getUsage,
  getUsageBreakdown,
  listResumableUploads,
  MediaportError,
} from "./mediaport.js";
import { closeLibrary, openFolder, openLibrary, setUpLibrary, showUploaded } from "./library.js";
import { countOf, describeScan, formatBytes, sentence } from "./format.js";

const SESSION_KEY = "mediaport.demo.session";
// The client's default (100 MiB) is above every default scope's limit; the demo sends
// files from 32 MiB up in parts so that multipart, and resuming one after a reload, can
// be seen with the scopes `make dev` starts with.
const MULTIPART_THRESHOLD = 32 * 1024 * 1024;
const QUOTA_EXCEEDED = "urn:mediaport:problem:quota-exceeded";
const TYPE_LABELS = { image: "Images", video: "Video", audio: "Audio", document: "Documents", other: "Other" };

const $ = (id) => document.getElementById(id);
const ui = {
  signInCard: $("sign-in-card"),
  signIn: $("sign-in"),
  userName: $("user-name"),
  tier: $("tier"),
  signInError: $("sign-in-error"),
  session: $("session"),
  sessionUser: $("session-user"),
  signOut: $("sign-out"),
  workspace: $("workspace"),
  scope: $("scope"),
  dropzone: $("dropzone"),
  fileInput: $("file-input"),
  uploads: $("uploads"),
  resumable: $("resumable"),
  resumableList: $("resumable-list"),
  announcer: $("announcer"),
  usageTier: $("usage-tier"),
  usageMeter: $("usage-meter"),
  usageFill: $("usage-fill"),
  usageText: $("usage-text"),
  usageWarning: $("usage-warning"),
  usageTypes: $("usage-types"),
  uploadTarget: $("upload-target"),
  uploadTargetFolder: $("upload-target-folder"),
};

let session = readSession();
let inFlight = new Set();
// Three files at a time: enough to fill the pipe, few enough to show each one's progress.
const enqueue = createUploadQueue({
  concurrency: 3,
  token: () => session?.token,
  multipartThreshold: MULTIPART_THRESHOLD,
});

// ---- session -------------------------------------------------------------------------

function readSession() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY)) || null;
  } catch {
    return null;
  }
}

async function signIn(event) {
  event.preventDefault();
  ui.signInError.hidden = true;
  const userId = ui.userName.value.trim();
  // No tier: the stack's default tier applies (MEDIAPORT_DEFAULT_TIER).
  const tier = ui.tier.value.trim() || null;
  let response;
  try {
    response = await fetch("/local/token", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ userId, tier }),
    });
  } catch {
    return showSignInError("The local stack is not answering. Is `make dev` running?");
  }
  const body = await response.json().catch(() => ({}));
  if (!response.ok) return showSignInError(body.detail || "That user name did not work.");
  session = { token: body.token, userId: body.userId };
  sessionStorage.setItem(SESSION_KEY, JSON.stringify(session));
  enterWorkspace();
}

function showSignInError(message) {
  ui.signInError.textContent = message;
  ui.signInError.hidden = false;
  ui.userName.focus();
}

function signOut() {
  for (const controller of inFlight) controller.abort();
  inFlight = new Set();
  session = null;
  sessionStorage.removeItem(SESSION_KEY);
  ui.uploads.replaceChildren();
  showResumable([]);
  closeLibrary();
  usageRequest += 1;
  ui.usageText.textContent = "Loading your usage…";
  ui.usageTier.textContent = "";
  ui.usageWarning.hidden = true;
  ui.usageTypes.replaceChildren();
  ui.workspace.hidden = true;
  ui.session.hidden = true;
  ui.signInCard.hidden = false;
  ui.userName.focus();
}

function enterWorkspace() {
  ui.sessionUser.textContent = session.userId;
  ui.session.hidden = false;
  ui.signInCard.hidden = true;
  ui.workspace.hidden = false;
  ui.dropzone.focus();
  openLibrary();
  refreshUsage();
  listResumableUploads({ token: session.token }).then(showResumable, () => showResumable([]));
}

// ---- uploads -------------------------------------------------------------------------

function addFiles(fileList) {
  const scope = ui.scope.value;
  // Files added while a folder is open go into it.
  const folder = openFolder();
  for (const file of fileList) startUpload(file, scope, folder);
}

/** The note in the upload card that says which folder new uploads go into, if any. */
function showUploadTarget(folder) {
  ui.uploadTarget.hidden = !folder;
  ui.uploadTargetFolder.textContent = folder || "";
}

function startUpload(file, scope, folder) {
  forgetResumable(file);
  const row = uploadRow(file, folder);
  ui.uploads.prepend(row.element);
  const controller = new AbortController();
  inFlight.add(controller);
  row.cancel.addEventListener("click", () => controller.abort());

  enqueue(file, {
    scope,
    folder,
    signal: controller.signal,
    onStage: (stage, { assetId, partCount, partsUploaded, resumed, asset }) => {
      if (assetId) row.element.dataset.assetId = assetId;
      if (stage === "presigning") row.show("uploading", "Starting…");
      if (stage === "uploading") {
        row.show("uploading", `Uploading ${row.progress.value}%`);
        if (resumed) row.note(`Resumed: ${partsUploaded} of ${partCount} parts were already uploaded`);
        else if (partCount) row.note(`In ${partCount} parts · resumes after a reload if the same file is added again`);
      }
      if (stage === "verifying") {
        // The bytes are in storage now: there is nothing left to cancel.
        row.cancel.hidden = true;
        row.show("verifying", "Verifying…");
      }
      if (stage === "processing") row.show("processing", "Processing…");
      if (stage === "scanning") {
        // Verified, but not served before the malware scan finds it clean.
        row.show("scanning", "Scanning…");
        row.note("Checking for malware: the file is served once the scan finds it clean.");
        showUploaded(asset);
      }
    },
    onProgress: ({ fraction }) => {
      const percent = Math.floor(fraction * 100);
      row.progress.value = percent;
      if (row.element.dataset.status === "uploading") row.state.textContent = `Uploading ${percent}%`;
    },
  })
    .then((asset) => {
      row.progress.value = 100;
      // The scan is over: its note goes (a multipart upload's note stays).
      if (row.element.dataset.status === "scanning") row.note("");
      if (asset.status === "QUARANTINED") {
        row.show("quarantined", "Quarantined", describeScan(asset));
        announce(`${file.name} is quarantined. ${describeScan(asset)}`);
      } else {
        row.show("ready", "Ready");
        if (asset.scanStatus === "PENDING") row.note(describeScan(asset));
        announce(`${file.name} is ready.`);
      }
      showUploaded(asset);
    })
    .catch(async (error) => {
      const { status, text, detail } = isQuotaRefusal(error) ? await describeQuotaRefusal() : describeFailure(error);
      row.show(status, text, detail);
      announce(`${file.name}: ${text}. ${detail}`);
    })
    .finally(() => {
      inFlight.delete(controller);
      row.cancel.hidden = true;
      refreshUsage();
    });
}

/** Refused before upload (403 quota-exceeded), or verified but REJECTED for the quota at READY. */
function isQuotaRefusal(error) {
  return error instanceof MediaportError && (error.type === QUOTA_EXCEEDED || error.rejectReason === "QUOTA_EXCEEDED");
}

async function describeQuotaRefusal() {
  try {
    const usage = await getUsage({ token: session.token });
    return {
      status: "rejected",
      text: "Doesn't fit",
      detail: `This file doesn't fit: ${formatBytes(usage.totalBytes)} of your ${formatBytes(usage.limitBytes)} are used.`,
    };
  } catch {
    return { status: "rejected", text: "Doesn't fit", detail: "This file doesn't fit in your storage." };
  }
}

function describeFailure(error) {
  if (error?.name === "AbortError") {
    return { status: "failed", text: "Cancelled", detail: "The upload was cancelled; nothing was kept." };
  }
  if (error instanceof MediaportError) {
    // 422: verification rejected the bytes; 400: the API refused the file before upload.
    if (error.status === 422 || error.status === 400) {
      const fields = error.errors.map((problem) => problem.detail);
      return { status: "rejected", text: "Rejected", detail: sentence(fields.length ? fields.join("; ") : error.detail) };
    }
    if (error.status === 401) {
      return { status: "failed", text: "Failed", detail: "Your session has expired. Sign out and in again." };
    }
    return { status: "failed", text: "Failed", detail: sentence(error.detail || error.title) };
  }
  return { status: "failed", text: "Failed", detail: sentence(String(error?.message || error)) };
}

function uploadRow(file, folder) {
  const element = document.createElement("li");
  element.className = "upload";
  element.dataset.status = "uploading";

  const name = document.createElement("div");
  name.className = "name";
  const title = document.createElement("span");
  title.textContent = file.name;
  title.title = file.name;
  const size = document.createElement("small");
  size.textContent = folder ? `${formatBytes(file.size)} · into ${folder}` : formatBytes(file.size);
  name.append(title, size);

  const progress = document.createElement("progress");
  progress.max = 100;
  progress.value = 0;
  progress.setAttribute("aria-label", `Upload progress of ${file.name}`);

  const state = document.createElement("span");
  state.className = "state";
  state.textContent = "Queued";

  const cancel = document.createElement("button");
  cancel.type = "button";
  cancel.className = "icon action";
  cancel.textContent = "✕";
  cancel.setAttribute("aria-label", `Cancel upload of ${file.name}`);
  cancel.title = "Cancel";

  const detail = document.createElement("p");
  detail.className = "detail";
  detail.hidden = true;

  const note = document.createElement("p");
  note.className = "note";
  note.hidden = true;

  element.append(name, progress, state, cancel, detail, note);
  return {
    element,
    progress,
    state,
    cancel,
    note(message) {
      note.textContent = message;
      note.hidden = !message;
    },
    show(status, text, message = "") {
      element.dataset.status = status;
      state.textContent = text;
      detail.textContent = message;
      detail.hidden = !message;
    },
  };
}

// ---- usage ---------------------------------------------------------------------------

// Uploads finish in any order: only the newest request's answer is shown.
let usageRequest = 0;

async function refreshUsage() {
  if (!session) return;
  const request = ++usageRequest;
  const options = { token: session.token };
  let usage, breakdown;
  try {
    [usage, breakdown] = await Promise.all([getUsage(options), getUsageBreakdown(options)]);
  } catch (error) {
    if (request === usageRequest) ui.usageText.textContent = `Could not read your usage (${error.message}).`;
    return;
  }
  if (request === usageRequest) showUsage(usage, breakdown);
}

function showUsage(usage, breakdown) {
  const percent = Math.min(100, Math.max(0, usage.percentUsed));
  ui.usageTier.textContent = `${usage.tier} tier`;
  ui.usageFill.style.width = `${percent}%`;
  ui.usageMeter.setAttribute("aria-valuenow", String(Math.round(percent)));
  ui.usageMeter.dataset.warning = usage.warning || "";
  const files = countOf(usage.totalFiles, "file");
  ui.usageText.textContent = `${formatBytes(usage.totalBytes)} of ${formatBytes(usage.limitBytes)} used · ${files}`;
  ui.usageWarning.dataset.warning = usage.warning || "";
  ui.usageWarning.hidden = !usage.warning;
  if (usage.warning === "EXCEEDED") ui.usageWarning.textContent = "Your storage is full: delete something to upload more.";
  if (usage.warning === "APPROACHING") {
    ui.usageWarning.textContent = `Your storage is almost full: ${formatBytes(usage.remainingBytes)} left.`;
  }
  const types = Object.entries(breakdown.byType || {}).filter(([, counter]) => counter.files > 0);
  ui.usageTypes.replaceChildren(
    ...types.map(([type, counter]) => {
      const item = document.createElement("li");
      item.dataset.type = type;
      const swatch = document.createElement("span");
      swatch.className = "swatch";
      const label = document.createElement("strong");
      label.textContent = TYPE_LABELS[type] || type;
      item.append(swatch, label, ` ${formatBytes(counter.bytes)} · ${counter.files}`);
      return item;
    }),
  );
}

// ---- resumable uploads -----------------------------------------------------------------

/** Multipart uploads a closed or reloaded page left unfinished: the same file resumes them. */
function showResumable(entries) {
  ui.resumableList.replaceChildren(
    ...entries.map((entry) => {
      const item = document.createElement("li");
      item.dataset.file = fileIdentity(entry);
      const name = document.createElement("strong");
      name.textContent = entry.filename;
      item.append(name, ` · ${formatBytes(entry.size)} · ${entry.partCount} parts`);
      return item;
    }),
  );
  ui.resumable.hidden = entries.length === 0;
}

function forgetResumable(file) {
  const identity = fileIdentity({ filename: file.name, size: file.size, lastModified: file.lastModified });
  for (const item of ui.resumableList.children) {
    if (item.dataset.file === identity) item.remove();
  }
  ui.resumable.hidden = ui.resumableList.children.length === 0;
}

function fileIdentity({ filename, size, lastModified }) {
  return JSON.stringify([filename, size, lastModified]);
}

// ---- helpers -------------------------------------------------------------------------

function announce(message) {
  ui.announcer.textContent = message;
}

// ---- wiring --------------------------------------------------------------------------

ui.signIn.addEventListener("submit", signIn);
ui.signOut.addEventListener("click", signOut);

ui.dropzone.addEventListener("click", () => ui.fileInput.click());
ui.dropzone.addEventListener("keydown", (event) => {
  if (event.key === "Enter" || event.key === " ") {
    event.preventDefault();
    ui.fileInput.click();
  }
});
for (const type of ["dragenter", "dragover"]) {
  ui.dropzone.addEventListener(type, (event) => {
    event.preventDefault();
    ui.dropzone.classList.add("dragging");
  });
}
for (const type of ["dragleave", "drop"]) {
  ui.dropzone.addEventListener(type, () => ui.dropzone.classList.remove("dragging"));
}
ui.dropzone.addEventListener("drop", (event) => {
  event.preventDefault();
  if (event.dataTransfer?.files.length) addFiles(event.dataTransfer.files);
});
// A file dropped next to the zone should not navigate away from the page.
window.addEventListener("dragover", (event) => event.preventDefault());
window.addEventListener("drop", (event) => event.preventDefault());

ui.fileInput.addEventListener("change", () => {
  addFiles(ui.fileInput.files);
  ui.fileInput.value = "";
});

setUpLibrary({
  token: () => session?.token,
  announce,
  onUsageChange: refreshUsage,
  onFolderChange: showUploadTarget,
});

if (session?.token) enterWorkspace();
else ui.userName.focus();
