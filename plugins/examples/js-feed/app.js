// A forecourt listing platform written in JavaScript: the neutral JSON feed.
//
// `transform` renders a vehicle as forecourt's neutral JSON document, with
// the same rules, messages and bytes as the Rust `webhook` plugin's transform
// (plugins/webhook/src/neutral.rs); `renderFeed` writes the listings as JSON
// Lines. Built into a component with componentize-js (see README.md); the
// test suite checks its output against the Rust reference byte for byte.

const CONFIG_SCHEMA =
  '{"$schema":"https://json-schema.org/draft/2020-12/schema",' +
  '"title":"Neutral JSON feed","type":"object","additionalProperties":false,"properties":{}}';
const CONTENT_TYPE = "application/x-ndjson";
const FILE_NAME = "listings.jsonl";

// Rust's `char::is_whitespace` (Unicode White_Space). JavaScript's trim()
// also strips U+FEFF, which Rust keeps; the outputs must match.
const WHITE_SPACE = new Set(
  "\t\n\u000b\u000c\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" +
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000",
);

function trim(s) {
  const chars = Array.from(s);
  let start = 0;
  let end = chars.length;
  while (start < end && WHITE_SPACE.has(chars[start])) start++;
  while (end > start && WHITE_SPACE.has(chars[end - 1])) end--;
  return chars.slice(start, end).join("");
}

const asciiLower = (s) => s.replace(/[A-Z]/g, (c) => c.toLowerCase());
const asciiUpper = (s) => s.replace(/[a-z]/g, (c) => c.toUpperCase());

const error = (field, message) => ({ field, severity: "error", message });
const warning = (field, message) => ({ field, severity: "warning", message });
const pluginError = (message, errorClass = "permanent", field = undefined) => ({
  class: errorClass,
  message,
  retryAfterMs: undefined,
  field,
});

// JSON text in serde_json's compact form. Strings go through JSON.stringify,
// which escapes exactly what serde_json escapes; s64 values arrive as BigInt,
// which JSON.stringify refuses, so numbers are written here.
function toJson(value) {
  if (value === null || value === undefined) return "null";
  switch (typeof value) {
    case "string":
      return JSON.stringify(value);
    case "number":
    case "bigint":
      return value.toString();
    case "boolean":
      return value ? "true" : "false";
  }
  if (Array.isArray(value)) return "[" + value.map(toJson).join(",") + "]";
  return (
    "{" +
    Object.entries(value)
      .map(([k, v]) => JSON.stringify(k) + ":" + toJson(v))
      .join(",") +
    "}"
  );
}

// A variant value: a case name, or {"other": text} for `other(...)`.
const term = (v) => (v === undefined || v === null ? null : v.tag === "other" ? { other: v.val } : v.tag);
const opt = (v) => (v === undefined ? null : v);
const pad = (n, width) => String(n).padStart(width, "0");
const isoDate = (d) => `${pad(d.year, 4)}-${pad(d.month, 2)}-${pad(d.day, 2)}`;
const optionalDate = (d) => (d === undefined || d === null ? null : isoDate(d));

function isCalendarDate(d) {
  const leap = (d.year % 4 === 0 && d.year % 100 !== 0) || d.year % 400 === 0;
  let days;
  if ([1, 3, 5, 7, 8, 10, 12].includes(d.month)) days = 31;
  else if ([4, 6, 9, 11].includes(d.month)) days = 30;
  else if (d.month === 2) days = leap ? 29 : 28;
  else return false;
  return d.year >= 1 && d.year <= 9999 && d.day >= 1 && d.day <= days;
}

// The neutral document, keys in contract order; hub-only is never read.
function neutral(v) {
  return {
    dealer_id: v.dealerId,
    location_id: v.locationId,
    stock_id: v.stockId,
    registration: opt(v.registration),
    vin: opt(v.vin),
    make: opt(v.make),
    model: opt(v.model),
    variant: opt(v.variant),
    trim: opt(v.trim),
    vehicle_type: term(v.vehicleType),
    body_style: term(v.bodyStyle),
    fuel_type: term(v.fuelType),
    transmission: term(v.transmission),
    drivetrain: term(v.drivetrain),
    doors: opt(v.doors),
    seats: opt(v.seats),
    engine_size_cc: opt(v.engineSizeCc),
    power_bhp: opt(v.powerBhp),
    co2_g_per_km: opt(v.co2GPerKm),
    emissions_standard: opt(v.emissionsStandard),
    colour: opt(v.colour),
    first_registration: optionalDate(v.firstRegistration),
    model_year: opt(v.modelYear),
    mileage: v.mileage ? { value: v.mileage.value, unit: v.mileage.unit } : null,
    price: v.price ? { amount_minor: v.price.amountMinor, currency: asciiUpper(trim(v.price.currency)) } : null,
    vat: v.vat,
    condition: v.condition,
    service_history: term(v.serviceHistory),
    previous_owners: opt(v.previousOwners),
    mot_expiry: optionalDate(v.motExpiry),
    features: v.features,
    description: opt(v.description),
    images: v.images.map((i) => ({ url: i.url, width: opt(i.width), height: opt(i.height) })),
    status: v.status,
    date_in_stock: optionalDate(v.dateInStock),
    attributes: v.attributes.map((a) => ({ key: a.key, value: a.value })),
  };
}

