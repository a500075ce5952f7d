// units.js: format numbers the way Grafana's unit ids say (the ids the
// dashboard compiler emits, internal/dashboards/units.go). Hand-written
// rather than Grafana's own formatter so the page needs no build step; only
// the units a Pulse dashboard can carry are here, and anything else is
// shown as a plain number rather than guessed.

// parseValue turns the API's number string ("1.5", "NaN", "+Inf") into a
// number; anything unparsable is NaN, so a bad point never throws.
export function parseValue(raw) {
  if (raw === "+Inf" || raw === "Inf") return Infinity;
  if (raw === "-Inf") return -Infinity;
  const v = Number(raw);
  return typeof raw === "string" && raw.trim() !== "" ? v : NaN;
}

// num prints v with a number of decimals that suits its size: enough to
// see a change in a small value, none for large ones.
function num(v, decimals) {
  if (decimals === undefined) {
    const a = Math.abs(v);
    // Below 1, three significant digits (0.00123), however small.
    if (a > 0 && a < 1) return String(Number(v.toPrecision(3)));
    decimals = a === 0 || a >= 100 ? 0 : a >= 10 ? 1 : 2;
  }
  let s = v.toFixed(decimals);
  if (s.includes(".")) s = s.replace(/0+$/, "").replace(/\.$/, "");
  return s === "-0" ? "0" : s;
}

// scaled divides v by the largest step it reaches and appends that step's
// suffix: the "short", SI and binary families.
function scaled(v, base, suffixes, sep) {
  let i = 0;
  let a = Math.abs(v);
  while (a >= base && i < suffixes.length - 1) {
    a /= base;
    v /= base;
    i++;
  }
  const s = suffixes[i];
  return num(v) + (s ? sep + s : "");
}

const short = (v) => scaled(v, 1000, ["", "K", "Mil", "Bil", "Tri", "Quadr"], " ");
const si = (v, unit) => scaled(v, 1000, ["", "k", "M", "G", "T", "P"], "").replace(/([0-9])([a-zA-Z]?)$/, "$1 $2") + unit;
const bin = (v, unit) => scaled(v, 1024, ["", "Ki", "Mi", "Gi", "Ti", "Pi"], "").replace(/([0-9])([a-zA-Z]*)$/, "$1 $2") + unit;

// Time units, each with its size in seconds: a duration is shown in the
// largest one it reaches, from the panel's own unit upwards.
const times = [
  ["ns", 1e-9], ["µs", 1e-6], ["ms", 1e-3], ["s", 1], ["min", 60], ["hour", 3600], ["day", 86400], ["week", 604800], ["year", 31536000],
];
const timeIds = { ns: 0, "µs": 1, ms: 2, s: 3, m: 4, h: 5, d: 6 };

// unitSeconds is the size of a duration unit in seconds (ms: 0.001), or
// undefined for a unit that is not a duration.
export function unitSeconds(unit) {
  if (unit in timeIds) return times[timeIds[unit]][1];
  if (unit === "dtdurations") return 1;
  if (unit === "dtdurationms") return 1e-3;
  return undefined;
}

function duration(v, from) {
  const secs = v * times[from][1];
  let i = from;
  while (i + 1 < times.length && Math.abs(secs) >= times[i + 1][1]) i++;
  // Below the panel's own unit (0.5 s) step down too, so 0.004 s reads 4 ms.
  while (i > 0 && Math.abs(secs) !== 0 && Math.abs(secs) < times[i][1]) i--;
  return num(secs / times[i][1]) + " " + times[i][0];
}

// dtduration prints "2h 5m 3s" style, the largest two parts.
function dtduration(secs) {
  if (!Number.isFinite(secs)) return String(secs);
  const sign = secs < 0 ? "-" : "";
  let rest = Math.round(Math.abs(secs));
  const parts = [];
  for (const [name, size] of [["y", 31536000], ["d", 86400], ["h", 3600], ["m", 60], ["s", 1]]) {
    if (rest >= size) {
      parts.push(Math.floor(rest / size) + name);
      rest %= size;
    }
  }
  return parts.length ? sign + parts.slice(0, 2).join(" ") : "0s";
}

// Throughput units: Grafana scales them like "short" and appends a suffix.
const rates = {
  reqps: " req/s", rps: " rd/s", wps: " wr/s", iops: " io/s", cps: " c/s", ops: " ops/s", opm: " ops/min", rpm: " rd/min",
};
const currencies = { currencyUSD: "$", currencyEUR: "€", currencyGBP: "£" };

// format returns the text of v (a number, or the API's string) in unit.
export function format(value, unit) {
  const v = typeof value === "number" ? value : parseValue(value);
  if (Number.isNaN(v)) return "NaN";
  if (!Number.isFinite(v)) return v > 0 ? "+Inf" : "-Inf";
  unit = unit || "none";
  if (unit in timeIds) return duration(v, timeIds[unit]);
  if (unit in rates) return short(v) + rates[unit];
  if (unit in currencies) return (v < 0 ? "-" : "") + currencies[unit] + short(Math.abs(v));
  switch (unit) {
    case "none":
      return num(v);
    case "short":
      return short(v);
    case "percent":
      return num(v) + "%";
    case "percentunit":
      return num(v * 100) + "%";
    case "dtdurations":
      return dtduration(v);
    case "dtdurationms":
      return dtduration(v / 1000);
    case "bytes":
      return bin(v, "B");
    case "decbytes":
      return si(v, "B");
    case "bits":
      return bin(v, "b");
    case "Bps":
      return si(v, "B/s");
    case "binBps":
      return bin(v, "B/s");
    case "bool":
      return v === 0 ? "false" : "true";
    case "bool_yes_no":
      return v === 0 ? "no" : "yes";
  }
  const custom = /^(suffix|prefix|si|count):(.*)$/s.exec(unit);
  if (custom) {
    const text = custom[2];
    switch (custom[1]) {
      case "prefix":
        return text + num(v);
      case "si":
        return si(v, text.trim());
      case "count":
        return short(v) + " " + text.trim();
      default:
        // Grafana appends the text as written; the compiler writes both
        // "suffix: views/s" and "suffix:events/s", so add the space the
        // second one lacks rather than print "12events/s".
        return num(v) + (/^\s/.test(text) ? text : " " + text);
    }
  }
  return num(v); // an unknown unit: the plain number, never a wrong suffix
}
