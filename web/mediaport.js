// Mediaport browser client: a dependency-free ES module.
//
//   import { upload } from "./mediaport.js";
//   const asset = await upload(file, { apiUrl, token, scope: "POST_ATTACHMENT" });
//
// The bytes go straight to S3 with the presigned URL (or form) the API returns; the
// API only ever sees small JSON requests. Files above `multipartThreshold` go up as an S3
// multipart upload, several parts at a time, and survive a page reload: when the same
// file is added again, only the parts S3 does not have yet are sent.

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
/** Files larger than this go up in parts (S3 multipart); see `options.multipartThreshold`. */
export const DEFAULT_MULTIPART_THRESHOLD = 100 * 1024 * 1024;
/** Parts of one multipart upload in flight at once; see `options.partConcurrency`. */
export const DEFAULT_PART_CONCURRENCY = 4;
/** How often `waitForVariant()` reads a PENDING variant, by default. */
export const DEFAULT_VARIANT_POLL_MS = 500;
/** How long `waitForVariant()` waits for a variant, by default. */
export const DEFAULT_VARIANT_TIMEOUT_MS = 60_000;

// The problem type of a 409 answered while a request with the same key is still running.
const KEY_IN_PROGRESS = "urn:mediaport:problem:idempotency-key-in-progress";
// The problem type of GET /users/{id}/avatar's 404 for a user without one.
const AVATAR_NOT_FOUND = "urn:mediaport:problem:avatar-not-found";
const FINISHED_PROCESSING = new Set(["DONE", "SKIPPED", "FAILED"]);
const POLL_FIRST_MS = 400;
const POLL_MAX_MS = 2_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 8_000;
// The API signs at most this many part URLs per call.
const MAX_PARTS_PER_SIGNING = 100;
// A part URL this close to its expiry is signed afresh first: S3 checks the expiry when a
// request starts, and a retried part may start long after its URL was signed.
const URL_EXPIRY_MARGIN_MS = 60_000;
// A URL is used at least this long after it arrives, whatever a skewed clock makes of its
// expiry (S3 answers 403 to one that really expired, and the part is signed afresh).
const URL_MIN_USE_MS = 5_000;
// In-flight multipart uploads are remembered in localStorage under this prefix.
const RESUME_PREFIX = "mediaport.multipart.v1:";
// Resume entries this page is uploading right now: the same file added twice at once
// must not send the same parts twice, so the second one starts an upload of its own.
const activeResumeKeys = new Set();

/**
 * An error from the API (RFC 9457 problem details), from S3, or from the network.
 *
 * `status` is the HTTP status (0 for a network failure); `title`, `detail`, `type` and
 * `errors` (`[{field, detail}]`) come from the problem document; `rejectReason` is set
 * when verification rejected the file (HTTP 422), e.g. `TYPE_MISMATCH`; `retryAfter` is
 * the wait in milliseconds a retryable answer (429, 503, or a 409 for an idempotency key
 * still in progress) asked for with `Retry-After` (else null); `problem` is the problem
 * document as the API sent it, with its extension members (e.g. the `attachments` of a
 * 409 from `deleteAsset()`), or null.
 */
