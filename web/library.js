// The demo page's media library: a sidebar of folders, filters, a grid of ready media that
// can be edited, moved, downloaded and deleted, a Trash to restore from, and a viewer.
// With malware scanning on, the grid also shows media waiting for its scan ("Scanning…")
// and media held back by it ("Quarantined"). demo.js signs in and uploads; it opens and
// closes the library around a session; variants.js is the panel of an image's variants.
import {
  createFolder,
  deleteAsset,
  deleteFolder,
  downloadUrl,
  getAsset,
  getAssetWithETag,
  listFolders,
  listLibrary,
  MediaportError,
  moveAsset,
  restoreAsset,
  updateAsset,
} from "./mediaport.js";
import { countOf, describeScan, formatBytes, formatDate, sentence } from "./format.js";
import { closeVariants, openVariants, setUpVariants } from "./variants.js";

const GALLERY_SIZE = 512;
const VIEWER_SIZE = 1024;
const PAGE_SIZE = 24;
// The q and tag filters may answer short pages: a page is topped up with this many requests at most.
const PAGE_REQUESTS = 5;
const SEARCH_DELAY_MS = 300;
// A signed download URL is not used this close to its expiry: the click asks for a fresh one.
const DOWNLOAD_URL_MARGIN_MS = 10_000;
// What a library item carries while it is dragged onto a folder.
const ASSET_DRAG_TYPE = "application/x-mediaport-asset";
const VIEW_TITLES = { all: "All media", none: "Not in a folder", trash: "Trash" };
// Deleting a folder moves a bounded number of assets per request; this many requests at most.
const FOLDER_MOVE_REQUESTS = 20;
// The types an image operation (resize, crop, optimize) takes.
const VARIANT_TYPES = new Set(["image/jpeg", "image/png", "image/webp", "image/gif"]);
// Media waiting for its malware scan (then its thumbnails) is read again, less and less
// often, until it settles or this long has passed.
const WATCH_FIRST_MS = 1_000;
const WATCH_MAX_MS = 4_000;
const WATCH_LIMIT_MS = 5 * 60_000;

const $ = (id) => document.getElementById(id);
const ui = {
  folderList: $("folder-list"),
  newFolder: $("new-folder"),
  newFolderPath: $("new-folder-path"),
  newFolderError: $("new-folder-error"),
  filters: $("filters"),
  filterQ: $("filter-q"),
  filterType: $("filter-type"),
  filterTag: $("filter-tag"),
  filterSort: $("filter-sort"),
  activeTags: $("active-tags"),
  viewTitle: $("view-title"),
  deleteFolder: $("delete-folder"),
  libraryError: $("library-error"),
  gallery: $("gallery"),
  galleryEmpty: $("gallery-empty"),
  galleryCount: $("gallery-count"),
  loadMore: $("load-more"),
  viewer: $("viewer"),
  viewerTitle: $("viewer-title"),
  viewerImage: $("viewer-image"),
  viewerMeta: $("viewer-meta"),
  editor: $("editor"),
  editorForm: $("editor-form"),
  editorTitle: $("editor-title"),
  editorAlt: $("editor-alt"),
  editorTags: $("editor-tags"),
  editorError: $("editor-error"),
  editorReload: $("editor-reload"),
  editorSave: $("editor-save"),
  mover: $("mover"),
  moverForm: $("mover-form"),
  moverTitle: $("mover-title"),
  moverFolder: $("mover-folder"),
  moverError: $("mover-error"),
  folderRemover: $("folder-remover"),
  folderRemoverForm: $("folder-remover-form"),
  folderRemoverTitle: $("folder-remover-title"),
  folderRemoverText: $("folder-remover-text"),
  folderRemoverMove: $("folder-remover-move"),
  folderRemoverTarget: $("folder-remover-target"),
  folderRemoverError: $("folder-remover-error"),
  folderRemoverSubmit: $("folder-remover-submit"),
};
const formDialogs = [ui.editor, ui.mover, ui.folderRemover];

// The view (all media, media in no folder, one folder, or the trash), the tag filters, and
// what the grid shows. The other filters are read from their controls when needed.
const library = {
  view: { kind: "all" },
  tags: [],
  folders: [],
  shown: new Map(), // assetId → the asset as its item shows it
  cursor: null,
  loading: false,
};
// Views and filters change faster than pages arrive: only the newest request's answer is shown.
let libraryRequest = 0;
let foldersRequest = 0;
let searchTimer = 0;
// What the page around the library provides; set once by setUpLibrary.
let host = null;
// Assets being read again until they settle (assetId → timer); a new session drops them all.
const watching = new Map();
let watchSession = 0;

// ---- what the page uses ------------------------------------------------------------------

/**
 * Wire the library's controls, once. `token` reads the session's token when a request is
 * made (nothing when signed out); `announce` speaks to screen readers; `onUsageChange` hears
 * that media went to or came back from the Trash; `onFolderChange` hears which folder is
 * open (undefined when none is).
 */
