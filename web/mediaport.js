// Mediaport browser client: a dependency-free ES module.
//
//   import { upload } from "./mediaport.js";
//   const asset = await upload(file, { apiUrl, token, scope: "POST_ATTACHMENT" });
//
// The bytes go straight to S3 with the presigned URL (or form) the API returns; the
// API only ever sees small JSON requests.

/** How long to wait for the thumbnails of a READY asset before resolving without them. */
export const DEFAULT_PROCESSING_TIMEOUT_MS = 60_000;
/** Attempts per request (the first try plus retries) on network failures, 429 and 5xx. */
export const DEFAULT_ATTEMPTS = 4;
/**
 * The longest `Retry-After` the client waits out by itself. A server asking for longer
 * gets no early retry (it would only be refused again): the error is thrown with its
 * `retryAfter`, for the app to decide.
 */
export const MAX_RETRY_AFTER_MS = 60_000;

// The problem type of a 409 answered while a request with the same key is still running.
const KEY_IN_PROGRESS = "urn:mediaport:problem:idempotency-key-in-progress";
const FINISHED_PROCESSING = new Set(["DONE", "SKIPPED", "FAILED"]);
const POLL_FIRST_MS = 400;
const POLL_MAX_MS = 2_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;

/**
 * An error from the API (RFC 9457 problem details), from S3, or from the network.
 *
 * `status` is the HTTP status (0 for a network failure); `title`, `detail`, `type` and
 * `errors` (`[{field, detail}]`) come from the problem document; `rejectReason` is set
 * when verification rejected the file (HTTP 422), e.g. `TYPE_MISMATCH`; `retryAfter` is
 * the wait in milliseconds a retryable answer (429, 503, or a 409 for an idempotency key
 * still in progress) asked for with `Retry-After` (else null).
 */
export class MediaportError extends Error {
  /**
   * @param {{status: number, title: string, detail?: string, type?: string,
   *          errors?: {field: string, detail: string}[], rejectReason?: string|null,
   *          asset?: object|null, retryAfter?: number|null}} problem
   */
  constructor({
    status,
    title,
    detail = "",
    type = "about:blank",
    errors = [],
    rejectReason = null,
    asset = null,
    retryAfter = null,
  }) {
    super(detail ? `${title}: ${detail}` : title);
    this.name = "MediaportError";
    this.status = status;
    this.title = title;
    this.detail = detail;
    this.type = type;
    this.errors = errors;
    this.rejectReason = rejectReason;
    this.asset = asset;
    this.retryAfter = retryAfter;
  }

  /**
   * True for failures worth another attempt: the network, too many requests (429), a
   * server-side (5xx) error, or the first request with the same Idempotency-Key still
   * running (409). Any other 4xx would fail the same way again.
   */
  get retryable() {
    return (
      this.status === 0 ||
      this.status === 429 ||
      this.status >= 500 ||
      (this.status === 409 && this.type === KEY_IN_PROGRESS)
    );
  }
}

/**
 * Upload one file: presign → send the bytes straight to S3 → confirm → wait until the
 * asset is READY and its processing has finished (thumbnails made, or skipped).
 *
 * Network failures, 429 and 5xx are retried (honouring `Retry-After`, else with jittered
 * backoff); other 4xx never are. The presign carries a fresh `Idempotency-Key`, the same on
 * each of its retries, so a retry whose first answer was lost still makes one asset.
 *
 * @param {File|Blob} file The file to upload (a Blob needs `options.filename`).
 * @param {object} [options]
 * @param {string} [options.apiUrl] Base URL of the Mediaport API; "" (default) is same-origin.
 * @param {string|(() => string|Promise<string>)} options.token Bearer JWT, or a function returning one.
 * @param {string} [options.scope] Upload scope, e.g. "PROFILE_AVATAR"; the API's default when omitted.
 * @param {"PUT"|"POST"} [options.method] PUT (default) a presigned URL, or POST a presigned form.
 * @param {string} [options.filename] Overrides `file.name`.
 * @param {string} [options.contentType] Overrides `file.type`.
 * @param {AbortSignal} [options.signal] Cancels the upload, including the transfer to S3.
 * @param {(progress: {loaded: number, total: number, fraction: number}) => void} [options.onProgress]
 *   Called as bytes reach S3.
 * @param {(stage: "presigning"|"uploading"|"verifying"|"processing"|"ready", info: {assetId?: string}) => void} [options.onStage]
 *   Called when the upload enters a new stage.
 * @param {number} [options.processingTimeout] Milliseconds to wait for processing after READY
 *   (default 60 s); after that the READY asset is returned with `processing: "PENDING"`.
 * @param {number} [options.attempts] Attempts per request on network failures, 429 and 5xx (default 4).
 * @returns {Promise<object>} The asset, READY. A rejected file throws a `MediaportError` with
 *   status 422, a plain-words `detail` and a `rejectReason`; cancelling throws the signal's
 *   reason (an `AbortError` DOMException).
 */
