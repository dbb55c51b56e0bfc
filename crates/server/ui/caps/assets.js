// lodge:app/assets@0.2 in the Worker: the files of [client].assets, read
// by name. `prepare` fetches every asset (from /assets/<sha256>, cached for
// good by the browser) and decodes the images to RGBA pixels here, in the
// Worker, before the client is instantiated; `names`, `read` and
// `read-image` then answer at once from memory, as the WIT's synchronous
// functions must. An asset that can't be fetched stops the client with a
// load fault naming it; an image that can't be decoded is only an error
// for `read-image`.

/** How long one asset may take to arrive before the client is stopped. */
const FETCH_TIMEOUT_MS = 60_000;
/** The extensions decoded as images (what createImageBitmap takes). */
const IMAGE_TYPES = { png: "image/png", jpg: "image/jpeg", jpeg: "image/jpeg", gif: "image/gif", webp: "image/webp" };

const imageType = (name) => IMAGE_TYPES[name.slice(name.lastIndexOf(".") + 1).toLowerCase()];

/** A `result` error as jco expects it: thrown, with the WIT error as `payload`. */
const fail = (payload) => {
  throw { payload };
};

/** Fetches one asset's bytes, naming it in any failure. */
async function fetchAsset({ name, url, size }) {
  let response;
  try {
    response = await fetch(url, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS) });
  } catch (e) {
    const why = e?.name === "TimeoutError" ? `it took longer than ${FETCH_TIMEOUT_MS / 1000} s` : e?.message ?? String(e);
    throw new Error(`asset "${name}" could not be fetched (${why})`);
  }
  if (!response.ok) throw new Error(`asset "${name}" could not be fetched (${response.status} ${response.statusText})`);
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (size !== undefined && bytes.length !== size) {
    throw new Error(`asset "${name}" arrived with ${bytes.length} bytes instead of ${size}`);
  }
  return bytes;
}

/** Decodes image bytes to {width, height, pixels} (RGBA, row by row), or {error}. */
async function decodeImage(bytes, type) {
  let bitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes], { type }), { premultiplyAlpha: "none", colorSpaceConversion: "none" });
  } catch (e) {
    return { error: e?.message || "the browser could not decode it" };
  }
  try {
    const { width, height } = bitmap;
    const context = new OffscreenCanvas(width, height).getContext("2d", { willReadFrequently: true });
    context.drawImage(bitmap, 0, 0);
    const { data } = context.getImageData(0, 0, width, height);
    return { image: { width, height, pixels: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) } };
  } finally {
    bitmap.close();
  }
}

export default {
  name: "assets",
  interfaces: ["lodge:app/assets"],
  versions: ["0.2"],
  capability: "assets",
  create(host) {
    const listed = host.part?.assets ?? [];
    /** name → {bytes, image?, error?}, filled by `prepare`. */
    const loaded = new Map();
    const get = (name) => loaded.get(name) ?? fail({ tag: "not-found" });
    return {
      imports: {
        "lodge:app/assets": {
          names: () => listed.map((asset) => asset.name),
          read: (name) => get(name).bytes,
          readImage(name) {
            const asset = get(name);
            if (asset.image) return asset.image;
            if (asset.error !== undefined) fail({ tag: "undecodable", val: asset.error });
            return fail({ tag: "not-an-image" });
          },
        },
      },
      async prepare() {
        const started = performance.now();
        let done = 0;
        await Promise.all(listed.map(async (asset) => {
          const bytes = await fetchAsset(asset);
          const type = imageType(asset.name);
          loaded.set(asset.name, { bytes, ...(type ? await decodeImage(bytes, type) : {}) });
          host.post({ type: "assets-progress", loaded: ++done, total: listed.length });
        }));
        if (listed.length) {
          const bytes = listed.reduce((sum, asset) => sum + (asset.size ?? 0), 0);
          host.log("debug", `loaded ${listed.length} assets (${bytes} bytes) in ${Math.round(performance.now() - started)} ms`);
        }
      },
    };
  },
};