export function setUpLibrary({ token, announce, onUsageChange, onFolderChange }) {
  host = { token, announce, onUsageChange, onFolderChange };
  setUpVariants({ token });

  ui.newFolder.addEventListener("submit", submitNewFolder);
  ui.deleteFolder.addEventListener("click", openFolderRemover);
  ui.folderRemoverForm.addEventListener("submit", submitFolderRemover);
  ui.moverForm.addEventListener("submit", submitMover);
  ui.editorForm.addEventListener("submit", saveEditor);
  ui.editorReload.addEventListener("click", reloadEditor);
  ui.loadMore.addEventListener("click", () => loadLibrary({ more: true }));

  ui.filters.addEventListener("submit", submitFilters);
  ui.filterType.addEventListener("change", () => loadLibrary());
  ui.filterSort.addEventListener("change", () => loadLibrary());
  ui.filterQ.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => loadLibrary(), SEARCH_DELAY_MS);
  });

  // The dialogs close from their Close and Cancel buttons, and from a click beside them.
  for (const dialog of [...formDialogs, ui.viewer]) {
    dialog.addEventListener("click", (event) => {
      if (event.target === dialog || event.target.closest("[data-close]")) dialog.close();
    });
  }
  ui.viewer.addEventListener("close", () => ui.viewerImage.removeAttribute("src"));
}

/** Show all media and the folders of the user just signed in. */
export function openLibrary() {
  selectView({ kind: "all" });
  refreshFolders();
}

/** Forget what the signed-out user had open; answers still on their way are dropped. */
export function closeLibrary() {
  libraryRequest += 1;
  foldersRequest += 1;
  stopWatching();
  closeVariants();
  for (const dialog of formDialogs) dialog.close();
  ui.filters.reset();
  library.tags = [];
  library.folders = [];
  library.view = { kind: "all" };
  library.shown.clear();
  library.cursor = null;
  renderTagFilters();
  ui.folderList.replaceChildren();
  ui.gallery.replaceChildren();
  hideLibraryError();
  updateGalleryCount();
}

/** The folder open now, where new uploads go; undefined in every other view. */
export function openFolder() {
  return library.view.kind === "folder" ? library.view.path : undefined;
}

/**
 * An upload that settled, or one waiting for its malware scan: first in the grid when it
 * belongs in the view (its item brought up to date when shown already), and counted in its
 * folder.
 */
export function showUploaded(asset) {
  if (library.shown.has(asset.assetId)) updateShown(asset);
  else if (belongsInView(asset)) showAsset(asset, { first: true });
  if (asset.folder) refreshFolders();
}

// ---- what is shown -----------------------------------------------------------------------

function selectView(view) {
  library.view = view;
  const inFolder = view.kind === "folder";
  ui.viewTitle.textContent = inFolder ? view.path : VIEW_TITLES[view.kind];
  ui.deleteFolder.hidden = !inFolder;
  if (inFolder) ui.deleteFolder.setAttribute("aria-label", `Delete folder ${view.path}`);
  ui.gallery.setAttribute("aria-label", view.kind === "trash" ? "Deleted media" : "Ready media");
  host.onFolderChange(openFolder());
  renderFolders();
  loadLibrary();
}

function sameView(a, b) {
  return a.kind === b.kind && (a.kind !== "folder" || a.path === b.path);
}

/** The query of the current view and filters (without cursor and limit). */
function currentFilters() {
  const { view, tags } = library;
  const filters = { q: ui.filterQ.value.trim(), type: ui.filterType.value, tags, sort: ui.filterSort.value };
  if (view.kind === "trash") return { ...filters, deleted: true };
  if (view.kind === "folder") filters.folder = view.path;
  if (view.kind === "none") filters.folder = "/";
  return { ...filters, status: "READY" };
}

function filtering() {
  return Boolean(ui.filterQ.value.trim() || ui.filterType.value || library.tags.length);
}

/** Whether an asset this page just changed or made belongs in the grid as it is filtered now. */
function belongsInView(asset) {
  const { view, tags } = library;
  if (view.kind === "trash") return asset.status === "DELETED";
  if (asset.status !== "READY" && asset.status !== "QUARANTINED") return false;
  if (view.kind === "none" && asset.folder) return false;
  if (view.kind === "folder" && asset.folder !== view.path) return false;
  // As the server files it: by the detected type, or the declared one while uploading.
  if (ui.filterType.value && typeOf(asset.mimeType || asset.declaredType) !== ui.filterType.value) return false;
  if (tags.some((tag) => !(asset.tags || []).includes(tag))) return false;
  const q = ui.filterQ.value.trim().toLowerCase();
  const text = [asset.originalFilename, asset.filename, asset.altText, asset.caption].join("\n").toLowerCase();
  return !q || text.includes(q);
}

function typeOf(mimeType = "") {
  const [major] = mimeType.split("/");
  if (["image", "video", "audio"].includes(major)) return major;
  return mimeType === "application/pdf" ? "document" : "other";
}