export class MediaportError extends Error {
  /**
   * @param {{status: number, title: string, detail?: string, type?: string,
   *          errors?: {field: string, detail: string}[], rejectReason?: string|null,
   *          asset?: object|null, retryAfter?: number|null, problem?: object|null}} problem
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
    problem = null,
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
    this.problem = problem;
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
 * asset is READY and its processing has finished (thumbnails made, or skipped). With
 * malware scanning on, that includes the scan: an asset is not served before it is clean.
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
 * @param {string} [options.folder] The library folder the asset goes into, e.g. "trips/2026"; none when omitted.
 * @param {"PUT"|"POST"} [options.method] PUT (default) a presigned URL, or POST a presigned form.
 * @param {string} [options.filename] Overrides `file.name`.
 * @param {string} [options.contentType] Overrides `file.type`.
 * @param {AbortSignal} [options.signal] Cancels the upload, including the transfer to S3.
 * @param {(progress: {loaded: number, total: number, fraction: number}) => void} [options.onProgress]
 *   Called as bytes reach S3.
 * @param {(stage: "presigning"|"uploading"|"verifying"|"processing"|"scanning"|"ready",
 *          info: {assetId?: string, partCount?: number, partsUploaded?: number,
 *                 resumed?: boolean, asset?: object}) => void} [options.onStage]
 *   Called when the upload enters a new stage. A multipart upload's "uploading" also says
 *   how many parts it has, how many S3 already holds, and whether it resumed an earlier one.
 *   "scanning" (scanning on) comes with the READY `asset`, not served until its scan is done.
 * @param {number} [options.processingTimeout] Milliseconds to wait for processing (and the
 *   scan) after READY (default 60 s); after that the READY asset is returned with
 *   `processing: "PENDING"` (or `scanStatus: "PENDING"`, without URLs).
 * @param {number} [options.attempts] Attempts per request on network failures, 429 and 5xx (default 4).
 * @param {number} [options.multipartThreshold] Files larger than this many bytes go up in
 *   parts (default 100 MiB); the API chooses the part size.
 * @param {number} [options.partConcurrency] Parts in flight at once (default 4).
 * @param {boolean} [options.resume] Remember a multipart upload in `localStorage` so that
 *   adding the same file (name, size, lastModified) again, even after a reload, sends only
 *   the missing parts (default true).
 * @param {string} [options.userId] Whose upload this is, for remembering it; default the
 *   token's `sub`. Without either, nothing is remembered.
 * @returns {Promise<object>} The asset, READY; or, with scanning on, QUARANTINED when the scan
 *   found a threat (`scanStatus` INFECTED) or could not be done (ERROR): it has no URLs until
 *   an admin releases it, so check `status`. A rejected file throws a `MediaportError` with
 *   status 422, a plain-words `detail` and a `rejectReason`; cancelling throws the signal's
 *   reason (an `AbortError` DOMException), and a multipart upload is then aborted.
 */
export async function upload(file, options = {}) {
  const client = makeClient(options);
  const { signal, onStage = noop } = options;
  throwIfAborted(signal);

  const threshold = options.multipartThreshold ?? DEFAULT_MULTIPART_THRESHOLD;
  const assetId =
    file.size > threshold ? await uploadInParts(client, file, options) : await uploadWhole(client, file, options);

  onStage("processing", { assetId });
  const asset = await waitUntilProcessed(client, assetId, {
    signal,
    timeout: options.processingTimeout ?? DEFAULT_PROCESSING_TIMEOUT_MS,
    onScanning: (scanned) => onStage("scanning", { assetId, asset: scanned }),
  });
  onStage("ready", { assetId: asset.assetId });
  return asset;
}

/** Presign, send the file in one request, confirm. Resolves with the verified asset's id. */
async function uploadWhole(client, file, options) {
  const { signal, onStage = noop, onProgress = noop } = options;
  onStage("presigning", {});
  const body = {
    filename: options.filename ?? file.name,
    contentType: options.contentType || file.type || "application/octet-stream",
    size: file.size,
  };
  if (options.scope) body.scope = options.scope;
  if (options.folder) body.folder = options.folder;
  if (options.method) body.method = options.method;
  // One key for this upload's presign and all its retries: the API answers a repeat with
  // the first ticket instead of recording a second asset.
  const ticket = await client.request("POST", "/media/presign", body, { "Idempotency-Key": newIdempotencyKey() });

  onStage("uploading", { assetId: ticket.assetId });
  await client.retrying(() => sendToStorage(ticket, file, signal, onProgress));

  onStage("verifying", { assetId: ticket.assetId });
  try {
    await client.request("PATCH", `${assetPath(ticket.assetId)}/confirm`);
  } catch (error) {
    throw await withRejectedAsset(client, ticket.assetId, error);
  }
  return ticket.assetId;
}

/**
 * An S3 multipart upload: initiate (or resume the one remembered for this file), send the
 * missing parts `partConcurrency` at a time, complete. Resolves with the verified asset's id.
 *
 * The upload is remembered until it completes, is rejected, or is cancelled; any other
 * failure (the network, a closed tab) leaves it to be resumed by adding the file again.
 */
async function uploadInParts(client, file, options) {
  const { signal, onStage = noop, onProgress = noop } = options;
  const scope = options.scope ?? null;
  onStage("presigning", {});
  const memory = await rememberedUpload(client, file, options);
  let upload = null;
  try {
    let uploaded = new Map(); // part number → ETag
    const saved = memory?.load();
    if (saved && saved.scope === scope && Date.parse(saved.expiresAt) > Date.now()) {
      const parts = await listUploadedParts(client, saved.assetId, saved, file.size);
      if (parts) {
        upload = saved;
        uploaded = parts;
      } else {
        memory.forget(); // gone, finished or not ours: start again
      }
    } else if (saved) {
      memory.forget(); // expired, or meant for another scope
    }

    const resumed = upload !== null;
    if (!resumed) {
      const body = {
        filename: options.filename ?? file.name,
        contentType: options.contentType || file.type || "application/octet-stream",
        size: file.size,
      };
      if (scope) body.scope = scope;
      if (options.folder) body.folder = options.folder;
      const started = await client.request("POST", "/media/upload/multipart/initiate", body, {
        "Idempotency-Key": newIdempotencyKey(),
      });
      upload = {
        assetId: started.assetId,
        partSize: started.partSize,
        partCount: started.partCount,
        expiresAt: started.expiresAt,
        scope,
      };
      memory?.save(upload);
    }
    onStage("uploading", {
      assetId: upload.assetId,
      partCount: upload.partCount,
      partsUploaded: uploaded.size,
      resumed,
    });
    const progress = partProgress(file.size, upload, uploaded, onProgress);
    // A part S3 lost track of (complete answers 400) is sent once more, then it is an error.
    for (let round = 1; ; round += 1) {
      await sendMissingParts(client, file, upload, uploaded, progress, options);
      onStage("verifying", { assetId: upload.assetId });
      try {
        await completeParts(client, upload.assetId, uploaded);
        break;
      } catch (error) {
        if (!(error instanceof MediaportError && error.status === 400 && round < 2)) throw error;
        uploaded = (await listUploadedParts(client, upload.assetId, upload, file.size)) ?? new Map();
        progress.restart(uploaded);
      }
    }
    memory?.forget();
    return upload.assetId;
  } catch (error) {
    if (signal?.aborted) {
      if (upload) await abortQuietly(client, upload.assetId);
      memory?.forget();
      throw signal.reason;
    }
    // Settled one way or another (rejected, aborted elsewhere, expired): nothing to resume.
    if (error instanceof MediaportError && [404, 409, 422].includes(error.status)) memory?.forget();
    throw upload ? await withRejectedAsset(client, upload.assetId, error) : error;
  } finally {
    memory?.release();
  }
}

/**
 * The parts S3 holds, as part number → ETag; null when the upload is gone or not ours.
 * With a plan, only parts of their planned size count (any other is sent again).
 */
async function listUploadedParts(client, assetId, plan = null, fileSize = 0) {
  try {
    const { parts } = await client.request("GET", `/media/upload/multipart/${encodeURIComponent(assetId)}/parts`);
    const fits = (part) =>
      !plan || (part.partNumber <= plan.partCount && part.size === plannedSize(plan, fileSize, part.partNumber));
    return new Map(parts.filter(fits).map((part) => [part.partNumber, part.etag]));
  } catch (error) {
    if (error instanceof MediaportError && [403, 404, 409].includes(error.status)) return null;
    throw error;
  }
}

/** Send every part not in `uploaded`, `partConcurrency` at a time, adding each as it lands. */
async function sendMissingParts(client, file, upload, uploaded, progress, options) {
  const missing = [];
  for (let number = 1; number <= upload.partCount; number += 1) {
    if (!uploaded.has(number)) missing.push(number);
  }
  if (!missing.length) return;
  const signer = partSigner(client, upload.assetId, missing, uploaded);
  // One part failing for good stops the others: no point sending bytes nobody completes.
  const stop = new AbortController();
  const signal = combineSignals(options.signal, stop.signal);
  let failure = null;
  let next = 0;
  const lane = async () => {
    while (next < missing.length && !signal.aborted) {
      const number = missing[next];
      next += 1;
      const start = (number - 1) * upload.partSize;
      const bytes = file.slice(start, Math.min(file.size, start + upload.partSize));
      try {
        const etag = await sendPart(client, signer, number, bytes, signal, progress);
        uploaded.set(number, etag);
        progress.partDone(number);
      } catch (error) {
        failure ??= error;
        stop.abort(error);
      }
    }
  };
  const lanes = Math.min(options.partConcurrency ?? DEFAULT_PART_CONCURRENCY, missing.length);
  // Every lane settles before this returns: no part PUT outlives the upload's outcome.
  await Promise.all(Array.from({ length: Math.max(1, lanes) }, lane));
  if (options.signal?.aborted) throw options.signal.reason;
  if (failure) throw failure;
}

/** One part, retried like any request; a URL S3 refuses (403: expired) is signed afresh once. */
function sendPart(client, signer, number, bytes, signal, progress) {
  return client.retrying(async () => {
    for (let resigned = false; ; resigned = true) {
      const url = await signer.urlFor(number);
      try {
        const xhr = await transfer("PUT", url, bytes, {}, signal, (loaded) => progress.partLoaded(number, loaded));
        // null when the bucket's CORS hides ETag: complete then asks the API for it.
        return xhr.getResponseHeader("ETag");
      } catch (error) {
        progress.partLoaded(number, 0);
        if (error instanceof MediaportError && error.status === 403 && !resigned) {
          signer.forget(number);
          continue;
        }
        throw error;
      }
    }
  }, signal);
}

/**
 * Part URLs, signed in batches of up to 100 as the parts need them, and again when one is
 * close to expiry. Concurrent callers share one signing request.
 */
function partSigner(client, assetId, order, uploaded) {
  const urls = new Map(); // part number → {url, usableUntil}
  let signing = null;
  const usable = (number) => {
    const signed = urls.get(number);
    return signed && signed.usableUntil > Date.now() ? signed.url : null;
  };
  const signFrom = async (number) => {
    const from = Math.max(0, order.indexOf(number));
    const batch = [number];
    for (const candidate of order.slice(from + 1)) {
      if (batch.length >= MAX_PARTS_PER_SIGNING) break;
      if (!uploaded.has(candidate) && !usable(candidate)) batch.push(candidate);
    }
    const signed = await client.request("POST", "/media/upload/multipart/part", { assetId, partNumbers: batch });
    const now = Date.now();
    const lifetime = Date.parse(signed.expiresAt) - now;
    const usableUntil = now + Math.max(URL_MIN_USE_MS, Number.isNaN(lifetime) ? 0 : lifetime - URL_EXPIRY_MARGIN_MS);
    for (const [key, url] of Object.entries(signed.urls)) urls.set(Number(key), { url, usableUntil });
  };
  return {
    async urlFor(number) {
      for (;;) {
        const url = usable(number);
        if (url) return url;
        if (signing) {
          // Another part's batch may hold this one too; if it fails, this part signs anew.
          await signing.catch(noop);
          continue;
        }
        signing = signFrom(number).finally(() => {
          signing = null;
        });
        await signing;
        const signed = usable(number);
        if (signed) return signed;
        throw new MediaportError({
          status: 502,
          title: "The API signed no URL for this part",
          detail: `part ${number}`,
        });
      }
    },
    forget(number) {
      urls.delete(number);
    },
  };
}

/** Complete with every part's ETag; ETags S3's answers did not show are asked of the API. */
async function completeParts(client, assetId, uploaded) {
  if ([...uploaded.values()].some((etag) => !etag)) {
    const listed = (await listUploadedParts(client, assetId)) ?? new Map();
    for (const [number, etag] of uploaded) if (!etag && listed.has(number)) uploaded.set(number, listed.get(number));
  }
  const parts = [...uploaded].sort(([a], [b]) => a - b).map(([partNumber, etag]) => ({ partNumber, etag }));
  return client.request("POST", "/media/upload/multipart/complete", { assetId, parts });
}

/** Abort a cancelled upload: its own client, as the upload's signal has fired already. */
async function abortQuietly(client, assetId) {
  try {
    await client.withoutSignal().request("POST", "/media/upload/multipart/abort", { assetId });
  } catch {
    // Best effort: the PENDING asset expires and the lifecycle rule aborts the upload anyway.
  }
}

/** Bytes of parts done plus bytes of parts in flight, reported as one upload's progress. */
function partProgress(total, upload, uploaded, onProgress) {
  const sizeOf = (number) => plannedSize(upload, total, number);
  const inFlight = new Map();
  let done = 0;
  const report = () => {
    let loaded = done;
    for (const bytes of inFlight.values()) loaded += bytes;
    loaded = Math.min(loaded, total);
    onProgress({ loaded, total, fraction: total ? loaded / total : 0 });
  };
  const restart = (parts) => {
    inFlight.clear();
    done = 0;
    for (const number of parts.keys()) done += sizeOf(number);
    report();
  };
  restart(uploaded);
  return {
    restart,
    partLoaded(number, loaded) {
      inFlight.set(number, loaded);
      report();
    },
    partDone(number) {
      inFlight.delete(number);
      done += sizeOf(number);
      report();
    },
  };
}

/** A part's exact length: `partSize`, but the last part holds what is left. */
function plannedSize({ partSize, partCount }, fileSize, number) {
  return number < partCount ? partSize : fileSize - partSize * (partCount - 1);
}

/**
 * Where this file's multipart upload is remembered: keyed by user and by the file's name,
 * size and lastModified. Null when it cannot be (no user, a Blob, no localStorage, resume
 * off, or the same file already uploading in this page).
 */
async function rememberedUpload(client, file, options) {
  if (options.resume === false || typeof file.lastModified !== "number" || !file.name) return null;
  const store = localStore();
  const userId = options.userId ?? subjectOf(await client.bearer());
  if (!store || !userId) return null;
  const key = resumeKey(userId, file);
  if (activeResumeKeys.has(key)) return null;
  activeResumeKeys.add(key);
  return {
    load() {
      return parseJson(store.getItem(key) ?? "");
    },
    save(upload) {
      const { name: filename, size, lastModified } = file;
      const entry = { ...upload, filename, size, lastModified, savedAt: Date.now() };
      try {
        store.setItem(key, JSON.stringify(entry));
      } catch {
        // Storage full or refused: the upload goes on, it just cannot be resumed.
      }
    },
    forget() {
      store.removeItem(key);
    },
    release() {
      activeResumeKeys.delete(key);
    },
  };
}

/**
 * The multipart uploads this browser remembers for a user, unfinished and not expired:
 * add the same file again (name, size, lastModified) to resume one.
 *
 * @param {{userId?: string, token?: string|Function}} options Whose uploads (default the token's `sub`).
 * @returns {Promise<Array<{assetId: string, filename: string, size: number, lastModified: number,
 *   partCount: number, partSize: number, scope: string|null, expiresAt: string}>>}
 */
export async function listResumableUploads({ userId, token } = {}) {
  const store = localStore();
  const bearer = typeof token === "function" ? await token() : token;
  const user = userId ?? subjectOf(bearer);
  if (!store || !user) return [];
  const prefix = resumeKey(user, null);
  const found = [];
  for (let index = store.length - 1; index >= 0; index -= 1) {
    const key = store.key(index);
    if (!key?.startsWith(prefix)) continue;
    const entry = parseJson(store.getItem(key) ?? "");
    if (!entry || !(Date.parse(entry.expiresAt) > Date.now())) store.removeItem(key);
    else found.push(entry);
  }
  return found.sort((a, b) => (b.savedAt ?? 0) - (a.savedAt ?? 0));
}

// "<prefix><user>\n<size>:<lastModified>:<name>"; without a file, the user's prefix.
function resumeKey(userId, file) {
  const user = `${RESUME_PREFIX}${encodeURIComponent(userId)}\n`;
  return file ? `${user}${file.size}:${file.lastModified}:${file.name}` : user;
}

function localStore() {
  try {
    return globalThis.localStorage ?? null;
  } catch {
    return null; // e.g. a sandboxed frame, or storage blocked by the user
  }
}

/** A JWT's `sub`, read without verifying (only to key this browser's own records). */
function subjectOf(token) {
  try {
    const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const bytes = Uint8Array.from(atob(payload.padEnd(Math.ceil(payload.length / 4) * 4, "=")), (c) => c.charCodeAt(0));
    const sub = JSON.parse(new TextDecoder().decode(bytes)).sub;
    return typeof sub === "string" && sub ? sub : null;
  } catch {
    return null;
  }
}

/** A 422 (verification rejected the file) carries the rejected asset, for its reason. */
async function withRejectedAsset(client, assetId, error) {
  if (error instanceof MediaportError && error.status === 422 && !error.asset) {
    error.asset = await client.request("GET", assetPath(assetId)).catch(() => null);
  }
  return error;
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
  return makeClient(options).request("GET", assetPath(assetId));
}

/**
 * List the caller's assets, newest first, one page at a time.
 *
 * @param {{apiUrl?: string, token: string|Function, status?: string, limit?: number,
 *          cursor?: string, signal?: AbortSignal}} options `status` filters, e.g. "READY";
 *   pass the previous page's `nextCursor` as `cursor` for the next page. Every filter of
 *   `listLibrary()` is taken too.
 * @returns {Promise<{items: object[], nextCursor: string|null}>}
 */
export function listAssets(options) {
  return listLibrary(options, options);
}

// The query parameters of GET /media, as listLibrary() takes them (tags apart: `tag`, repeated).
const LIBRARY_FILTERS = [
  "folder",
  "recursive",
  "type",
  "mimeType",
  "scope",
  "status",
  "q",
  "deleted",
  "sort",
  "limit",
  "cursor",
];

/**
 * One page of the caller's media library, filtered and sorted.
 *
 * A page can be shorter than `limit` and still have a `nextCursor` (the `q` and `tags`
 * filters look at a bounded number of assets per request): keep following `nextCursor`
 * until it is null.
 *
 * @param {object} [filters]
 * @param {string} [filters.folder] Exactly this folder, e.g. "trips/2026"; "/" for assets in no folder.
 * @param {boolean} [filters.recursive] With `folder`, include its subfolders.
 * @param {string[]|string} [filters.tags] Only assets carrying every one of these tags.
 * @param {"image"|"video"|"audio"|"document"|"other"} [filters.type] A type category.
 * @param {string} [filters.mimeType] An exact media type, e.g. "image/png".
 * @param {string} [filters.scope] An upload scope, e.g. "GENERIC".
 * @param {"PENDING"|"READY"|"REJECTED"|"QUARANTINED"} [filters.status]
 * @param {string} [filters.q] Case-insensitive text in the filename, alt text or caption.
 * @param {boolean} [filters.deleted] The trash instead of the library (and only the trash).
 * @param {"-createdAt"|"createdAt"|"size"|"-size"|"filename"} [filters.sort] Newest first by default.
 * @param {number} [filters.limit] 1-100 assets (the API's default is 20).
 * @param {string} [filters.cursor] The previous page's `nextCursor`.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{items: object[], nextCursor: string|null}>} A bad filter throws a
 *   `MediaportError` with status 400 and the field in `errors`.
 */
export function listLibrary(filters = {}, options = {}) {
  const query = new URLSearchParams();
  for (const name of LIBRARY_FILTERS) {
    const value = filters[name];
    if (value != null && value !== "" && value !== false) query.set(name, String(value));
  }
  for (const tag of [filters.tags ?? []].flat()) query.append("tag", tag);
  const suffix = query.toString() ? `?${query}` : "";
  return makeClient(options).request("GET", `/media${suffix}`);
}

/**
 * Read one asset with its version, to edit it without overwriting someone else's change.
 *
 * @param {string} assetId
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{asset: object, etag: string|null}>} Pass `etag` as `ifMatch` to `updateAsset()`.
 */
export async function getAssetWithETag(assetId, options) {
  const { data, headers } = await makeClient(options).exchange("GET", assetPath(assetId));
  return { asset: data, etag: headers.get("ETag") };
}

/**
 * Change an asset's library fields with a JSON merge patch: only the fields given change,
 * and `null` clears one.
 *
 * @param {string} assetId
 * @param {{altText?: string|null, caption?: string|null, tags?: string[]|null, folder?: string|null}} patch
 *   Tags are trimmed, lower-cased and de-duplicated by the API; unknown fields are refused.
 * @param {{ifMatch?: string, apiUrl?: string, token: string|Function, signal?: AbortSignal,
 *          attempts?: number}} options `ifMatch`: the ETag read with the asset; the change is
 *   then refused (412) if the asset changed since.
 * @returns {Promise<{asset: object, etag: string|null}>} The changed asset and its new ETag.
 *   Throws a `MediaportError`: 412 when `ifMatch` is stale, 400 for a bad field (in `errors`),
 *   409 (`edit-conflict`) when other changes kept winning the race for it: read it again.
 */
export async function updateAsset(assetId, patch, { ifMatch, ...options } = {}) {
  if (!patch || typeof patch !== "object" || Array.isArray(patch)) throw new TypeError("patch must be an object");
  const headers = { "Content-Type": "application/merge-patch+json" };
  if (ifMatch) headers["If-Match"] = ifMatch;
  const { data, headers: answered } = await makeClient(options).exchange("PATCH", assetPath(assetId), patch, headers);
  return { asset: data, etag: answered.get("ETag") };
}

/**
 * Move an asset to the trash (it can be restored until it is purged).
 *
 * @param {string} assetId
 * @param {{detach?: boolean, apiUrl?: string, token: string|Function, signal?: AbortSignal,
 *          attempts?: number}} [options] `detach`: delete it even when it is attached to
 *   something, detaching it first.
 * @returns {Promise<void>} Throws a `MediaportError` with status 409 when the asset is
 *   attached somewhere and `detach` is not set; its `problem.attachments` lists where
 *   (`[{entityType, entityId}]`).
 */
export async function deleteAsset(assetId, { detach = false, ...options } = {}) {
  await makeClient(options).request("DELETE", `${assetPath(assetId)}${detach ? "?detach=true" : ""}`);
}

/**
 * Bring an asset back from the trash, READY again and in the folder it was in.
 *
 * @param {string} assetId
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<object>} The asset. Throws a `MediaportError`: 409 once it was purged;
 *   403 (`quota-exceeded`, with `limitBytes`, `usedBytes`, `remainingBytes` in `problem`)
 *   when it no longer fits the user's storage tier.
 */
export function restoreAsset(assetId, options) {
  return makeClient(options).request("POST", `${assetPath(assetId)}/restore`);
}

/**
 * Put an asset into a folder, or into none.
 *
 * @param {string} assetId
 * @param {string|null} folder A folder path, e.g. "trips/2026" (created when missing); null or "" for no folder.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<object>} The moved asset. Throws a `MediaportError` (400 for a bad path).
 */
export function moveAsset(assetId, folder, options) {
  return makeClient(options).request("POST", `${assetPath(assetId)}/move`, { folder: folder || null });
}

/**
 * A short-lived URL that downloads the asset under its original filename. A plain link to
 * the API cannot carry the bearer token: put this URL in an `<a download href>` instead.
 *
 * @param {string} assetId
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{url: string, filename: string, expiresAt: string}>} Throws a `MediaportError`.
 */
export function downloadUrl(assetId, options) {
  return makeClient(options).request("GET", `${assetPath(assetId)}/download`, undefined, {
    Accept: "application/json",
  });
}

/**
 * Every folder of the caller, nested ones included, sorted by path.
 *
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Array<{path: string, assetCount: number, bytes: number, createdAt: string}>>}
 *   `assetCount` and `bytes` count the assets directly in the folder.
 */
export async function listFolders(options) {
  const { items } = await makeClient(options).request("GET", "/media/folders");
  return items;
}

/**
 * Create a folder.
 *
 * @param {string} path E.g. "trips/2026": names of letters, digits, spaces, `-`, `_` and `.`.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{path: string, assetCount: number, bytes: number, createdAt: string}>}
 *   Throws a `MediaportError`: 409 when it exists, 400 for a bad path.
 */
export function createFolder(path, options) {
  return makeClient(options).request("POST", "/media/folders", { path });
}

/**
 * Delete a folder. One holding assets or subfolders is refused unless `moveTo` names a
 * folder to move everything to first (subfolders keep their place under it).
 *
 * @param {string} path E.g. "trips/2026".
 * @param {{moveTo?: string, apiUrl?: string, token: string|Function, signal?: AbortSignal,
 *          attempts?: number}} [options]
 * @returns {Promise<void>} Throws a `MediaportError`: 409 when not empty and no `moveTo`, 404
 *   when there is no such folder. With `moveTo`, at most 500 assets move a request; a 409
 *   (`folder-not-empty`) saying "repeat the request" then means: call it again until it resolves.
 */
export async function deleteFolder(path, { moveTo, ...options } = {}) {
  const suffix = moveTo ? `?${new URLSearchParams({ moveTo })}` : "";
  await makeClient(options).request("DELETE", `/media/folders/${encodeURIComponent(path)}${suffix}`);
}

function assetPath(assetId) {
  return `/media/${encodeURIComponent(assetId)}`;
}

// ---- attachments and avatars (docs/attachments.md) ----------------------------------------

/**
 * Attach one of the caller's READY assets to a thing of your app (a post, a vehicle), as
 * the entity type allows: the scopes it takes and how many it holds. The first user to
 * attach to an entity claims it; nobody else may attach to it or detach from it.
 *
 * @param {string} assetId
 * @param {string} entityType E.g. "post", "vehicle", or one configured for the deployment.
 * @param {string} entityId Your app's id of the thing: 1-128 letters, digits or `._:@-`.
 * @param {{role?: string, apiUrl?: string, token: string|Function, signal?: AbortSignal,
 *          attempts?: number}} options `role`: what the asset is on the entity, e.g. "cover"
 *   (1-32 letters, digits, `_` or `-`); left out on an existing attachment, its role stays.
 * @returns {Promise<{assetId: string, entityType: string, entityId: string, role: string|null,
 *          attachedAt: string, created: boolean}>} The attachment; `created` is true when
 *   this call attached it (201), false when it was attached already (200). Throws a
 *   `MediaportError`: 403 not yours or the entity is another user's (`entity-claimed`),
 *   404 no such asset or entity type, 409 the asset is not READY, 422 the type does not
 *   take its scope (`scope-not-allowed`), the entity is full (`entity-full`), or the
 *   asset is attached to 40 things already (`attachment-limit`); the problem's `type` says which.
 */
export async function attachAsset(assetId, entityType, entityId, { role, ...options } = {}) {
  const path = `${assetPath(assetId)}/attachments/${entityPath(entityType, entityId)}`;
  const { data, status } = await makeClient(options).exchange("PUT", path, role == null ? undefined : { role });
  return { ...data, created: status === 201 };
}

/**
 * Detach an asset from a thing of your app.
 *
 * @param {string} assetId
 * @param {string} entityType E.g. "post".
 * @param {string} entityId Your app's id of the thing.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<void>} Throws a `MediaportError`: 404 when it is not attached there
 *   (`attachment-not-found`), 403 when the asset or the entity is another user's.
 */
export async function detachAsset(assetId, entityType, entityId, options) {
  await makeClient(options).request("DELETE", `${assetPath(assetId)}/attachments/${entityPath(entityType, entityId)}`);
}

/**
 * What a thing of your app shows: its attached READY assets, oldest attachment first. Any
 * signed-in user may read it; nothing of the owner's own (filename, folder, tags) is in it.
 *
 * @param {string} entityType E.g. "post".
 * @param {string} entityId Your app's id of the thing.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{entityType: string, entityId: string, items: Array<{assetId: string,
 *          role: string|null, url: string, variants: Object<string, {url: string, width: number,
 *          height: number}>, mimeType: string, altText: string|null, width: number|null,
 *          height: number|null, placeholder: string|null, dominantColor: string|null,
 *          attachedAt: string}>}>} `url` and the variants' URLs are short-lived. An entity
 *   nothing was attached to has no items; an unknown entity type throws a `MediaportError` (404).
 */
export function getAttachments(entityType, entityId, options) {
  return makeClient(options).request("GET", `/attachments/${entityPath(entityType, entityId)}`);
}

/**
 * Make a READY asset of the caller's, uploaded in scope PROFILE_AVATAR, their avatar (the
 * one it replaces is released in the same step), or clear it with null.
 *
 * @param {string|null} assetId The new avatar; null for none.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{assetId: string, url: string, variants: Object<string, {url: string,
 *          width: number, height: number}>}|null>} The avatar, or null once cleared. Throws a
 *   `MediaportError`: 422 for an asset of another scope (`scope-not-allowed`), 409 not READY,
 *   403 not yours, 404 no such asset.
 */
export function setAvatar(assetId, options) {
  return makeClient(options).request("PUT", "/me/avatar", { assetId: assetId ?? null });
}

/**
 * A user's avatar, as any signed-in user may read it.
 *
 * @param {string} userId The user's id (their token's `sub`).
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{assetId: string, url: string, variants: Object<string, {url: string,
 *          width: number, height: number}>}|null>} null when the user has no avatar (the
 *   API's 404 `avatar-not-found`); any other failure throws a `MediaportError`.
 */
export async function getAvatar(userId, options) {
  try {
    return await makeClient(options).request("GET", `/users/${encodeURIComponent(userId)}/avatar`);
  } catch (error) {
    if (error instanceof MediaportError && error.type === AVATAR_NOT_FOUND) return null;
    throw error;
  }
}

function entityPath(entityType, entityId) {
  return `${encodeURIComponent(entityType)}/${encodeURIComponent(entityId)}`;
}

/**
 * The caller's storage usage against the limits of their tier.
 *
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{tier: string, totalBytes: number, totalFiles: number, limitBytes: number,
 *          maxFiles: number, remainingBytes: number, percentUsed: number,
 *          warning: null|"APPROACHING"|"EXCEEDED", storageWarningAt: string|null,
 *          calculatedAt: string|null}>} `warning` is "APPROACHING" from 80 % of the tier's
 *   bytes and "EXCEEDED" at 100 %.
 */
export function getUsage(options) {
  return makeClient(options).request("GET", "/media/usage");
}

/**
 * The caller's storage usage, broken down by type category, scope and top-level folder.
 *
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{byType: Object<string, {bytes: number, files: number}>,
 *          byScope: Object<string, {bytes: number, files: number}>,
 *          byFolder: Object<string, {bytes: number, files: number}>}>} `byType` keys are
 *   image, video, audio, document and other.
 */
export function getUsageBreakdown(options) {
  return makeClient(options).request("GET", "/media/usage/breakdown");
}

// ---- image operations on demand (docs/processing.md) --------------------------------------

/**
 * Every variant of one of the caller's images: the automatic thumbnails ("1024", "512",
 * "128") and each one asked for with `resizeImage()`, `cropImage()` or `optimizeImage()`.
 *
 * @param {string} assetId
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Array<Variant>>} Throws a `MediaportError`: 403 not yours, 404 no such asset.
 *
 * @typedef {object} Variant
 * @property {string} name "1024", "512", "128", "optimized", or the name a resize or crop answered with.
 * @property {number} width
 * @property {number} height
 * @property {"webp"|"avif"|"jpeg"|"png"} format
 * @property {number|null} bytes Its size once READY; null before.
 * @property {"PENDING"|"READY"|"FAILED"} status
 * @property {Object<string, string|number>} params What was asked for: `operation` (thumbnail,
 *   resize, crop, optimize), `format`, `quality`, and the operation's own (`width`, `fit`, `x`…).
 * @property {string|null} url A short-lived URL once READY (and the asset served).
 * @property {"NOT_SMALLER"|"UNREADABLE"|"GAVE_UP"|null} reason Why it FAILED: NOT_SMALLER is an
 *   optimize that saved nothing (no copy is kept).
 * @property {string|null} detail The reason in words.
 * @property {string|null} requestedAt When it was asked for (null for the thumbnails).
 */
export async function listVariants(assetId, options) {
  const { items } = await makeClient(options).request("GET", `${assetPath(assetId)}/variants`);
  return items;
}

/**
 * One variant of an image, as it is now (poll it with `waitForVariant()`).
 *
 * @param {string} assetId
 * @param {string} name E.g. "512", "optimized", or the `name` a resize or crop answered with.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Variant>} Throws a `MediaportError`: 404 no such asset or variant, 403 not yours.
 */
export function getVariant(assetId, name, options) {
  return makeClient(options).request("GET", variantPath(assetId, name));
}

/**
 * Ask for a resized variant of a READY image. The same parameters are the same variant:
 * asking again answers it as it is (made, or still being made) instead of making another.
 *
 * @param {string} assetId
 * @param {object} resize
 * @param {number} [resize.width] Pixels; at least one of `width` and `height`. With one, the
 *   other follows the aspect ratio.
 * @param {number} [resize.height] Pixels. The output is at most 4096 a side.
 * @param {"cover"|"contain"|"inside"|"fill"} [resize.fit] With both dimensions: cover (fill the
 *   box, crop the overflow; the default), contain (fit in the box, pad), inside (fit in the box,
 *   aspect kept) or fill (stretch).
 * @param {"webp"|"avif"|"jpeg"|"png"} [resize.format] Default webp.
 * @param {number} [resize.quality] 1-100 (default 80).
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Variant>} The variant, PENDING while it is made (then `waitForVariant()`).
 *   Throws a `MediaportError`: 400 a bad field (in `errors`), 409 not a READY image or not
 *   served yet (scanning), 422 a limit (`problem.limit`: the output edge, the pixel budget, the
 *   number of variants), 403, 404.
 */
export function resizeImage(assetId, { width, height, fit, format, quality } = {}, options) {
  return requestVariant(assetId, "resize", { width, height, fit, format, quality }, options);
}

/**
 * Ask for a cropped variant of a READY image: the rectangle in pixels of the image as it is
 * displayed (after its EXIF orientation).
 *
 * @param {string} assetId
 * @param {{x: number, y: number, width: number, height: number,
 *          format?: "webp"|"avif"|"jpeg"|"png", quality?: number}} crop `format`: the
 *   original's when left out (WebP for a GIF); `quality` 1-100 (default 80).
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Variant>} Like `resizeImage()`; a rectangle not inside the image throws a
 *   `MediaportError` with status 400 (`crop-outside-image`).
 */
export function cropImage(assetId, { x, y, width, height, format, quality } = {}, options) {
  return requestVariant(assetId, "crop", { x, y, width, height, format, quality }, options);
}

/**
 * Ask for the `optimized` variant of a READY image: the same pixels re-encoded at `quality`,
 * every metadata stripped. Once READY the asset carries `originalSize`, `optimizedSize` and
 * `compressionRatio`. When the result is not smaller the variant ends FAILED with reason
 * NOT_SMALLER and no copy is kept. Asking again with other parameters replaces it.
 *
 * @param {string} assetId
 * @param {{quality?: number, format?: "webp"|"avif"|"jpeg"|"png"}} [optimize] `quality` 1-100
 *   (default 80); `format`: the original's when left out.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<Variant>} Like `resizeImage()`.
 */
export function optimizeImage(assetId, { quality, format } = {}, options) {
  return requestVariant(assetId, "optimize", { quality, format }, options);
}

/**
 * Poll a variant until it is READY or FAILED.
 *
 * @param {string} assetId
 * @param {string} name The variant's `name`, as `resizeImage()` and the others answered it.
 * @param {{intervalMs?: number, timeoutMs?: number, apiUrl?: string, token: string|Function,
 *          signal?: AbortSignal, attempts?: number}} [options] `intervalMs` between reads
 *   (default 500); `timeoutMs` in all (default 60 s).
 * @returns {Promise<Variant>} The variant, READY (with its `url` and `bytes`) or FAILED (with
 *   its `reason`: check it, a FAILED variant resolves). Rejects with a `MediaportError`
 *   (status 0, title "Timed out", the last `variant` read) when it is still PENDING at the
 *   timeout, and with the signal's reason when cancelled.
 */
export async function waitForVariant(
  assetId,
  name,
  { intervalMs = DEFAULT_VARIANT_POLL_MS, timeoutMs = DEFAULT_VARIANT_TIMEOUT_MS, ...options } = {},
) {
  const client = makeClient(options);
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const variant = await client.request("GET", variantPath(assetId, name));
    if (variant.status !== "PENDING") return variant;
    const wait = Math.min(intervalMs, deadline - Date.now());
    if (wait <= 0) {
      const error = new MediaportError({
        status: 0,
        title: "Timed out",
        detail: `variant ${name} of asset ${assetId} is still PENDING after ${Math.round(timeoutMs / 1000)} s`,
      });
      error.variant = variant;
      throw error;
    }
    await sleep(wait, options.signal);
  }
}

