// Plain words for the demo page's numbers, dates and messages, shared by the upload demo
// (demo.js) and the media library (library.js).

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