async function loadLibrary({ more = false } = {}) {
  if (!host.token()) return;
  const request = ++libraryRequest;
  hideLibraryError();
  if (!more) {
    ui.gallery.replaceChildren();
    library.shown.clear();
    library.cursor = null;
  }
  library.loading = true;
  ui.gallery.setAttribute("aria-busy", "true");
  ui.loadMore.disabled = true;
  updateGalleryCount();
  let page = null;
  let held = [];
  try {
    [page, held] = await Promise.all([fetchPage(more ? library.cursor : null), more ? [] : fetchQuarantined()]);
  } catch (error) {
    if (request === libraryRequest) showLibraryError(`Could not list your media. ${describeError(error)}`);
  }
  if (request !== libraryRequest) return;
  if (page) {
    // What the malware scan holds back comes first: it needs its owner's attention.
    for (const asset of [...held, ...page.items]) showAsset(asset);
    library.cursor = page.nextCursor;
  }
  library.loading = false;
  ui.gallery.setAttribute("aria-busy", "false");
  ui.loadMore.disabled = false;
  updateGalleryCount();
}

/**
 * The quarantined media of the current view (status QUARANTINED: the malware scan holds it
 * back), one page of it; none in the Trash, and none when scanning is off.
 */
async function fetchQuarantined() {
  if (library.view.kind === "trash") return [];
  try {
    const page = await listLibrary({ ...currentFilters(), status: "QUARANTINED", limit: PAGE_SIZE }, apiOptions());
    return page.items;
  } catch {
    return []; // the media that is served still shows; this list is a courtesy
  }
}

/** One page of the current view, topped up while the API answers short pages with a cursor. */
async function fetchPage(cursor) {
  const items = [];
  for (let round = 0; round < PAGE_REQUESTS; round += 1) {
    const page = await listLibrary({ ...currentFilters(), limit: PAGE_SIZE - items.length, cursor }, apiOptions());
    items.push(...page.items);
    cursor = page.nextCursor;
    if (!cursor || items.length >= PAGE_SIZE) break;
  }
  return { items, nextCursor: cursor };
}

function showAsset(asset, { first = false } = {}) {
  if (library.shown.has(asset.assetId)) return;
  library.shown.set(asset.assetId, asset);
  const item = libraryItem(asset);
  if (first) ui.gallery.prepend(item);
  else ui.gallery.append(item);
  updateGalleryCount();
  if (waitingForScan(asset)) watch(asset.assetId);
}

/** Show an asset's new state: in place when it still belongs in the view, else gone from it. */
function updateShown(asset) {
  const item = itemOf(asset.assetId);
  if (!item) return;
  if (!belongsInView(asset)) {
    removeShown(asset.assetId);
    return;
  }
  library.shown.set(asset.assetId, asset);
  item.replaceWith(libraryItem(asset));
  if (waitingForScan(asset)) watch(asset.assetId);
}

function removeShown(assetId) {
  itemOf(assetId)?.remove();
  library.shown.delete(assetId);
  updateGalleryCount();
}

function itemOf(assetId) {
  return ui.gallery.querySelector(`li[data-asset-id="${CSS.escape(assetId)}"]`);
}

function updateGalleryCount() {
  const count = ui.gallery.children.length;
  ui.galleryEmpty.hidden = count > 0 || library.loading;
  ui.galleryEmpty.textContent = emptyMessage();
  ui.galleryCount.textContent = count ? `${countOf(count, "file")}${library.cursor ? ", more below" : ""}` : "";
  ui.loadMore.hidden = !library.cursor;
}

function emptyMessage() {
  if (filtering()) return "Nothing matches these filters.";
  if (library.view.kind === "trash") {
    return "The Trash is empty. Deleted media waits here until it is removed for good.";
  }
  if (library.view.kind === "folder") return "This folder is empty. Upload while it is open, or drag media onto it.";
  if (library.view.kind === "none") return "Every file is in a folder.";
  return "Nothing here yet. Upload a photo and its thumbnail appears here.";
}

function showLibraryError(message, action = null) {
  ui.libraryError.replaceChildren(message);
  if (action) {
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = action.label;
    button.addEventListener("click", action.run, { once: true });
    ui.libraryError.append(" ", button);
  }
  ui.libraryError.hidden = false;
}

function hideLibraryError() {
  ui.libraryError.hidden = true;
  ui.libraryError.replaceChildren();
}

// ---- one item ----------------------------------------------------------------------------