/** POST one operation; fields left undefined (or null) are the API's defaults. */
function requestVariant(assetId, operation, fields, options) {
  const body = Object.fromEntries(Object.entries(fields).filter(([, value]) => value != null && value !== ""));
  return makeClient(options).request("POST", `${assetPath(assetId)}/${operation}`, body);
}

function variantPath(assetId, name) {
  return `${assetPath(assetId)}/variants/${encodeURIComponent(name)}`;
}

// ---- admin: malware quarantine (docs/scanning.md) -------------------------------------------

/**
 * One page of every user's quarantined assets, newest first. Needs a token in the `admin`
 * group (`cognito:groups`).
 *
 * @param {{scanStatus?: "INFECTED"|"ERROR", userId?: string, cursor?: string, limit?: number}} [filters]
 *   `scanStatus`: INFECTED (a threat found) or ERROR (the scan could not be done); `userId`:
 *   one owner's; `cursor`: the previous page's `nextCursor`; `limit`: 1-100 (default 50).
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{items: Array<{assetId: string, userId: string, status: "QUARANTINED",
 *          filename: string, originalFilename: string, mimeType: string|null, size: number|null,
 *          scanStatus: "INFECTED"|"ERROR", scanResult: string|null, scannedAt: string|null,
 *          createdAt: string}>, nextCursor: string|null}>} `scanResult` is the scanner's own
 *   word, e.g. THREATS_FOUND. Throws a `MediaportError`: 403 (`admin-required`) for a token
 *   not in the admin group, 400 for a bad filter or cursor.
 */
