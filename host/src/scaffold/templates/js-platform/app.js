// {{name}}: a forecourt feed-file platform in JavaScript.
//
// `transform` renders each vehicle as one JSON object; `renderFeed` writes
// them as JSON Lines, which the host delivers. Made by `forecourt plugin new`;
// see README.md.

const CONTENT_TYPE = "application/x-ndjson";
const FILE_NAME = "{{name}}.jsonl";

const issue = (field, severity, message) => ({ field, severity, message });
const text = (v) => (v === undefined || v === null || v.trim() === "" ? null : v.trim());

function configProblem(config) {
  try {
    const value = JSON.parse(config);
    return value !== null && typeof value === "object" && !Array.isArray(value)
      ? null
      : "the configuration must be a JSON object";
  } catch (e) {
    return `the configuration is not JSON: ${e.message}`;
  }
}

// JSON.stringify cannot write BigInt (WIT s64 values such as prices).
function toJson(value) {
  if (value === null || value === undefined) return "null";
  if (typeof value === "bigint" || typeof value === "number") return value.toString();
  if (typeof value === "string" || typeof value === "boolean") return JSON.stringify(value);
  if (Array.isArray(value)) return "[" + value.map(toJson).join(",") + "]";
  return "{" + Object.entries(value).map(([k, v]) => JSON.stringify(k) + ":" + toJson(v)).join(",") + "}";
}

const unsupported = (what) => ({ class: "permanent", message: what, retryAfterMs: undefined, field: undefined });

export const platform = {
  describe() {
    return {
      name: "{{name}}",
      version: "0.1.0",
      kind: "feed-file",
      configSchema: '{"type":"object","additionalProperties":false,"properties":{}}',
      requiredFields: ["make", "model", "price"],
      recommendedFields: ["images", "mileage"],
      maxImages: 20,
      idealImages: undefined,
      maxDescriptionLength: undefined,
      batchSize: 1,
      rateLimitPerMinute: undefined,
      operations: [],
      feed: { contentType: CONTENT_TYPE, fileName: FILE_NAME },
    };
  },

  // Deterministic and offline: the same vehicle always gives the same bytes.
  transform(config, v) {
    const problem = configProblem(config);
    if (problem) throw [issue("config", "error", problem)];
    const issues = [];
    if (text(v.make) === null) issues.push(issue("make", "error", "a make is required"));
    if (text(v.model) === null) issues.push(issue("model", "error", "a model is required"));
    if (!v.price || v.price.amountMinor <= 0n) issues.push(issue("price", "error", "a price above zero is required"));
    if (issues.length > 0) throw issues;
    const warnings = v.images.length === 0 ? [issue("images", "warning", "no images")] : [];
    const body = toJson({
      id: v.stockId,
      title: `${text(v.make)} ${text(v.model)}`,
      price_minor: v.price.amountMinor,
      currency: v.price.currency.trim().toUpperCase(),
      mileage: v.mileage ? v.mileage.value : null,
      images: v.images.slice(0, 20).map((i) => i.url),
    });
    return { listing: { stockId: v.stockId, body }, warnings };
  },

  renderFeed(config, listings) {
    const problem = configProblem(config);
    if (problem) throw { class: "validation", message: problem, retryAfterMs: undefined, field: "config" };
    const body = listings.map((l) => l.body + "\n").join("");
    return { contentType: CONTENT_TYPE, fileName: FILE_NAME, body: new TextEncoder().encode(body) };
  },

  publish() {
    throw unsupported("a feed platform does not publish");
  },
  listPublished() {
    throw unsupported("not supported by a feed platform");
  },
  fetchEnquiries() {
    throw unsupported("not supported");
  },
};
