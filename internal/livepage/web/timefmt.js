// timefmt.js: times in the dashboard's timezone. The compiled JSON says
// "utc", "browser" (or nothing) or an IANA name; Intl.DateTimeFormat does
// the zone arithmetic, so the page carries no timezone database.

const partsOf = (zone) =>
  new Intl.DateTimeFormat("en-US", {
    timeZone: zone,
    hourCycle: "h23",
    year: "numeric",
    month: "2-digit",
    day: "2-digit",
    hour: "2-digit",
    minute: "2-digit",
    second: "2-digit",
  });

export class TimeFormat {
  constructor(timezone) {
    const tz = String(timezone || "browser");
    this.zone = tz.toLowerCase() === "utc" ? "UTC" : tz.toLowerCase() === "browser" ? undefined : tz;
    try {
      this.parts = partsOf(this.zone);
    } catch {
      // An unknown zone name: the browser's own zone, and the label says so.
      this.invalid = tz;
      this.zone = undefined;
      this.parts = partsOf(undefined);
    }
    const resolved = this.parts.resolvedOptions().timeZone;
    this.label =
      this.zone === undefined ? `Browser time (${resolved})${this.invalid ? `; unknown zone "${this.invalid}"` : ""}` : this.zone;
  }

  // fields returns the wall-clock parts of ms in the zone.
  fields(ms) {
    const f = {};
    for (const p of this.parts.formatToParts(new Date(ms))) f[p.type] = p.value;
    return f;
  }

  // offset is the zone's distance from UTC at ms, in ms (so ticks fall on
  // whole local hours and days, not UTC ones).
  offset(ms) {
    const f = this.fields(ms);
    const wall = Date.UTC(+f.year, +f.month - 1, +f.day, +f.hour % 24, +f.minute, +f.second);
    return wall - Math.floor(ms / 1000) * 1000;
  }

  // tick labels an axis tick: "15:04" within a day, "01-02 15:04" over
  // several, "01-02" at day steps; seconds when steps are under a minute.
  tick(ms, step, span) {
    const f = this.fields(ms);
    const hm = step < 60000 ? `${f.hour}:${f.minute}:${f.second}` : `${f.hour}:${f.minute}`;
    if (step >= 86400000) return `${f.month}-${f.day}`;
    return span > 86400000 ? `${f.month}-${f.day} ${hm}` : hm;
  }

  // full is a whole timestamp, for tooltips and the range text.
  full(ms) {
    const f = this.fields(ms);
    return `${f.year}-${f.month}-${f.day} ${f.hour}:${f.minute}:${f.second}`;
  }
}
