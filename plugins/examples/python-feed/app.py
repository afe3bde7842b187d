"""A forecourt listing platform written in Python: the neutral JSON feed.

`transform` renders a vehicle as forecourt's neutral JSON document, with the
same rules, messages and bytes as the Rust `webhook` plugin's transform
(plugins/webhook/src/neutral.rs); `render-feed` writes the listings as JSON
Lines. Built into a component with componentize-py (see README.md); the test
suite checks its output against the Rust reference byte for byte.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.exports import platform as p
from wit_world.imports import forecourt_plugin_types as t

CONFIG_SCHEMA = (
    '{"$schema":"https://json-schema.org/draft/2020-12/schema",'
    '"title":"Neutral JSON feed","type":"object","additionalProperties":false,"properties":{}}'
)
CONTENT_TYPE = "application/x-ndjson"
FILE_NAME = "listings.jsonl"

# Rust's `char::is_whitespace` (Unicode White_Space): Python's str.strip()
# also strips U+001C..U+001F, which Rust keeps; the outputs must match.
WHITE_SPACE = (
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
ASCII_LETTERS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


def trim(s):
    return s.strip(WHITE_SPACE)


def ascii_lower(s):
    return "".join(chr(ord(c) + 32) if "A" <= c <= "Z" else c for c in s)


def ascii_upper(s):
    return "".join(chr(ord(c) - 32) if "a" <= c <= "z" else c for c in s)


def issue(field, severity, message):
    return t.ValidationIssue(field, severity, message)


def error(field, message):
    return issue(field, t.Severity.ERROR, message)


def warning(field, message):
    return issue(field, t.Severity.WARNING, message)


def plugin_error(message, error_class=t.ErrorClass.PERMANENT, field=None):
    return Err(t.PluginError(error_class, message, None, field))


STATUS = {
    t.StockStatus.DUE_IN: "due-in",
    t.StockStatus.IN_STOCK: "in-stock",
    t.StockStatus.RESERVED: "reserved",
    t.StockStatus.SOLD: "sold",
    t.StockStatus.WITHDRAWN: "withdrawn",
}

# Variant cases without a payload, by class; `*_Other(value)` becomes {"other": value}.
TERMS = {
    t.VehicleType_Car: "car",
    t.VehicleType_Van: "van",
    t.VehicleType_Motorcycle: "motorcycle",
    t.VehicleType_Motorhome: "motorhome",
    t.VehicleType_Truck: "truck",
    t.BodyStyle_Hatchback: "hatchback",
    t.BodyStyle_Saloon: "saloon",
    t.BodyStyle_Estate: "estate",
    t.BodyStyle_Suv: "suv",
    t.BodyStyle_Coupe: "coupe",
    t.BodyStyle_Convertible: "convertible",
    t.BodyStyle_Mpv: "mpv",
    t.BodyStyle_Pickup: "pickup",
    t.BodyStyle_PanelVan: "panel-van",
    t.BodyStyle_Minibus: "minibus",
    t.FuelType_Petrol: "petrol",
    t.FuelType_Diesel: "diesel",
    t.FuelType_Electric: "electric",
    t.FuelType_Hybrid: "hybrid",
    t.FuelType_PlugInHybrid: "plug-in-hybrid",
    t.FuelType_MildHybrid: "mild-hybrid",
    t.FuelType_Lpg: "lpg",
    t.FuelType_Hydrogen: "hydrogen",
    t.Transmission_Manual: "manual",
    t.Transmission_Automatic: "automatic",
    t.Transmission_SemiAutomatic: "semi-automatic",
    t.Transmission_Cvt: "cvt",
    t.Drivetrain_FrontWheelDrive: "front-wheel-drive",
    t.Drivetrain_RearWheelDrive: "rear-wheel-drive",
    t.Drivetrain_AllWheelDrive: "all-wheel-drive",
    t.Drivetrain_FourWheelDrive: "four-wheel-drive",
    t.ServiceHistory_FullDealer: "full-dealer",
    t.ServiceHistory_Full: "full",
    t.ServiceHistory_Part: "part",
    t.ServiceHistory_None_: "none",
}
OTHER = (
    t.VehicleType_Other,
    t.BodyStyle_Other,
    t.FuelType_Other,
    t.Transmission_Other,
    t.Drivetrain_Other,
    t.ServiceHistory_Other,
)


def term(value):
    if value is None:
        return None
    if isinstance(value, OTHER):
        return {"other": value.value}
    return TERMS[type(value)]


def iso_date(d):
    return f"{d.year:04d}-{d.month:02d}-{d.day:02d}"


def is_calendar_date(d):
    leap = (d.year % 4 == 0 and d.year % 100 != 0) or d.year % 400 == 0
    if d.month in (1, 3, 5, 7, 8, 10, 12):
        days = 31
    elif d.month in (4, 6, 9, 11):
        days = 30
    elif d.month == 2:
        days = 29 if leap else 28
    else:
        return False
    return 1 <= d.year <= 9999 and 1 <= d.day <= days


def optional_date(d):
    return None if d is None else iso_date(d)


def neutral(v):
    """The neutral document, keys in contract order; hub-only is never read."""
    return {
        "dealer_id": v.dealer_id,
        "location_id": v.location_id,
        "stock_id": v.stock_id,
        "registration": v.registration,
        "vin": v.vin,
        "make": v.make,
        "model": v.model,
        "variant": v.variant,
        "trim": v.trim,
        "vehicle_type": term(v.vehicle_type),
        "body_style": term(v.body_style),
        "fuel_type": term(v.fuel_type),
        "transmission": term(v.transmission),
        "drivetrain": term(v.drivetrain),
        "doors": v.doors,
        "seats": v.seats,
        "engine_size_cc": v.engine_size_cc,
        "power_bhp": v.power_bhp,
        "co2_g_per_km": v.co2_g_per_km,
        "emissions_standard": v.emissions_standard,
        "colour": v.colour,
        "first_registration": optional_date(v.first_registration),
        "model_year": v.model_year,
        "mileage": None
        if v.mileage is None
        else {
            "value": v.mileage.value,
            "unit": "miles" if v.mileage.unit == t.MileageUnit.MILES else "kilometres",
        },
        "price": None
        if v.price is None
        else {
            "amount_minor": v.price.amount_minor,
            "currency": ascii_upper(trim(v.price.currency)),
        },
        "vat": {
            t.VatStatus.INC_VAT: "inc-vat",
            t.VatStatus.PLUS_VAT: "plus-vat",
            t.VatStatus.NO_VAT: "no-vat",
        }[v.vat],
        "condition": "new" if v.condition == t.Condition.NEW else "used",
        "service_history": term(v.service_history),
        "previous_owners": v.previous_owners,
        "mot_expiry": optional_date(v.mot_expiry),
        "features": list(v.features),
        "description": v.description,
        "images": [{"url": i.url, "width": i.width, "height": i.height} for i in v.images],
        "status": STATUS[v.status],
        "date_in_stock": optional_date(v.date_in_stock),
        "attributes": [{"key": a.key, "value": a.value} for a in v.attributes],
    }


def blank(s):
    return s is None or trim(s) == ""


def is_web_url(url):
    lower = ascii_lower(url)
    return (lower.startswith("https://") or lower.startswith("http://")) and not any(
        c in WHITE_SPACE for c in url
    )


def check(v):
    """Errors and warnings, in the Rust plugin's order and words."""
    errors, warnings = [], []
    if v.status in (t.StockStatus.SOLD, t.StockStatus.WITHDRAWN):
        errors.append(
            error(
                "status",
                f"a {STATUS[v.status]} vehicle is not listed: the partner is sent a `remove` operation instead",
            )
        )
    if trim(v.stock_id) == "":
        errors.append(error("stock-id", "a stock id is required: it identifies the listing to the partner"))
    for value, field in ((v.make, "make"), (v.model, "model")):
        if blank(value):
            errors.append(error(field, f"every webhook listing carries a {field}, and this vehicle has none"))
    for date, field in (
        (v.first_registration, "first-registration"),
        (v.mot_expiry, "mot-expiry"),
        (v.date_in_stock, "date-in-stock"),
    ):
        if date is not None and not is_calendar_date(date):
            errors.append(
                error(field, f"{iso_date(date)} is not a calendar date, so it cannot be sent as an ISO 8601 date")
            )
    if v.price is None:
        warnings.append(warning("price", "no price: the listing's price is null"))
    else:
        c = trim(v.price.currency)
        if len(c.encode("utf-8")) != 3 or not all(ch in ASCII_LETTERS for ch in c):
            errors.append(error("price", f"`{v.price.currency}` is not an ISO 4217 currency code"))
        if v.price.amount_minor <= 0:
            errors.append(
                error("price", "the price must be greater than zero (leave it out for price on application)")
            )
    bad_images = sum(1 for i in v.images if not is_web_url(trim(i.url)))
    if bad_images > 0:
        warnings.append(
            warning(
                "images",
                f"{bad_images} image URL(s) are not absolute http(s) URLs, which the partner cannot fetch",
            )
        )
    if not v.images:
        warnings.append(warning("images", "no images"))
    return errors, warnings


