// The local admin page: every user's quarantined media, filtered and paged, and its release
// after review. It takes a pasted admin token (the local stack's /local/token issues none),
// kept in this tab's sessionStorage as the demo page keeps its session.
import { listQuarantined, MediaportError, releaseAsset } from "./mediaport.js";
import { countOf, describeScanResult, formatBytes, formatDate, formatDateTime, sentence } from "./format.js";

const TOKEN_KEY = "mediaport.admin.token";
const PAGE_SIZE = 50;
const ADMIN_TOKEN_COMMAND = "make token USER=root ADMIN=1";

const $ = (id) => document.getElementById(id);
const ui = {
  session: $("session"),
  forgetToken: $("forget-token"),
  tokenCard: $("token-card"),
  tokenForm: $("token-form"),
  token: $("admin-token"),
  tokenError: $("token-error"),
  quarantine: $("quarantine"),
  count: $("quarantine-count"),
  filters: $("quarantine-filters"),
  scanStatus: $("filter-scan"),
  userId: $("filter-user"),
  refresh: $("refresh"),
  error: $("quarantine-error"),
  status: $("quarantine-status"),
  table: $("quarantine-table"),
  list: $("quarantine-list"),
  empty: $("quarantine-empty"),
  more: $("quarantine-more"),
  release: $("release"),
  releaseForm: $("release-form"),
  releaseTitle: $("release-title"),
  releaseText: $("release-text"),
  releaseReason: $("release-reason"),
  releaseError: $("release-error"),
  releaseSubmit: $("release-submit"),
};

// The token in use, the items shown (assetId → item), the next page's cursor, and the asset
// the release dialog is for.
const state = { token: sessionStorage.getItem(TOKEN_KEY), shown: new Map(), cursor: null, releasing: null };
// Filters change faster than pages arrive: only the newest request's answer is shown.
let listRequest = 0;

// ---- the token -------------------------------------------------------------------------------

async function useToken(event) {
  event.preventDefault();
  const token = ui.token.value.trim().replace(/^Bearer\s+/i, "");
  if (!token) return showTokenError(`Paste a token first: \`${ADMIN_TOKEN_COMMAND}\` prints one.`);
  state.token = token;
  await loadList();
}

function forgetToken() {
  listRequest += 1;
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  ui.token.value = "";
  ui.session.hidden = true;
  ui.quarantine.hidden = true;
  ui.tokenCard.hidden = false;
  ui.tokenError.hidden = true;
  ui.token.focus();
}

/** The token worked: remember it for this tab, and show the list instead of the form. */
function acceptToken() {
  sessionStorage.setItem(TOKEN_KEY, state.token);
  ui.tokenError.hidden = true;
  ui.tokenCard.hidden = true;
  ui.session.hidden = false;
  ui.quarantine.hidden = false;
}

/** The token was refused (401, 403): back to the form, saying why in plain words. */
function refuseToken(error) {
  state.token = null;
  sessionStorage.removeItem(TOKEN_KEY);
  ui.session.hidden = true;
  ui.quarantine.hidden = true;
  ui.tokenCard.hidden = false;
  if (error.status === 403) {
    showTokenError(
      `This token is not an administrator's: the admin routes answered 403 Forbidden ` +
        `(${error.title || "Administrators only"}). Only a token in the admin group may see and ` +
        `release quarantined media; \`${ADMIN_TOKEN_COMMAND}\` prints one.`,
    );
  } else {
    showTokenError(
      `This token was not accepted (401 Unauthorized): it has expired, or it is not a token of ` +
        `this local stack. \`${ADMIN_TOKEN_COMMAND}\` prints a fresh one.`,
    );
  }
}

function showTokenError(message) {
  ui.tokenError.textContent = message;
  ui.tokenError.hidden = false;
  ui.token.focus();
}

function refusedToken(error) {
  return error instanceof MediaportError && (error.status === 401 || error.status === 403);
}

// ---- the list ----------------------------------------------------------------------------------

function filters() {
  return { scanStatus: ui.scanStatus.value || undefined, userId: ui.userId.value.trim() || undefined };
}

async function loadList({ more = false } = {}) {
  if (!state.token) return;
  const request = ++listRequest;
  hideError();
  ui.more.disabled = true;
  let page;
  try {
    page = await listQuarantined(
      { ...filters(), cursor: more ? state.cursor : undefined, limit: PAGE_SIZE },
      { token: state.token },
    );
  } catch (error) {
    if (request !== listRequest) return;
    ui.more.disabled = false;
    if (refusedToken(error)) return refuseToken(error);
    if (!ui.quarantine.hidden) return showError(`Could not list quarantined media. ${describeError(error)}`);
    return showTokenError(`Could not list quarantined media. ${describeError(error)}`);
  }
  if (request !== listRequest) return;
  acceptToken();
  if (!more) {
    state.shown.clear();
    ui.list.replaceChildren();
  }
  for (const item of page.items) {
    if (state.shown.has(item.assetId)) continue;
    state.shown.set(item.assetId, item);
    ui.list.append(row(item));
  }
  state.cursor = page.nextCursor;
  ui.more.disabled = false;
  updateCount();
}