function libraryItem(asset) {
  const label = nameOf(asset);
  const trashed = asset.status === "DELETED";
  const held = heldBack(asset);
  const item = document.createElement("li");
  item.className = "asset";
  item.dataset.assetId = asset.assetId;
  item.dataset.status = asset.status;
  if (asset.scanStatus) item.dataset.scan = asset.scanStatus;
  const figure = document.createElement("figure");
  const tile = held ? scanTile(asset) : assetTile(asset, label, { openable: !trashed });
  figure.append(tile, assetCaption(asset, label));
  item.append(figure);
  if (trashed) {
    item.append(trashNote(asset), actions(button("Restore", `Restore ${label}`, () => restore(asset))));
    return item;
  }
  item.draggable = true;
  item.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(ASSET_DRAG_TYPE, asset.assetId);
    event.dataTransfer.effectAllowed = "move";
    item.classList.add("dragging");
  });
  item.addEventListener("dragend", () => item.classList.remove("dragging"));
  if (asset.tags?.length) item.append(tagButtons(asset.tags, label));
  if (held) item.append(scanNote(asset));
  // Nothing to download, and no variants, before the scan says the file is clean.
  const served = asset.status === "READY" && !held;
  item.append(
    actions(
      button("Edit", `Edit ${label}`, () => openEditor(asset)),
      button("Move", `Move ${label}`, () => openMover(asset)),
      served && downloadLink(asset, label),
      served && hasVariants(asset) && button("Variants", `Variants of ${label}`, () => showVariants(asset)),
      button("Delete", `Delete ${label}`, () => trash(asset), "danger"),
    ),
  );
  return item;
}

/** The variants panel of a served image; an optimize changes the asset (what it saved). */
function showVariants(asset) {
  openVariants(asset, { onChange: updateShown });
}

/** Not served: waiting for its malware scan, or quarantined by it. */
function heldBack(asset) {
  return waitingForScan(asset) || asset.status === "QUARANTINED";
}

function waitingForScan(asset) {
  return asset.status === "READY" && asset.scanStatus === "PENDING";
}

function hasVariants(asset) {
  return Boolean(asset.url) && VARIANT_TYPES.has(asset.mimeType);
}

/** The tile of media the scan holds back: no picture of it, only what is happening. */
function scanTile(asset) {
  const tile = document.createElement("div");
  const quarantined = asset.status === "QUARANTINED";
  tile.className = `tile ${quarantined ? "quarantined" : "scanning"}`;
  const badge = document.createElement("span");
  badge.className = "scan-badge";
  badge.textContent = quarantined ? "Quarantined" : "Scanning…";
  const kind = document.createElement("span");
  kind.className = "scan-kind";
  kind.textContent = (asset.mimeType || asset.declaredType || "file").split("/").pop().toUpperCase();
  tile.append(badge, kind);
  return tile;
}

function scanNote(asset) {
  const note = document.createElement("p");
  note.className = "scan-note";
  note.textContent = describeScan(asset);
  return note;
}

function assetTile(asset, label, { openable }) {
  const tile = document.createElement(openable ? "button" : "div");
  tile.className = "tile";
  if (openable) {
    tile.type = "button";
    tile.setAttribute("aria-label", `Open ${label}`);
    tile.addEventListener("click", () => openViewer(asset));
  }
  if (asset.dominantColor) tile.style.backgroundColor = asset.dominantColor;
  if (asset.placeholder?.startsWith("data:")) tile.style.backgroundImage = `url("${asset.placeholder}")`;
  const preview = pickVariant(asset, GALLERY_SIZE);
  if (preview) {
    const img = document.createElement("img");
    img.alt = asset.altText || label;
    img.decoding = "async";
    img.draggable = false; // the item is dragged, not the picture
    if (preview.width && preview.height) {
      img.width = preview.width;
      img.height = preview.height;
    }
    img.addEventListener("load", () => img.classList.add("loaded"), { once: true });
    img.src = preview.url;
    tile.append(img);
  } else {
    tile.classList.add("file");
    tile.textContent = (asset.mimeType || "file").split("/").pop().toUpperCase();
  }
  return tile;
}

function assetCaption(asset, label) {
  const caption = document.createElement("figcaption");
  const name = document.createElement("span");
  name.textContent = label;
  name.title = asset.folder ? `${label} in ${asset.folder}` : label;
  const size = document.createElement("span");
  size.textContent = asset.width && asset.height ? `${asset.width}×${asset.height}` : formatBytes(asset.size || 0);
  caption.append(name, size);
  return caption;
}

/** The item's tags; each one, clicked, shows only media with that tag. */
function tagButtons(tags, label) {
  const group = document.createElement("div");
  group.className = "tags";
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", `Tags of ${label}`);
  group.append(...tags.map((tag) => button(`#${tag}`, `Show media tagged ${tag}`, () => addTagFilter(tag), "tag")));
  return group;
}

function trashNote(asset) {
  const note = document.createElement("p");
  note.className = "trash-note";
  const parts = [];
  if (asset.deletedAt) parts.push(`Deleted ${formatDate(asset.deletedAt)}`);
  if (asset.purgeAt) parts.push(`removed for good ${formatDate(asset.purgeAt)}`);
  note.textContent = parts.join(" · ");
  return note;
}

/**
 * A link to the file under its original name. The API's download route needs the bearer
 * token, which a plain link cannot send: a click first asks for a short-lived URL, puts it
 * in the link and follows it; later clicks use it until it nears its expiry.
 */
