// Plain words for the demo page's numbers, dates and messages, shared by the upload demo
// (demo.js), the media library (library.js), its variants panel (variants.js) and the
// local admin page (admin.js).

/** Decimal units, as storage tiers are sold: a 3,000,000-byte tier reads "3 MB". */
export function formatBytes(bytes) {
  if (bytes < 1000) return `${bytes} B`;
  const units = ["KB", "MB", "GB", "TB"];
  let value = bytes / 1000;
  let unit = 0;
  while (value >= 999.5 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  const rounded = value < 10 ? value.toFixed(1).replace(/\.0$/, "") : value.toFixed(0);
  return `${rounded} ${units[unit]}`;
}

export function formatDate(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  return date.toLocaleDateString(undefined, { day: "numeric", month: "short", year: "numeric" });
}

/** "1 file", "2 files". */
export function countOf(count, noun) {
  return `${count} ${count === 1 ? noun : `${noun}s`}`;
}

/** The text with a capital first letter and a full stop at the end. */
export function sentence(text) {
  const trimmed = String(text || "").trim();
  if (!trimmed) return "";
  const capitalised = trimmed[0].toUpperCase() + trimmed.slice(1);
  return /[.!?]$/.test(capitalised) ? capitalised : `${capitalised}.`;
}

/** A date and time to the minute, in the reader's own time zone. */
export function formatDateTime(iso) {
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return "";
  const day = { day: "numeric", month: "short", year: "numeric" };
  return date.toLocaleString(undefined, { ...day, hour: "2-digit", minute: "2-digit" });
}

/** What an optimize saved: "120 KB → 48 KB (2.5×)". */
export function formatSaving(originalBytes, optimizedBytes, ratio = originalBytes / optimizedBytes) {
  const times = Number.isFinite(ratio) ? `${ratio.toFixed(1).replace(/\.0$/, "")}×` : "";
  return `${formatBytes(originalBytes)} → ${formatBytes(optimizedBytes)}${times ? ` (${times})` : ""}`;
}

// What the malware scan said of a file, for its owner (their asset carries scanStatus).
const SCAN_WORDS = {
  PENDING: "Waiting for the malware scan: it is served once the scan finds it clean.",
  INFECTED:
    "The malware scan found a threat in this file. It is not served; an administrator can release it after review.",
  ERROR: "The malware scan could not check this file, so it is held back until an administrator reviews it.",
};

/** The scan state of an asset its owner sees, as a sentence ("" when there is nothing to say). */
export function describeScan({ status, scanStatus }) {
  if (status === "QUARANTINED") return SCAN_WORDS[scanStatus] || SCAN_WORDS.INFECTED;
  return scanStatus === "PENDING" ? SCAN_WORDS.PENDING : "";
}

// The scanner's own result (GuardDuty's scanResultStatus), for the admin page.
const SCAN_RESULTS = {
  THREATS_FOUND: "A threat was found",
  NO_THREATS_FOUND: "No threat was found",
  UNSUPPORTED: "The scanner does not support this file",
  ACCESS_DENIED: "The scanner could not read the file",
  FAILED: "The scan failed",
};

/** A quarantined asset's scan result in words, e.g. "A threat was found (THREATS_FOUND)". */
export function describeScanResult({ scanStatus, scanResult }) {
  const fallback = scanStatus === "INFECTED" ? SCAN_RESULTS.THREATS_FOUND : "The scan could not be done";
  const words = SCAN_RESULTS[scanResult] || fallback;
  return scanResult ? `${words} (${scanResult})` : words;
}