export async function upload(file, options = {}) {
  const client = makeClient(options);
  const { signal, onStage = noop, onProgress = noop } = options;
  throwIfAborted(signal);

  onStage("presigning", {});
  const body = {
    filename: options.filename ?? file.name,
    contentType: options.contentType || file.type || "application/octet-stream",
    size: file.size,
  };
  if (options.scope) body.scope = options.scope;
  if (options.method) body.method = options.method;
  // One key for this upload's presign and all its retries: the API answers a repeat with
  // the first ticket instead of recording a second asset.
  const ticket = await client.request("POST", "/media/presign", body, { "Idempotency-Key": newIdempotencyKey() });

  onStage("uploading", { assetId: ticket.assetId });
  await client.retrying(() => sendToStorage(ticket, file, signal, onProgress));

  onStage("verifying", { assetId: ticket.assetId });
  try {
    await client.request("PATCH", `/media/${encodeURIComponent(ticket.assetId)}/confirm`);
  } catch (error) {
    if (error instanceof MediaportError && error.status === 422) {
      error.asset = await client.request("GET", `/media/${encodeURIComponent(ticket.assetId)}`).catch(() => null);
    }
    throw error;
  }

  onStage("processing", { assetId: ticket.assetId });
  const asset = await waitUntilProcessed(client, ticket.assetId, {
    signal,
    timeout: options.processingTimeout ?? DEFAULT_PROCESSING_TIMEOUT_MS,
  });
  onStage("ready", { assetId: asset.assetId });
  return asset;
}

/**
 * Upload several files, at most `concurrency` at a time. Never rejects: each result says
 * how its file went.
 *
 * @param {Iterable<File|{file: File, signal?: AbortSignal, onProgress?: Function, onStage?: Function, scope?: string}>} files
 *   Files, or per-file options objects carrying the file.
 * @param {object} [options] Shared `upload()` options, plus `concurrency` (default 3).
 * @returns {Promise<Array<{file: File, asset?: object, error?: Error}>>} In the order given.
 */
export async function uploadAll(files, { concurrency = 3, ...options } = {}) {
  const enqueue = createUploadQueue({ concurrency, ...options });
  return Promise.all(
    Array.from(files, (item) => {
      const { file, ...own } = item instanceof Blob ? { file: item } : item;
      return enqueue(file, own).then(
        (asset) => ({ file, asset }),
        (error) => ({ file, error }),
      );
    }),
  );
}

/**
 * A queue that runs `upload()` calls at most `concurrency` at a time, for pages where
 * files keep arriving (drag and drop). A queued upload whose signal aborts never starts.
 *
 * @param {object} [options] `concurrency` (default 3) plus `upload()` options shared by all files.
 * @returns {(file: File, options?: object) => Promise<object>} Enqueue a file; resolves like `upload()`.
 */