function downloadLink(asset, label) {
  const link = document.createElement("a");
  link.className = "action";
  link.textContent = "Download";
  link.setAttribute("aria-label", `Download ${label}`);
  link.href = `/media/${encodeURIComponent(asset.assetId)}/download`;
  link.download = label;
  let usableUntil = 0;
  let following = false;
  link.addEventListener("click", async (event) => {
    if (following || Date.now() < usableUntil) return;
    event.preventDefault();
    let answer;
    try {
      answer = await downloadUrl(asset.assetId, apiOptions());
    } catch (error) {
      showLibraryError(`Could not download ${label}. ${describeError(error)}`);
      return;
    }
    link.href = answer.url;
    link.download = answer.filename || label;
    usableUntil = Date.parse(answer.expiresAt) - DOWNLOAD_URL_MARGIN_MS || 0;
    following = true;
    link.click();
    following = false;
  });
  return link;
}

function actions(...children) {
  const row = document.createElement("div");
  row.className = "item-actions";
  row.append(...children.filter(Boolean));
  return row;
}

function button(text, label, onClick, className = "") {
  const element = document.createElement("button");
  element.type = "button";
  element.className = `small ${className}`.trim();
  element.textContent = text;
  if (label !== text) element.setAttribute("aria-label", label);
  element.addEventListener("click", onClick);
  return element;
}

function nameOf(asset) {
  return asset.originalFilename || asset.filename;
}

// ---- media the malware scan has not settled yet ------------------------------------------

/**
 * Read an asset again until its scan is done (and, once found clean, its thumbnails are
 * made), then show it as it is: served, or quarantined.
 */
function watch(assetId) {
  if (watching.has(assetId)) return;
  const session = watchSession;
  const deadline = Date.now() + WATCH_LIMIT_MS;
  let delay = WATCH_FIRST_MS;
  const next = () => {
    watching.set(assetId, setTimeout(check, delay));
    delay = Math.min(delay * 1.5, WATCH_MAX_MS);
  };
  const check = async () => {
    let asset = null;
    try {
      asset = await getAsset(assetId, apiOptions());
    } catch {
      // A network hiccup: try again (it is gone or not ours: the deadline ends it).
    }
    if (session !== watchSession) return;
    if (!library.shown.has(assetId)) {
      watching.delete(assetId); // out of view: showing it again watches it again
      return;
    }
    if (asset) {
      const was = library.shown.get(assetId);
      const scanned = was.scanStatus !== asset.scanStatus || was.status !== asset.status;
      if (scanned || was.processing !== asset.processing) {
        watching.delete(assetId); // updateShown may watch it again
        updateShown(asset);
        if (scanned) announceScan(asset);
        if (watching.has(assetId)) return;
      }
      if (!settling(asset)) {
        watching.delete(assetId);
        return;
      }
    }
    if (Date.now() + delay > deadline) {
      watching.delete(assetId);
      return;
    }
    next();
  };
  next();
}

/** Still changing on its own: the scan pending, or thumbnails being made after it. */
function settling(asset) {
  const thumbnailsToCome = asset.status === "READY" && asset.scanStatus != null && asset.processing === "PENDING";
  return waitingForScan(asset) || thumbnailsToCome;
}

function announceScan(asset) {
  const label = nameOf(asset);
  if (asset.status === "QUARANTINED") host.announce(`${label} is quarantined. ${describeScan(asset)}`);
  else if (asset.status === "READY" && asset.scanStatus === "CLEAN") host.announce(`${label} was scanned: it is clean.`);
}

function stopWatching() {
  watchSession += 1;
  for (const timer of watching.values()) clearTimeout(timer);
  watching.clear();
}

// ---- changing media ----------------------------------------------------------------------

async function trash(asset, { detach = false } = {}) {
  const label = nameOf(asset);
  hideLibraryError();
  try {
    await deleteAsset(asset.assetId, { ...apiOptions(), detach });
  } catch (error) {
    const attachments = refusedWith(error, 409) ? error.problem?.attachments : null;
    if (Array.isArray(attachments) && attachments.length) {
      const where = attachments.map(({ entityType, entityId }) => `${entityType} ${entityId}`).join(", ");
      showLibraryError(`${label} is in use (${where}). Deleting it takes it off there too.`, {
        label: "Delete anyway",
        run: () => trash(asset, { detach: true }),
      });
    } else {
      showLibraryError(`Could not delete ${label}. ${describeError(error)}`);
    }
    return;
  }
  removeShown(asset.assetId);
  host.announce(`${label} is in the Trash.`);
  refreshFolders();
  host.onUsageChange();
}

async function restore(asset) {
  const label = nameOf(asset);
  hideLibraryError();
  let restored;
  try {
    restored = await restoreAsset(asset.assetId, apiOptions());
  } catch (error) {
    showLibraryError(
      refusedWith(error, 409)
        ? `${label} was removed for good; it cannot come back.`
        : `Could not restore ${label}. ${describeError(error)}`,
    );
    return;
  }
  removeShown(asset.assetId);
  host.announce(`${label} is back${restored.folder ? ` in ${restored.folder}` : " in your library"}.`);
  refreshFolders();
  host.onUsageChange();
}

async function moveTo(asset, folder) {
  const moved = await moveAsset(asset.assetId, folder, apiOptions());
  updateShown(moved);
  host.announce(`Moved ${nameOf(moved)} ${folder ? `to ${folder}` : "out of its folder"}.`);
  refreshFolders();
}