export function listQuarantined({ scanStatus, userId, cursor, limit } = {}, options = {}) {
  const query = new URLSearchParams();
  for (const [name, value] of Object.entries({ scanStatus, userId, cursor, limit })) {
    if (value != null && value !== "") query.set(name, String(value));
  }
  const suffix = query.toString() ? `?${query}` : "";
  return makeClient(options).request("GET", `/admin/media/quarantined${suffix}`);
}

/**
 * Release a quarantined asset after review: it is marked CLEAN by manual review, served
 * again, and its thumbnails are made again. Needs a token in the `admin` group.
 *
 * @param {string} assetId
 * @param {string} reason Why it is safe to serve (1-1000 characters), kept on the asset.
 * @param {{apiUrl?: string, token: string|Function, signal?: AbortSignal, attempts?: number}} options
 * @returns {Promise<{assetId: string, userId: string, status: "READY", scanStatus: "CLEAN",
 *          releasedBy: string, releasedAt: string, releaseReason: string}>} The released asset
 *   (with its filename, type, size and scan fields too). Throws a `MediaportError`: 409 when
 *   it is not QUARANTINED (released or deleted meanwhile), 403 (`admin-required`), 404, 400
 *   for a missing reason.
 */
export function releaseAsset(assetId, reason, options) {
  return makeClient(options).request("POST", `/admin${assetPath(assetId)}/release`, { reason });
}

