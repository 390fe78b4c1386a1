/* The scanner's service worker: keeps /operator and its files so that the page opens with no network.

   Served as /operator-sw.js, with SHELL (cache name, page, files, page-load wait) written in above by
   the server; the cache's name changes with any of the files, so a release replaces the whole set.
   Only the page and those files are answered from the cache: API calls always go to the network, and
   the page itself is fetched fresh whenever the server answers in time. */
"use strict";

const CACHE_PREFIX = "admit-door-";

self.addEventListener("install", (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(SHELL.cache);
      await cache.addAll([SHELL.page, ...SHELL.assets]);
      await self.skipWaiting();
    })(),
  );
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    (async () => {
      const names = await caches.keys();
      const old = names.filter((name) => name.startsWith(CACHE_PREFIX) && name !== SHELL.cache);
      await Promise.all(old.map((name) => caches.delete(name)));
      await self.clients.claim();
    })(),
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === SHELL.page) event.respondWith(page(request));
  else if (SHELL.assets.includes(url.pathname)) event.respondWith(asset(request));
});

/** The page from the server when it answers in time (kept for next time), else the kept copy. */
async function page(request) {
  const cache = await caches.open(SHELL.cache);
  let failure;
  try {
    const response = await within(fetch(request), SHELL.navigation_timeout_ms);
    if (response.ok) {
      await cache.put(SHELL.page, response.clone());
      return response;
    }
    failure = new Error("the server answered " + response.status);
  } catch (error) {
    failure = error;
  }
  const kept = await cache.match(SHELL.page);
  if (kept) return kept;
  throw failure;
}

/** A file of this release: from the cache, which the install filled. */
async function asset(request) {
  const cache = await caches.open(SHELL.cache);
  return (await cache.match(request, { ignoreSearch: true })) || fetch(request);
}

function within(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("no answer within " + ms + " ms")), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