/** A library item dropped on a folder (or on "Not in a folder", or on the Trash). */
async function dropAsset(assetId, target) {
  const asset = library.shown.get(assetId);
  if (!asset) return;
  if (target.kind === "trash") return trash(asset);
  const folder = target.kind === "folder" ? target.path : null;
  if ((asset.folder || null) === folder) return;
  hideLibraryError();
  try {
    await moveTo(asset, folder);
  } catch (error) {
    showLibraryError(`Could not move ${nameOf(asset)}. ${describeError(error)}`);
  }
}

function openMover(asset) {
  ui.mover.dataset.assetId = asset.assetId;
  ui.moverTitle.textContent = `Move ${nameOf(asset)}`;
  ui.moverFolder.replaceChildren(new Option(VIEW_TITLES.none, ""), ...folderOptions(library.folders));
  ui.moverFolder.value = asset.folder || "";
  ui.moverError.hidden = true;
  ui.mover.showModal();
  ui.moverFolder.focus();
}

async function submitMover(event) {
  event.preventDefault();
  const asset = library.shown.get(ui.mover.dataset.assetId);
  const folder = ui.moverFolder.value || null;
  if (!asset || (asset.folder || null) === folder) {
    ui.mover.close();
    return;
  }
  try {
    await moveTo(asset, folder);
  } catch (error) {
    showError(ui.moverError, `Could not move it. ${describeError(error)}`);
    return;
  }
  ui.mover.close();
}

// ---- alt text and tags -------------------------------------------------------------------

// The asset being edited, whether the form shows it as read just now, and that version (its
// ETag), sent as If-Match.
const editing = { assetId: null, loaded: false, etag: null };

async function openEditor(asset) {
  editing.assetId = asset.assetId;
  editing.loaded = false;
  editing.etag = null;
  ui.editorTitle.textContent = `Edit ${nameOf(asset)}`;
  ui.editorError.hidden = true;
  ui.editorReload.hidden = true;
  fillEditor(asset);
  ui.editor.showModal();
  await reloadEditor();
}

/** Read the asset afresh with its ETag: the version a save must still find. */
async function reloadEditor() {
  const { assetId } = editing;
  setEditorBusy(true);
  try {
    const { asset, etag } = await getAssetWithETag(assetId, apiOptions());
    if (editing.assetId !== assetId) return;
    editing.loaded = true;
    editing.etag = etag;
    fillEditor(asset);
    if (library.shown.has(assetId)) updateShown(asset);
    ui.editorError.hidden = true;
    ui.editorReload.hidden = true;
  } catch (error) {
    showError(ui.editorError, `Could not read the details of this file. ${describeError(error)}`);
    ui.editorReload.hidden = false;
  }
  setEditorBusy(false);
  // Without the version read, a save could overwrite someone else's change unseen.
  ui.editorSave.disabled = !editing.loaded;
  ui.editorAlt.focus();
}

async function saveEditor(event) {
  event.preventDefault();
  const { assetId, etag } = editing;
  const patch = { altText: ui.editorAlt.value.trim() || null, tags: parseTags(ui.editorTags.value) };
  setEditorBusy(true);
  try {
    const { asset } = await updateAsset(assetId, patch, { ...apiOptions(), ifMatch: etag });
    if (library.shown.has(assetId)) updateShown(asset);
    ui.editor.close();
    host.announce(`Saved the details of ${nameOf(asset)}.`);
  } catch (error) {
    if (refusedWith(error, 412)) {
      showError(ui.editorError, "Someone else changed this; reload to see their version, then make your change again.");
      ui.editorReload.hidden = false;
    } else {
      showError(ui.editorError, `Could not save. ${describeError(error)}`);
    }
  }
  setEditorBusy(false);
}

function fillEditor(asset) {
  ui.editorAlt.value = asset.altText || "";
  ui.editorTags.value = (asset.tags || []).join(", ");
}

function setEditorBusy(busy) {
  ui.editorAlt.readOnly = busy;
  ui.editorTags.readOnly = busy;
  ui.editorSave.disabled = busy;
}

function parseTags(text) {
  return text
    .split(",")
    .map((tag) => tag.trim())
    .filter(Boolean);
}

// ---- folders -----------------------------------------------------------------------------

async function refreshFolders() {
  if (!host.token()) return;
  const request = ++foldersRequest;
  let folders;
  try {
    folders = await listFolders(apiOptions());
  } catch (error) {
    if (request === foldersRequest) showLibraryError(`Could not list your folders. ${describeError(error)}`);
    return;
  }
  if (request !== foldersRequest) return;
  library.folders = folders;
  renderFolders();
}

function renderFolders() {
  ui.folderList.replaceChildren(
    folderEntry({ kind: "all" }, VIEW_TITLES.all),
    folderEntry({ kind: "none" }, VIEW_TITLES.none),
    ...library.folders.map((folder) => folderEntry({ kind: "folder", path: folder.path }, null, folder)),
    folderEntry({ kind: "trash" }, VIEW_TITLES.trash),
  );
}