/**
 * Wait until a confirmed asset's processing (and scan) has finished, or it is REJECTED or
 * QUARANTINED, or the timeout. `onScanning` hears once of a READY asset waiting for its scan.
 */
async function waitUntilProcessed(client, assetId, { signal, timeout, onScanning = noop }) {
  const deadline = Date.now() + timeout;
  let delay = POLL_FIRST_MS;
  let scanning = false;
  for (;;) {
    const asset = await client.request("GET", assetPath(assetId));
    if (asset.status === "REJECTED") {
      throw new MediaportError({
        status: 422,
        title: "The file was rejected",
        detail: asset.rejectDetail || "the uploaded file failed verification",
        rejectReason: asset.rejectReason,
        asset,
      });
    }
    // Quarantined: nothing more happens to it until an admin releases it.
    if (asset.status === "QUARANTINED") return asset;
    const waitingForScan = asset.status === "READY" && asset.scanStatus === "PENDING";
    if (waitingForScan && !scanning) {
      scanning = true;
      onScanning(asset);
    }
    const processed = asset.processing == null || FINISHED_PROCESSING.has(asset.processing);
    const settled = asset.status === "READY" && processed && !waitingForScan;
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

  async function bearer() {
    return typeof token === "function" ? await token() : token;
  }

  // The client's signal, or a part's own (the upload's, plus "another part failed for good").
  async function retrying(operation, own = signal) {
    for (let attempt = 1; ; attempt += 1) {
      throwIfAborted(own);
      try {
        return await operation();
      } catch (error) {
        const again = error instanceof MediaportError && error.retryable && attempt < attempts;
        if (!again || own?.aborted) throw error;
        if (error.retryAfter != null) {
          // The server said when: not before (a sooner retry is refused again), and not
          // when that is further off than anyone waits for an upload to start.
          if (error.retryAfter > MAX_RETRY_AFTER_MS) throw error;
          await sleep(error.retryAfter, own);
          continue;
        }
        // Full jitter: many clients failing together do not retry in step.
        const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (attempt - 1));
        await sleep(Math.random() * ceiling, own);
      }
    }
  }

  /** One API request, retried; resolves with the JSON body (null for 204), the status and the headers. */
  async function exchange(method, path, body, headers = {}) {
    const jwt = await bearer();
    if (!jwt) throw new TypeError("a token is required");
    return retrying(async () => {
      let response;
      try {
        response = await fetch(base + path, {
          method,
          signal,
          headers: {
            Accept: "application/json, application/problem+json",
            Authorization: `Bearer ${jwt}`,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
            ...headers,
          },
          body: body === undefined ? undefined : JSON.stringify(body),
        });
      } catch (error) {
        if (signal?.aborted) throw signal.reason;
        throw networkError(error);
      }
      const { status } = response;
      if (status === 204) return { data: null, status, headers: response.headers };
      const text = await response.text();
      const data = text ? parseJson(text) : null;
      if (response.ok) return { data, status, headers: response.headers };
      const error = problemError(response.status, data, response.statusText);
      if (error.retryable) {
        error.retryAfter = parseRetryAfter(response.headers.get("Retry-After"));
      }
      throw error;
    });
  }

  async function request(method, path, body, headers) {
    return (await exchange(method, path, body, headers)).data;
  }

  return {
    request,
    exchange,
    retrying,
    bearer,
    /** The same client, not cancelled by the upload's signal (to abort a cancelled upload). */
    withoutSignal: () => makeClient({ apiUrl, token, attempts: Math.min(attempts, 2) }),
  };
}

