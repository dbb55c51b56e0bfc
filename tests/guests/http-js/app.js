// An http part in JavaScript: no Lodge SDK, just the standard fetch event
// that componentize-js (StarlingMonkey) maps onto wasi:http/incoming-handler.

addEventListener("fetch", (event) => event.respondWith(handle(event.request)));

async function handle(request) {
  const url = new URL(request.url);
  if (url.pathname === "/echo") {
    const body = await request.text();
    return new Response(body.toUpperCase(), { headers: { "content-type": "text/plain" } });
  }
  console.log(`js handled ${request.method} ${url.pathname}`);
  const answer = {
    language: "javascript",
    method: request.method,
    path: url.pathname,
    query: url.search,
    prefix: request.headers.get("x-forwarded-prefix"),
  };
  return new Response(JSON.stringify(answer), { headers: { "content-type": "application/json" } });
}
