// How numbers and times read on the page.

/** A size in bytes: "512 B", "1.5 KiB", "2.0 MiB". */
export function bytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** A count with its noun: "1 room", "3 rooms". */
export function counted(n, one, many = `${one}s`) {
  return `${n} ${n === 1 ? one : many}`;
}

/** An RFC 3339 time from the API, in the reader's locale. */
export function dateTime(rfc3339) {
  return new Date(rfc3339).toLocaleString();
}