export function createUploadQueue({ concurrency = 3, ...shared } = {}) {
  if (!(concurrency >= 1)) throw new RangeError("concurrency must be at least 1");
  let running = 0;
  const waiting = [];
  const next = () => {
    while (running < concurrency && waiting.length) {
      const job = waiting.shift();
      if (job.signal?.aborted) {
        job.reject(job.signal.reason);
        continue;
      }
      running += 1;
      upload(job.file, job.options)
        .then(job.resolve, job.reject)
        .finally(() => {
          running -= 1;
          next();
        });
    }
  };
  return (file, own = {}) =>
    new Promise((resolve, reject) => {
      const options = { ...shared, ...own, signal: combineSignals(shared.signal, own.signal) };
      const job = { file, options, signal: options.signal, resolve, reject };
      waiting.push(job);
      // A queued file cancelled before its turn settles at once instead of waiting.
      options.signal?.addEventListener(
        "abort",
        () => {
          const index = waiting.indexOf(job);
          if (index >= 0) {
            waiting.splice(index, 1);
            reject(options.signal.reason);
          }
        },
        { once: true },
      );
      next();
    });
}

/**
 * Read one asset.
 *
 * @param {string} assetId
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<object>} The asset as its owner sees it.
 */
export function getAsset(assetId, options) {
  return makeClient(options).request("GET", `/media/${encodeURIComponent(assetId)}`);
}

/**
 * List the caller's assets, newest first, one page at a time.
 *
 * @param {{apiUrl?: string, token: string|Function, status?: string, limit?: number,
 *          cursor?: string, signal?: AbortSignal}} options `status` filters, e.g. "READY";
 *   pass the previous page's `nextCursor` as `cursor` for the next page.
 * @returns {Promise<{items: object[], nextCursor: string|null}>}
 */
export function listAssets(options) {
  const query = new URLSearchParams();
  for (const name of ["status", "limit", "cursor"]) {
    if (options[name] != null && options[name] !== "") query.set(name, String(options[name]));
  }
  const suffix = query.toString() ? `?${query}` : "";
  return makeClient(options).request("GET", `/media${suffix}`);
}

/** Wait until a confirmed asset's processing has finished (or REJECTED, or the timeout). */
async function waitUntilProcessed(client, assetId, { signal, timeout }) {
  const deadline = Date.now() + timeout;
  let delay = POLL_FIRST_MS;
  for (;;) {
    const asset = await client.request("GET", `/media/${encodeURIComponent(assetId)}`);
    if (asset.status === "REJECTED") {
      throw new MediaportError({
        status: 422,
        title: "The file was rejected",
        detail: asset.rejectDetail || "the uploaded file failed verification",
        rejectReason: asset.rejectReason,
        asset,
      });
    }
    const settled = asset.status === "READY" && (asset.processing == null || FINISHED_PROCESSING.has(asset.processing));
    if (settled || (asset.status === "READY" && Date.now() + delay > deadline)) return asset;
    if (Date.now() + delay > deadline) {
      throw new MediaportError({
        status: 0,
        title: "Timed out",
        detail: `asset ${assetId} is still ${asset.status} after ${Math.round(timeout / 1000)} s`,
        asset,
      });
    }
    await sleep(delay, signal);
    delay = Math.min(delay * 1.5, POLL_MAX_MS);
  }
}