def config_problem(config):
    try:
        value = json.loads(config)
    except ValueError as e:
        return f"invalid configuration: {e}"
    if not isinstance(value, dict) or value:
        return "invalid configuration: expected an empty JSON object {}"
    return None


class Platform(wit_world.exports.Platform):
    def describe(self):
        return p.PlatformInfo(
            name="Neutral JSON feed (Python)",
            version="0.1.0",
            kind=p.PlatformKind.FEED_FILE,
            config_schema=CONFIG_SCHEMA,
            required_fields=["stock-id", "make", "model"],
            recommended_fields=[
                "price",
                "images",
                "mileage",
                "description",
                "registration",
                "first-registration",
                "variant",
            ],
            max_images=None,
            ideal_images=None,
            max_description_length=None,
            batch_size=1,
            rate_limit_per_minute=None,
            operations=[],
            feed=p.FeedFormat(CONTENT_TYPE, FILE_NAME),
        )

    def transform(self, config, vehicle):
        problem = config_problem(config)
        if problem is not None:
            raise Err([error("config", problem)])
        errors, warnings = check(vehicle)
        if errors:
            raise Err(errors)
        body = json.dumps(neutral(vehicle), ensure_ascii=False, separators=(",", ":"))
        return p.Transformed(p.Listing(vehicle.stock_id, body), warnings)

    def render_feed(self, config, listings):
        problem = config_problem(config)
        if problem is not None:
            raise plugin_error(problem, t.ErrorClass.VALIDATION, "config")
        body = "".join(listing.body + "\n" for listing in listings)
        return p.Feed(CONTENT_TYPE, FILE_NAME, body.encode("utf-8"))

    def publish(self, config, operations):
        raise plugin_error("a feed-file platform does not publish: the host delivers the rendered feed")

    def list_published(self, config, cursor):
        raise plugin_error("list-published is not supported by a feed-file platform")

    def fetch_enquiries(self, config, cursor):
        raise plugin_error("fetch-enquiries is not supported by this platform")