function folderEntry(view, title, folder = null) {
  const item = document.createElement("li");
  const entry = document.createElement("button");
  entry.type = "button";
  entry.className = "folder";
  entry.dataset.view = view.kind;
  if (folder) {
    const segments = folder.path.split("/");
    entry.dataset.folder = folder.path;
    entry.style.setProperty("--depth", String(segments.length - 1));
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = segments.at(-1);
    const count = document.createElement("span");
    count.className = "count";
    count.textContent = String(folder.assetCount);
    entry.append(name, count);
    entry.title = folder.path;
    entry.setAttribute("aria-label", `${folder.path}, ${countOf(folder.assetCount, "file")}`);
  } else {
    entry.textContent = title;
  }
  if (sameView(view, library.view)) entry.setAttribute("aria-current", "true");
  entry.addEventListener("click", () => selectView(view));
  if (view.kind !== "all") acceptAssetDrops(entry, view);
  item.append(entry);
  return item;
}

function acceptAssetDrops(element, target) {
  const carriesAsset = (event) => Boolean(event.dataTransfer?.types.includes(ASSET_DRAG_TYPE));
  for (const type of ["dragenter", "dragover"]) {
    element.addEventListener(type, (event) => {
      if (!carriesAsset(event)) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      element.classList.add("drop-target");
    });
  }
  element.addEventListener("dragleave", () => element.classList.remove("drop-target"));
  element.addEventListener("drop", (event) => {
    element.classList.remove("drop-target");
    if (!carriesAsset(event)) return;
    event.preventDefault();
    dropAsset(event.dataTransfer.getData(ASSET_DRAG_TYPE), target);
  });
}

function folderOptions(folders) {
  return folders.map((folder) => new Option(folder.path, folder.path));
}

async function submitNewFolder(event) {
  event.preventDefault();
  ui.newFolderError.hidden = true;
  const path = ui.newFolderPath.value.trim().replace(/^\/+|\/+$/g, "");
  if (!path) return showNewFolderError("Type a name for the folder, e.g. trips or trips/2026.");
  let folder;
  try {
    folder = await createFolder(path, apiOptions());
  } catch (error) {
    if (refusedWith(error, 409)) return showNewFolderError(`There is a folder ${path} already.`);
    return showNewFolderError(`That name does not work. ${describeError(error)}`);
  }
  ui.newFolderPath.value = "";
  host.announce(`Created the folder ${folder.path}. New uploads go into it while it is open.`);
  await refreshFolders();
  selectView({ kind: "folder", path: folder.path });
}

function showNewFolderError(message) {
  showError(ui.newFolderError, message);
  ui.newFolderPath.focus();
}

/** Ask before deleting the open folder; one that holds anything needs a folder to move it to. */
async function openFolderRemover() {
  const { path } = library.view;
  const inside = library.folders.filter((folder) => folder.path === path || folder.path.startsWith(`${path}/`));
  const files = inside.reduce((sum, folder) => sum + folder.assetCount, 0);
  const subfolders = inside.length - 1;
  // The counts leave out the Trash, but media there still belongs to the folder and moves with it.
  const trashed = await holdsTrash(path);
  const targets = library.folders.filter((folder) => !inside.includes(folder));
  ui.folderRemover.dataset.path = path;
  ui.folderRemoverTitle.textContent = `Delete folder ${path}`;
  ui.folderRemoverError.hidden = true;
  const empty = files === 0 && subfolders <= 0 && !trashed;
  ui.folderRemoverMove.hidden = empty || targets.length === 0;
  ui.folderRemoverSubmit.disabled = !empty && targets.length === 0;
  ui.folderRemoverSubmit.textContent = empty ? "Delete folder" : "Move and delete";
  if (empty) {
    ui.folderRemoverText.textContent = "It is empty. Nothing else is deleted.";
  } else {
    const holds = [
      files && countOf(files, "file"),
      subfolders > 0 && countOf(subfolders, "folder"),
      trashed && "media in the Trash",
    ];
    const what = `It holds ${holds.filter(Boolean).join(" and ")}.`;
    ui.folderRemoverText.textContent = targets.length
      ? `${what} It all moves to the folder you choose; nothing is deleted.`
      : `${what} Create another folder to move it to first.`;
    ui.folderRemoverTarget.replaceChildren(...folderOptions(targets));
  }
  ui.folderRemover.showModal();
}

async function holdsTrash(path) {
  try {
    const page = await listLibrary({ folder: path, recursive: true, deleted: true, limit: 1 }, apiOptions());
    return page.items.length > 0 || Boolean(page.nextCursor);
  } catch {
    return false; // then the API's 409 says the folder is not empty
  }
}

