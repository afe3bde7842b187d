"""{{name}}: a forecourt feed-file platform in Python.

`transform` renders each vehicle as one JSON object; `render_feed` writes
them as JSON Lines, which the host delivers. Made by `forecourt plugin new`;
see README.md.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.exports import platform as p
from wit_world.imports import forecourt_plugin_types as t

CONTENT_TYPE = "application/x-ndjson"
FILE_NAME = "{{name}}.jsonl"


def config_problem(config):
    try:
        value = json.loads(config)
    except ValueError as e:
        return f"the configuration is not JSON: {e}"
    return None if isinstance(value, dict) else "the configuration must be a JSON object"


def text(value):
    return value.strip() if value is not None and value.strip() else None


class Platform(wit_world.exports.Platform):
    def describe(self):
        return p.PlatformInfo(
            name="{{name}}",
            version="0.1.0",
            kind=p.PlatformKind.FEED_FILE,
            config_schema='{"type":"object","additionalProperties":false,"properties":{}}',
            required_fields=["make", "model", "price"],
            recommended_fields=["images", "mileage"],
            max_images=20,
            ideal_images=None,
            max_description_length=None,
            batch_size=1,
            rate_limit_per_minute=None,
            operations=[],
            feed=p.FeedFormat(CONTENT_TYPE, FILE_NAME),
        )

    def transform(self, config, v):
        """Deterministic and offline: the same vehicle always gives the same bytes."""
        problem = config_problem(config)
        if problem:
            raise Err([t.ValidationIssue("config", t.Severity.ERROR, problem)])
        issues = []
        if text(v.make) is None:
            issues.append(t.ValidationIssue("make", t.Severity.ERROR, "a make is required"))
        if text(v.model) is None:
            issues.append(t.ValidationIssue("model", t.Severity.ERROR, "a model is required"))
        if v.price is None or v.price.amount_minor <= 0:
            issues.append(t.ValidationIssue("price", t.Severity.ERROR, "a price above zero is required"))
        if issues:
            raise Err(issues)
        warnings = []
        if not v.images:
            warnings.append(t.ValidationIssue("images", t.Severity.WARNING, "no images"))
        body = json.dumps(
            {
                "id": v.stock_id,
                "title": f"{text(v.make)} {text(v.model)}",
                "price_minor": v.price.amount_minor,
                "currency": v.price.currency.strip().upper(),
                "mileage": None if v.mileage is None else v.mileage.value,
                "images": [i.url for i in v.images[:20]],
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        return p.Transformed(p.Listing(v.stock_id, body), warnings)

    def render_feed(self, config, listings):
        problem = config_problem(config)
        if problem:
            raise Err(t.PluginError(t.ErrorClass.VALIDATION, problem, None, "config"))
        body = "".join(listing.body + "\n" for listing in listings)
        return p.Feed(CONTENT_TYPE, FILE_NAME, body.encode("utf-8"))

    def publish(self, config, operations):
        raise Err(t.PluginError(t.ErrorClass.PERMANENT, "a feed platform does not publish", None, None))

    def list_published(self, config, cursor):
        raise Err(t.PluginError(t.ErrorClass.PERMANENT, "not supported by a feed platform", None, None))

    def fetch_enquiries(self, config, cursor):
        raise Err(t.PluginError(t.ErrorClass.PERMANENT, "not supported", None, None))