function makeClient({ apiUrl = "", token, signal, attempts = DEFAULT_ATTEMPTS } = {}) {
  const base = String(apiUrl).replace(/\/+$/, "");

  async function retrying(operation) {
    for (let attempt = 1; ; attempt += 1) {
      throwIfAborted(signal);
      try {
        return await operation();
      } catch (error) {
        const again = error instanceof MediaportError && error.retryable && attempt < attempts;
        if (!again || signal?.aborted) throw error;
        if (error.retryAfter != null) {
          // The server said when: not before (a sooner retry is refused again), and not
          // when that is further off than anyone waits for an upload to start.
          if (error.retryAfter > MAX_RETRY_AFTER_MS) throw error;
          await sleep(error.retryAfter, signal);
          continue;
        }
        // Full jitter: many clients failing together do not retry in step.
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling, signal);
      }
    }
  }

  async function request(method, path, body, headers = {}) {
    const bearer = typeof token === "function" ? await token() : token;
    if (!bearer) throw new TypeError("a token is required");
    return retrying(async () => {
      let response;
      try {
        response = await fetch(base + path, {
          method,
          signal,
          headers: {
            Accept: "application/json, application/problem+json",
            Authorization: `Bearer ${bearer}`,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw networkError(error);
      }
      if (response.status === 204) return null;
      const text = await response.text();
      const data = text ? parseJson(text) : null;
      if (response.ok) return data;
      const error = problemError(response.status, data, response.statusText);
      if (error.retryable) {
        error.retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      }
      throw error;
    });
  }

  return { request, retrying };
}

/** Send the bytes to S3 with XMLHttpRequest, the only browser API with upload progress. */
function sendToStorage(ticket, file, signal, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (outcome, value) => {
      signal?.removeEventListener("abort", abort);
      outcome(value);
    };
    xhr.open(ticket.method, ticket.uploadUrl);
    let body = file;
    if (ticket.method === "POST") {
      // S3 reads the policy fields first; the file must be the last part of the form.
      body = new FormData();
      for (const [name, value] of Object.entries(ticket.fields || {})) body.append(name, value);
      body.append("file", file);
    } else {
      // Exactly the signed headers: adding or changing one breaks the signature. The browser
      // sets Content-Length from the body itself (a script may not), and the signed value
      // is the file's size, so it matches.
      for (const [name, value] of Object.entries(ticket.headers || {})) {
        if (name.toLowerCase() !== "content-length") xhr.setRequestHeader(name, value);
      }
    }
    xhr.upload.onprogress = (event) => {
      const total = event.lengthComputable ? event.total : file.size;
      onProgress({ loaded: event.loaded, total, fraction: total ? event.loaded / total : 0 });
    };
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        onProgress({ loaded: file.size, total: file.size, fraction: 1 });
        settle(resolve, undefined);
      } else {
        settle(reject, storageError(xhr.status, xhr.responseText));
      }
    };
    xhr.onerror = () => settle(reject, networkError(new Error("the upload to storage failed")));
    xhr.ontimeout = xhr.onerror;
    xhr.onabort = () => settle(reject, signal?.reason ?? new DOMException("The upload was cancelled", "AbortError"));
    signal?.addEventListener("abort", abort, { once: true });
    if (signal?.aborted) {
      settle(reject, signal.reason);
      return;
    }
    xhr.send(body);
  });
}

function problemError(status, data, statusText) {
  if (data && typeof data === "object" && (data.title || data.detail)) {
    return new MediaportError({
      status,
      title: data.title || statusText || `HTTP ${status}`,
      detail: data.detail || "",
      type: data.type,
      errors: Array.isArray(data.errors) ? data.errors : [],
      rejectReason: data.rejectReason ?? null,
    });
  }
  // API Gateway's own answers (401 from the JWT authorizer) are {"message": "..."}.
  const message = data && typeof data === "object" ? data.message : "";
  return new MediaportError({ status, title: message || statusText || `HTTP ${status}` });
}

function storageError(status, xml) {
  const field = (name) => (xml || "").match(new RegExp(`<${name}>([^<]*)</${name}>`))?.[1] || "";
  return new MediaportError({
    status,
    title: field("Code") || `Storage answered HTTP ${status}`,
    detail: field("Message"),
    type: "urn:mediaport:problem:storage",
  });
}

function networkError(cause) {
  const error = new MediaportError({
    status: 0,
    title: "Network error",
    detail: cause?.message || "the request did not reach the server",
    type: "urn:mediaport:problem:network",
  });
  error.cause = cause;
  return error;
}

/**
 * `Retry-After` in milliseconds from now: delta-seconds ("120") or an HTTP-date; null when
 * absent or unreadable (the caller then backs off on its own).
 */
function parseRetryAfter(value) {
  const text = (value ?? "").trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const date = text ? Date.parse(text) : NaN;
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}

/** A random UUID, also where `crypto.randomUUID` is missing (pages not on https). */
function newIdempotencyKey() {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40; // version 4
  bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
  const hex = Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

function sleep(ms, signal) {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

function throwIfAborted(signal) {
  if (signal?.aborted) throw signal.reason;
}

function combineSignals(...signals) {
  const present = signals.filter(Boolean);
  if (present.length <= 1) return present[0];
  if (AbortSignal.any) return AbortSignal.any(present);
  const controller = new AbortController();
  for (const signal of present) {
    if (signal.aborted) controller.abort(signal.reason);
    else signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}

function noop() {}
