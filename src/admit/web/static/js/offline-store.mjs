/* What the scanner keeps on the device (IndexedDB), so that it survives a reload and a browser restart.

   meta   "key:<orq>"     the organization's public key, pinned at login {orq, key_id, public_key}
          "bundle:<orq>"  the last full bundle as received and verified (written once per full bundle)
          "changes:<orq>" what the deltas since changed {cursor, generated_at, tickets: {h: entry}, removed: [h]}
          "marks:<orq>"   tickets this device admitted while offline {h: {verified_at, verified_by}}
   queue  scans decided offline and not yet answered by the server, keyed by scan_id */

import { _ } from "./door-words.mjs";

const NAME = "admit-offline";
const VERSION = 1;

let opened = null;

function database() {
  if (opened === null) {
    opened = new Promise((resolve, reject) => {
      const request = indexedDB.open(NAME, VERSION);
      request.onupgradeneeded = () => {
        const db = request.result;
        if (!db.objectStoreNames.contains("meta")) db.createObjectStore("meta");
        if (!db.objectStoreNames.contains("queue")) db.createObjectStore("queue", { keyPath: "scan_id" });
      };
      request.onsuccess = () => resolve(request.result);
      request.onerror = () => reject(request.error);
      request.onblocked = () => reject(new Error(_("the offline store is held by an older copy of the page")));
    });
    opened.catch(() => {
      opened = null;
    });
  }
  return opened;
}

/** Run `work(stores)` in one transaction; resolves with its result once the transaction has committed. */
async function transact(names, mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const tx = db.transaction(names, mode);
    const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
    let result;
    Promise.resolve(work(stores)).then(
      (value) => {
        result = value;
      },
      (error) => {
        tx.abort();
        reject(error);
      },
    );
    tx.oncomplete = () => resolve(result);
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error(_("the offline store's transaction was aborted")));
  });
}

function request(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

export async function getMeta(key) {
  return transact(["meta"], "readonly", ({ meta }) => request(meta.get(key)));
}

/** Write several meta entries at once (a value of undefined deletes its key). */
export async function putMeta(entries) {
  return transact(["meta"], "readwrite", ({ meta }) => {
    for (const [key, value] of Object.entries(entries)) {
      if (value === undefined) meta.delete(key);
      else meta.put(value, key);
    }
  });
}

export async function enqueue(scan) {
  return transact(["queue"], "readwrite", ({ queue }) => {
    queue.put(scan);
  });
}

/** Every queued scan, in door-time order. */
export async function queued() {
  const scans = await transact(["queue"], "readonly", ({ queue }) => request(queue.getAll()));
  return scans.sort((a, b) => Date.parse(a.scanned_at) - Date.parse(b.scanned_at));
}

export async function dequeue(scanIds) {
  return transact(["queue"], "readwrite", ({ queue }) => {
    for (const id of scanIds) queue.delete(id);
  });
}
