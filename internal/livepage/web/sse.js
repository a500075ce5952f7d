// sse.js: a text/event-stream parser over a fetch() body. The page reads
// its stream with fetch() rather than EventSource because EventSource
// cannot send the Authorization header an auth extension wants; this is
// the part of EventSource it then needs: events, data lines, retry.

// A stream that has sent nothing (not even the server's 15 s ping) for
// this long is treated as dead: a half-open TCP connection never errors.
const SILENCE_MS = 45000;

// readEvents parses a text/event-stream body (the WHATWG rules: lines,
// "field: value", a blank line ends an event, ":" lines are comments) and
// calls onEvent({event, data, retry}) per event. It returns when the body
// ends, signal aborts, or nothing (not even a comment) came for silenceMs.
export async function readEvents(body, signal, onEvent, silenceMs = SILENCE_MS) {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let silence;
  const watch = () => {
    clearTimeout(silence);
    silence = setTimeout(() => reader.cancel().catch(() => {}), silenceMs);
  };
  const stop = () => reader.cancel().catch(() => {});
  signal.addEventListener("abort", stop);
  let buf = "";
  let ev = { event: "message", data: "", retry: 0 };
  let hasData = false;
  try {
    watch();
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      watch();
      buf += value;
      let nl;
      while ((nl = buf.search(/\r\n|\r|\n/)) >= 0) {
        // A lone "\r" at the end may be the first half of "\r\n": wait.
        if (buf[nl] === "\r" && nl === buf.length - 1) break;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + (buf.startsWith("\r\n", nl) ? 2 : 1));
        if (line === "") {
          if (hasData || ev.retry) onEvent({ ...ev, data: ev.data.replace(/\n$/, "") });
          ev = { event: "message", data: "", retry: 0 };
          hasData = false;
          continue;
        }
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon < 0 ? line : line.slice(0, colon);
        let val = colon < 0 ? "" : line.slice(colon + 1);
        if (val.startsWith(" ")) val = val.slice(1);
        if (field === "event") ev.event = val;
        else if (field === "data") {
          ev.data += val + "\n";
          hasData = true;
        } else if (field === "retry" && /^\d+$/.test(val)) ev.retry = Number(val);
      }
    }
  } finally {
    clearTimeout(silence);
    signal.removeEventListener("abort", stop);
  }
}