function updateCount() {
  const count = state.shown.size;
  ui.table.hidden = count === 0;
  ui.empty.hidden = count > 0;
  const filtered = Boolean(filters().scanStatus || filters().userId);
  ui.empty.textContent = filtered ? "Nothing quarantined matches these filters." : "Nothing is quarantined.";
  ui.count.textContent = count ? `${countOf(count, "file")}${state.cursor ? ", more below" : ""}` : "";
  ui.more.hidden = !state.cursor;
}

function row(item) {
  const name = item.originalFilename || item.filename;
  const tr = document.createElement("tr");
  tr.dataset.assetId = item.assetId;
  tr.dataset.scan = item.scanStatus || "";

  const file = document.createElement("th");
  file.scope = "row";
  const title = document.createElement("span");
  title.textContent = name;
  const id = document.createElement("small");
  id.textContent = item.assetId;
  file.append(title, id);

  const scan = document.createElement("td");
  scan.className = "scan";
  const pill = document.createElement("span");
  pill.className = "scan-pill";
  pill.textContent = item.scanStatus === "ERROR" ? "Scan error" : "Threat found";
  const words = document.createElement("small");
  words.textContent = describeScanResult(item);
  scan.append(pill, words);

  const scanned = document.createElement("td");
  scanned.textContent = item.scannedAt ? formatDateTime(item.scannedAt) : "—";
  const uploaded = document.createElement("small");
  uploaded.textContent = `uploaded ${formatDate(item.createdAt)}`;
  scanned.append(uploaded);

  const actions = document.createElement("td");
  const release = document.createElement("button");
  release.type = "button";
  release.className = "small";
  release.textContent = "Release";
  release.setAttribute("aria-label", `Release ${name} of ${item.userId}`);
  release.addEventListener("click", () => openRelease(item));
  actions.append(release);

  tr.append(
    file,
    cell(item.userId),
    cell(item.mimeType || "unknown"),
    cell(item.size == null ? "—" : formatBytes(item.size)),
    scan,
    scanned,
    actions,
  );
  return tr;
}

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function removeRow(assetId) {
  ui.list.querySelector(`tr[data-asset-id="${CSS.escape(assetId)}"]`)?.remove();
  state.shown.delete(assetId);
  updateCount();
}

// ---- release -----------------------------------------------------------------------------------

function openRelease(item) {
  const name = item.originalFilename || item.filename;
  state.releasing = item;
  ui.releaseTitle.textContent = `Release ${name}`;
  ui.releaseText.textContent =
    `${name} of ${item.userId} is served again, and its thumbnails are made again. ` +
    `It is not scanned again: release it only after you have checked it.`;
  ui.releaseReason.value = "";
  ui.releaseError.hidden = true;
  ui.releaseSubmit.disabled = false;
  ui.release.showModal();
  ui.releaseReason.focus();
}

async function submitRelease(event) {
  event.preventDefault();
  const item = state.releasing;
  if (!item) return;
  const name = item.originalFilename || item.filename;
  const reason = ui.releaseReason.value.trim();
  if (!reason) return showReleaseError("Say why it is safe to serve: the reason is kept on the asset.");
  ui.releaseSubmit.disabled = true;
  let released;
  try {
    released = await releaseAsset(item.assetId, reason, { token: state.token });
  } catch (error) {
    ui.releaseSubmit.disabled = false;
    if (refusedToken(error)) {
      ui.release.close();
      return refuseToken(error);
    }
    if (error instanceof MediaportError && (error.status === 409 || error.status === 404)) {
      ui.release.close();
      removeRow(item.assetId);
      return showStatus(`${name} is not quarantined any more (released or deleted meanwhile).`);
    }
    return showReleaseError(`Could not release it. ${describeError(error)}`);
  }
  ui.release.close();
  removeRow(item.assetId);
  showStatus(`Released ${name} of ${released.userId}: it is served again (by ${released.releasedBy}).`);
}

function showReleaseError(message) {
  ui.releaseError.textContent = message;
  ui.releaseError.hidden = false;
  ui.releaseReason.focus();
}

// ---- messages ----------------------------------------------------------------------------------

function showError(message) {
  ui.error.textContent = message;
  ui.error.hidden = false;
}

function hideError() {
  ui.error.hidden = true;
  ui.error.textContent = "";
}

function showStatus(message) {
  ui.status.textContent = message;
}

/** A refused request in plain words, as a sentence. */
function describeError(error) {
  if (!(error instanceof MediaportError)) return sentence(String(error?.message || error));
  if (error.status === 0) return "The server did not answer. Is `make dev` running?";
  const fields = error.errors.map((problem) => problem.detail).filter(Boolean);
  return sentence(fields.length ? fields.join("; ") : error.detail || error.title);
}

// ---- wiring ------------------------------------------------------------------------------------

ui.tokenForm.addEventListener("submit", useToken);
ui.forgetToken.addEventListener("click", forgetToken);
ui.filters.addEventListener("submit", (event) => {
  event.preventDefault();
  showStatus("");
  loadList();
});
ui.scanStatus.addEventListener("change", () => loadList());
ui.refresh.addEventListener("click", () => {
  showStatus("");
  loadList();
});
ui.more.addEventListener("click", () => loadList({ more: true }));
ui.releaseForm.addEventListener("submit", submitRelease);
ui.release.addEventListener("click", (event) => {
  if (event.target === ui.release || event.target.closest("[data-close]")) ui.release.close();
});

if (state.token) {
  ui.token.value = state.token;
  loadList();
} else {
  ui.token.focus();
}