const blank = (s) => s === undefined || s === null || trim(s) === "";

function isWebUrl(url) {
  const lower = asciiLower(url);
  return (lower.startsWith("https://") || lower.startsWith("http://")) && !Array.from(url).some((c) => WHITE_SPACE.has(c));
}

// Errors and warnings, in the Rust plugin's order and words.
function check(v) {
  const errors = [];
  const warnings = [];
  if (v.status === "sold" || v.status === "withdrawn") {
    errors.push(
      error("status", `a ${v.status} vehicle is not listed: the partner is sent a \`remove\` operation instead`),
    );
  }
  if (trim(v.stockId) === "") {
    errors.push(error("stock-id", "a stock id is required: it identifies the listing to the partner"));
  }
  for (const [value, field] of [
    [v.make, "make"],
    [v.model, "model"],
  ]) {
    if (blank(value)) errors.push(error(field, `every webhook listing carries a ${field}, and this vehicle has none`));
  }
  for (const [date, field] of [
    [v.firstRegistration, "first-registration"],
    [v.motExpiry, "mot-expiry"],
    [v.dateInStock, "date-in-stock"],
  ]) {
    if (date !== undefined && date !== null && !isCalendarDate(date)) {
      errors.push(
        error(field, `${isoDate(date)} is not a calendar date, so it cannot be sent as an ISO 8601 date`),
      );
    }
  }
  if (v.price === undefined || v.price === null) {
    warnings.push(warning("price", "no price: the listing's price is null"));
  } else {
    const c = trim(v.price.currency);
    if (new TextEncoder().encode(c).length !== 3 || !/^[A-Za-z]{3}$/.test(c)) {
      errors.push(error("price", `\`${v.price.currency}\` is not an ISO 4217 currency code`));
    }
    if (v.price.amountMinor <= 0n) {
      errors.push(error("price", "the price must be greater than zero (leave it out for price on application)"));
    }
  }
  const badImages = v.images.filter((i) => !isWebUrl(trim(i.url))).length;
  if (badImages > 0) {
    warnings.push(
      warning("images", `${badImages} image URL(s) are not absolute http(s) URLs, which the partner cannot fetch`),
    );
  }
  if (v.images.length === 0) warnings.push(warning("images", "no images"));
  return { errors, warnings };
}

function configProblem(config) {
  let value;
  try {
    value = JSON.parse(config);
  } catch (e) {
    return `invalid configuration: ${e.message}`;
  }
  if (value === null || typeof value !== "object" || Array.isArray(value) || Object.keys(value).length > 0) {
    return "invalid configuration: expected an empty JSON object {}";
  }
  return null;
}

export const platform = {
  describe() {
    return {
      name: "Neutral JSON feed (JavaScript)",
      version: "0.1.0",
      kind: "feed-file",
      configSchema: CONFIG_SCHEMA,
      requiredFields: ["stock-id", "make", "model"],
      recommendedFields: ["price", "images", "mileage", "description", "registration", "first-registration", "variant"],
      maxImages: undefined,
      idealImages: undefined,
      maxDescriptionLength: undefined,
      batchSize: 1,
      rateLimitPerMinute: undefined,
      operations: [],
      feed: { contentType: CONTENT_TYPE, fileName: FILE_NAME },
    };
  },

  transform(config, vehicle) {
    const problem = configProblem(config);
    if (problem !== null) throw [error("config", problem)];
    const { errors, warnings } = check(vehicle);
    if (errors.length > 0) throw errors;
    return { listing: { stockId: vehicle.stockId, body: toJson(neutral(vehicle)) }, warnings };
  },

  renderFeed(config, listings) {
    const problem = configProblem(config);
    if (problem !== null) throw pluginError(problem, "validation", "config");
    const body = listings.map((l) => l.body + "\n").join("");
    return { contentType: CONTENT_TYPE, fileName: FILE_NAME, body: new TextEncoder().encode(body) };
  },

  publish(config, operations) {
    throw pluginError("a feed-file platform does not publish: the host delivers the rendered feed");
  },

  listPublished(config, cursor) {
    throw pluginError("list-published is not supported by a feed-file platform");
  },

  fetchEnquiries(config, cursor) {
    throw pluginError("fetch-enquiries is not supported by this platform");
  },
};