async function submitFolderRemover(event) {
  event.preventDefault();
  const { path } = ui.folderRemover.dataset;
  const moveTo = ui.folderRemoverMove.hidden ? undefined : ui.folderRemoverTarget.value;
  ui.folderRemoverSubmit.disabled = true;
  try {
    await deleteFolderMovingAll(path, moveTo);
  } catch (error) {
    showError(
      ui.folderRemoverError,
      refusedWith(error, 409)
        ? "Something was put into this folder meanwhile. Close this and try again."
        : `Could not delete the folder. ${describeError(error)}`,
    );
    ui.folderRemoverSubmit.disabled = false;
    refreshFolders();
    return;
  }
  ui.folderRemover.close();
  host.announce(moveTo ? `Deleted the folder ${path}; its contents are in ${moveTo}.` : `Deleted the folder ${path}.`);
  await refreshFolders();
  selectView(moveTo ? { kind: "folder", path: moveTo } : { kind: "all" });
}

/** A large folder moves in several requests: each 409 on the way says how far it got. */
async function deleteFolderMovingAll(path, moveTo) {
  for (let round = 1; ; round += 1) {
    try {
      return await deleteFolder(path, { ...apiOptions(), moveTo });
    } catch (error) {
      const unfinished = moveTo && refusedWith(error, 409);
      if (!unfinished || round >= FOLDER_MOVE_REQUESTS) throw error;
    }
  }
}

// ---- filters -----------------------------------------------------------------------------

function addTagFilter(tag) {
  const normal = tag.trim().toLowerCase();
  if (normal && !library.tags.includes(normal)) library.tags = [...library.tags, normal];
  renderTagFilters();
  loadLibrary();
}

function removeTagFilter(tag) {
  library.tags = library.tags.filter((each) => each !== tag);
  renderTagFilters();
  loadLibrary();
}

function renderTagFilters() {
  ui.activeTags.replaceChildren(
    ...library.tags.map((tag) => button(`#${tag} ✕`, `Remove tag filter ${tag}`, () => removeTagFilter(tag), "tag")),
  );
  ui.activeTags.hidden = library.tags.length === 0;
}

/** Enter in the filters: the typed tag joins the tag filters; the search applies at once. */
function submitFilters(event) {
  event.preventDefault();
  clearTimeout(searchTimer);
  const tag = ui.filterTag.value.trim();
  ui.filterTag.value = "";
  if (tag) addTagFilter(tag);
  else loadLibrary();
}

// ---- viewer ------------------------------------------------------------------------------

/**
 * The variant whose longest edge best fits `size` (never smaller when a bigger one exists),
 * with the URL to show it by: its CDN URL when the asset is public (stable, so the browser
 * caches it), else its short-lived presigned one (new on every read).
 */
function pickVariant(asset, size) {
  const variants = Object.entries(asset.variants || {}).map(([name, variant]) => ({
    name,
    ...variant,
    url: variant.cdnUrl || variant.url,
  }));
  const exact = variants.find((variant) => variant.name === String(size));
  if (exact) return exact;
  const edge = (variant) => Math.max(variant.width || 0, variant.height || 0);
  const bigEnough = variants.filter((variant) => edge(variant) >= size).sort((a, b) => edge(a) - edge(b));
  const largest = [...variants].sort((a, b) => edge(b) - edge(a));
  const choice = bigEnough[0] || largest[0];
  if (choice) return choice;
  // Not processed (yet): an image's own file still makes a preview.
  const url = asset.cdnUrl || asset.url;
  if (url && asset.mimeType?.startsWith("image/")) return { url, width: asset.width, height: asset.height };
  return null;
}

function openViewer(asset) {
  const large = pickVariant(asset, VIEWER_SIZE);
  if (!large) {
    const url = asset.cdnUrl || asset.url;
    if (url) window.open(url, "_blank", "noopener");
    return;
  }
  ui.viewerTitle.textContent = nameOf(asset);
  ui.viewerImage.alt = asset.altText || nameOf(asset);
  ui.viewerImage.style.backgroundColor = asset.dominantColor || "";
  ui.viewerImage.src = large.url;
  const parts = [];
  if (asset.width && asset.height) parts.push(`original ${asset.width}×${asset.height}`);
  if (large.width && large.height) parts.push(`showing ${large.width}×${large.height}`);
  if (asset.mimeType) parts.push(asset.mimeType);
  if (asset.size) parts.push(formatBytes(asset.size));
  ui.viewerMeta.textContent = parts.join(" · ");
  ui.viewer.showModal();
}

// ---- requests and their errors -----------------------------------------------------------

/** What every library call needs: the session's token, read when the call is made. */
function apiOptions() {
  return { token: host.token };
}

/** Whether the API refused the request with this HTTP status. */
function refusedWith(error, status) {
  return error instanceof MediaportError && error.status === status;
}

/** A failed library request in plain words, as a sentence. */
function describeError(error) {
  if (!(error instanceof MediaportError)) return sentence(String(error?.message || error));
  if (error.status === 0) return "The server did not answer. Is `make dev` running?";
  if (error.status === 401) return "Your session has expired. Sign out and in again.";
  if (error.status === 404) return "It is not there any more. Reload the page to see what is.";
  const fields = error.errors.map((problem) => problem.detail).filter(Boolean);
  return sentence(fields.length ? fields.join("; ") : error.detail || error.title);
}

function showError(element, message) {
  element.textContent = message;
  element.hidden = false;
}