/** Send the whole file to S3 with the presigned URL or form of its ticket. */
function sendToStorage(ticket, file, signal, onProgress) {
  let body = file;
  const headers = {};
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
      if (name.toLowerCase() !== "content-length") headers[name] = value;
    }
  }
  const report = (loaded, total) => onProgress({ loaded, total, fraction: total ? loaded / total : 0 });
  return transfer(ticket.method, ticket.uploadUrl, body, headers, signal, (loaded, total) =>
    report(loaded, total ?? file.size),
  ).then(() => report(file.size, file.size));
}

/**
 * One request to storage with XMLHttpRequest, the only browser API with upload progress.
 * Resolves with the finished request (for its response headers) on 2xx; rejects with a
 * `MediaportError` (status 0 for the network), or the signal's reason when cancelled.
 */
function transfer(method, url, body, headers, signal, onLoaded) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    const abort = () => xhr.abort();
    const settle = (outcome, value) => {
      signal?.removeEventListener("abort", abort);
      outcome(value);
    };
    xhr.open(method, url);
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value);
    xhr.upload.onprogress = (event) => onLoaded(event.loaded, event.lengthComputable ? event.total : null);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) settle(resolve, xhr);
      else settle(reject, storageError(xhr.status, xhr.responseText));
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
      problem: data,
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
