//! The contract fields a column (or a JSON key) of a DMS's stock data can
//! feed, and how header names and keys are recognised.
//!
//! A header is recognised by its *key*: the header lower-cased with every
//! character that is not a letter or a digit removed, so `Stock No`,
//! `stock_no`, `STOCK-NO` and `Stock.No.` are all `stockno`. Each field has a
//! list of synonym keys; the first column whose key is in the list feeds the
//! field. JSON keys are recognised the same way (`stockNumber`,
//! `stock_number` → `stocknumber`).

/// A contract field (or hub-only field) that a column of the export can feed.
///
/// [`Field::name`] is the name used in `columns` of the configuration and in
/// the `field` of row issues: the WIT field name of `vehicle` (or of
/// `hub-only` for `internal-notes` and `cost-price`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Field {
    /// `stock-id` (required).
    StockId,
    /// `registration`.
    Registration,
    /// `vin`.
    Vin,
    /// `make`.
    Make,
    /// `model`.
    Model,
    /// `variant` (derivative).
    Variant,
    /// `trim`.
    Trim,
    /// `vehicle-type`.
    VehicleType,
    /// `body-style`.
    BodyStyle,
    /// `fuel-type`.
    FuelType,
    /// `transmission`.
    Transmission,
    /// `drivetrain`.
    Drivetrain,
    /// `doors`.
    Doors,
    /// `seats`.
    Seats,
    /// `engine-size-cc`.
    EngineSizeCc,
    /// `power-bhp`.
    PowerBhp,
    /// `co2-g-per-km`.
    Co2GPerKm,
    /// `emissions-standard`.
    EmissionsStandard,
    /// `colour`.
    Colour,
    /// `first-registration`.
    FirstRegistration,
    /// `model-year`.
    ModelYear,
    /// `mileage`.
    Mileage,
    /// `price`.
    Price,
    /// `vat`.
    Vat,
    /// `condition`.
    Condition,
    /// `service-history`.
    ServiceHistory,
    /// `previous-owners`.
    PreviousOwners,
    /// `mot-expiry`.
    MotExpiry,
    /// `features`.
    Features,
    /// `description`.
    Description,
    /// `images`.
    Images,
    /// `status`.
    Status,
    /// `date-in-stock`.
    DateInStock,
    /// `location-id` (overrides the configured `location_id` for the row).
    LocationId,
    /// `hub-only.internal-notes`: never leaves the hub.
    InternalNotes,
    /// `hub-only.cost-price`: never leaves the hub.
    CostPrice,
}

/// Number of [`Field`]s.
pub const FIELD_COUNT: usize = 36;

impl Field {
    /// Every field, in the order of forecourt's canonical export header.
    pub const ALL: [Field; FIELD_COUNT] = [
        Field::StockId,
        Field::Registration,
        Field::Vin,
        Field::Make,
        Field::Model,
        Field::Variant,
        Field::Trim,
        Field::VehicleType,
        Field::BodyStyle,
        Field::FuelType,
        Field::Transmission,
        Field::Drivetrain,
        Field::Doors,
        Field::Seats,
        Field::EngineSizeCc,
        Field::PowerBhp,
        Field::Co2GPerKm,
        Field::EmissionsStandard,
        Field::Colour,
        Field::FirstRegistration,
        Field::ModelYear,
        Field::Mileage,
        Field::Price,
        Field::Vat,
        Field::Condition,
        Field::ServiceHistory,
        Field::PreviousOwners,
        Field::MotExpiry,
        Field::Features,
        Field::Description,
        Field::Images,
        Field::Status,
        Field::DateInStock,
        Field::LocationId,
        Field::InternalNotes,
        Field::CostPrice,
    ];

    /// Index into arrays of [`FIELD_COUNT`] elements.
    pub fn index(self) -> usize {
        self as usize
    }

    /// The contract field name (config `columns` key, row-issue `field`).
    pub fn name(self) -> &'static str {
        match self {
            Field::StockId => "stock-id",
            Field::Registration => "registration",
            Field::Vin => "vin",
            Field::Make => "make",
            Field::Model => "model",
            Field::Variant => "variant",
            Field::Trim => "trim",
            Field::VehicleType => "vehicle-type",
            Field::BodyStyle => "body-style",
            Field::FuelType => "fuel-type",
            Field::Transmission => "transmission",
            Field::Drivetrain => "drivetrain",
            Field::Doors => "doors",
            Field::Seats => "seats",
            Field::EngineSizeCc => "engine-size-cc",
            Field::PowerBhp => "power-bhp",
            Field::Co2GPerKm => "co2-g-per-km",
            Field::EmissionsStandard => "emissions-standard",
            Field::Colour => "colour",
            Field::FirstRegistration => "first-registration",
            Field::ModelYear => "model-year",
            Field::Mileage => "mileage",
            Field::Price => "price",
            Field::Vat => "vat",
            Field::Condition => "condition",
            Field::ServiceHistory => "service-history",
            Field::PreviousOwners => "previous-owners",
            Field::MotExpiry => "mot-expiry",
            Field::Features => "features",
            Field::Description => "description",
            Field::Images => "images",
            Field::Status => "status",
            Field::DateInStock => "date-in-stock",
            Field::LocationId => "location-id",
            Field::InternalNotes => "internal-notes",
            Field::CostPrice => "cost-price",
        }
    }

    /// The field with this contract name.
    pub fn from_name(name: &str) -> Option<Field> {
        Field::ALL.into_iter().find(|f| f.name() == name)
    }

    /// The header name forecourt's own demo export uses for this field.
    pub fn canonical_header(self) -> &'static str {
        match self {
            Field::StockId => "StockNo",
            Field::Registration => "Registration",
            Field::Vin => "VIN",
            Field::Make => "Make",
            Field::Model => "Model",
            Field::Variant => "Derivative",
            Field::Trim => "Trim",
            Field::VehicleType => "VehicleType",
            Field::BodyStyle => "BodyType",
            Field::FuelType => "FuelType",
            Field::Transmission => "Transmission",
            Field::Drivetrain => "Drivetrain",
            Field::Doors => "Doors",
            Field::Seats => "Seats",
            Field::EngineSizeCc => "EngineSizeCC",
            Field::PowerBhp => "PowerBHP",
            Field::Co2GPerKm => "CO2",
            Field::EmissionsStandard => "EuroStatus",
            Field::Colour => "Colour",
            Field::FirstRegistration => "FirstRegistered",
            Field::ModelYear => "Year",
            Field::Mileage => "Mileage",
            Field::Price => "Price",
            Field::Vat => "VAT",
            Field::Condition => "Condition",
            Field::ServiceHistory => "ServiceHistory",
            Field::PreviousOwners => "PreviousOwners",
            Field::MotExpiry => "MOTExpiry",
            Field::Features => "Features",
            Field::Description => "Description",
            Field::Images => "Images",
            Field::Status => "Status",
            Field::DateInStock => "DateInStock",
            Field::LocationId => "Location",
            Field::InternalNotes => "InternalNotes",
            Field::CostPrice => "CostPrice",
        }
    }

    /// Header keys (see [`header_key`]) recognised for this field, the
    /// canonical header's key first.
    pub fn synonyms(self) -> &'static [&'static str] {
        match self {
            Field::StockId => &[
                "stockno",
                "stocknumber",
                "stockid",
                "stockref",
                "stock",
                "stockreference",
                "stockcode",
                "stocknum",
            ],
            Field::Registration => &[
                "registration",
                "reg",
                "vrm",
                "regno",
                "registrationnumber",
                "regnumber",
                "registrationmark",
                "numberplate",
            ],
            Field::Vin => &["vin", "vinnumber", "chassisnumber", "chassisno"],
            Field::Make => &["make", "manufacturer", "marque"],
            Field::Model => &["model"],
            Field::Variant => &["derivative", "variant", "version"],
            Field::Trim => &["trim", "trimlevel"],
            Field::VehicleType => &["vehicletype", "vehiclecategory"],
            Field::BodyStyle => &["bodytype", "body", "bodystyle"],
            Field::FuelType => &["fueltype", "fuel"],
            Field::Transmission => &["transmission", "gearbox", "geartype"],
            Field::Drivetrain => &["drivetrain", "drivetype", "drive", "drivenwheels"],
            Field::Doors => &["doors", "noofdoors", "numberofdoors"],
            Field::Seats => &["seats", "noofseats", "numberofseats"],
            Field::EngineSizeCc => &["enginesizecc", "enginesize", "enginecc", "cc"],
            Field::PowerBhp => &["powerbhp", "bhp", "power"],
            Field::Co2GPerKm => &["co2", "co2emissions", "co2gkm", "co2gperkm"],
            Field::EmissionsStandard => &[
                "eurostatus",
                "emissionsstandard",
                "eurostandard",
                "euroemissions",
            ],
            Field::Colour => &["colour", "color", "exteriorcolour", "exteriorcolor"],
            Field::FirstRegistration => &[
                "firstregistered",
                "regdate",
                "registrationdate",
                "datefirstregistered",
                "firstregistration",
                "firstregistrationdate",
                "firstregdate",
            ],
            Field::ModelYear => &["year", "modelyear"],
            Field::Mileage => &["mileage", "odometer", "miles"],
            Field::Price => &[
                "price",
                "retailprice",
                "sellingprice",
                "askingprice",
                "forecourtprice",
            ],
            Field::Vat => &["vat", "vatstatus"],
            Field::Condition => &["condition", "neworused", "newused"],
            Field::ServiceHistory => &["servicehistory"],
            Field::PreviousOwners => &[
                "previousowners",
                "owners",
                "previouskeepers",
                "formerkeepers",
                "noofowners",
            ],
            Field::MotExpiry => &["motexpiry", "motexpirydate", "mot", "motdue"],
            Field::Features => &["features", "options", "spec", "specification", "equipment"],
            Field::Description => &["description", "adverttext", "advertdescription"],
            Field::Images => &[
                "images",
                "photos",
                "imageurls",
                "picturerefs",
                "pictures",
                "photourls",
            ],
            Field::Status => &["status", "stockstatus"],
            Field::DateInStock => &["dateinstock", "instockdate", "stockdate", "dateadded"],
            Field::LocationId => &["location", "locationid", "branch", "site"],
            Field::InternalNotes => &[
                "internalnotes",
                "notes",
                "commentsinternal",
                "internalcomments",
                "privatenotes",
            ],
            Field::CostPrice => &["costprice", "cost", "purchaseprice", "standinvalue", "siv"],
        }
    }
}

/// The key a header is recognised by: lower case, letters and digits only.
pub fn header_key(header: &str) -> String {
    header
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The field a header feeds, if it is one of the recognised synonyms.
pub fn recognise(header: &str) -> Option<Field> {
    let key = header_key(header);
    if key.is_empty() {
        return None;
    }
    Field::ALL
        .into_iter()
        .find(|f| f.synonyms().contains(&key.as_str()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn all_is_in_index_order() {
        for (i, f) in Field::ALL.into_iter().enumerate() {
            assert_eq!(f.index(), i);
            assert_eq!(Field::from_name(f.name()), Some(f));
        }
    }

    #[test]
    fn canonical_headers_are_recognised() {
        for f in Field::ALL {
            assert_eq!(recognise(f.canonical_header()), Some(f), "{f:?}");
            assert_eq!(header_key(f.canonical_header()), f.synonyms()[0], "{f:?}");
        }
    }

    #[test]
    fn synonyms_are_keys_and_unique() {
        let mut seen = std::collections::HashSet::new();
        for f in Field::ALL {
            for s in f.synonyms() {
                assert_eq!(&header_key(s), s, "{s} is not a key");
                assert!(seen.insert(*s), "{s} appears twice");
            }
        }
    }

    #[test]
    fn synonyms_from_the_issue() {
        let cases: &[(&str, Field)] = &[
            ("Stock Number", Field::StockId),
            ("StockID", Field::StockId),
            ("Stock Ref", Field::StockId),
            ("Stock", Field::StockId),
            ("stock_no", Field::StockId),
            ("Reg", Field::Registration),
            ("VRM", Field::Registration),
            ("Reg No", Field::Registration),
            ("Registration Number", Field::Registration),
            ("Variant", Field::Variant),
            ("Derivative", Field::Variant),
            ("Body", Field::BodyStyle),
            ("Body Style", Field::BodyStyle),
            ("BodyType", Field::BodyStyle),
            ("Fuel", Field::FuelType),
            ("Fuel Type", Field::FuelType),
            ("Gearbox", Field::Transmission),
            ("Transmission", Field::Transmission),
            ("Colour", Field::Colour),
            ("Color", Field::Colour),
            ("First Registered", Field::FirstRegistration),
            ("Reg Date", Field::FirstRegistration),
            ("Registration Date", Field::FirstRegistration),
            ("Date First Registered", Field::FirstRegistration),
            ("Images", Field::Images),
            ("Photos", Field::Images),
            ("Image URLs", Field::Images),
            ("PictureRefs", Field::Images),
            ("Features", Field::Features),
            ("Options", Field::Features),
            ("Spec", Field::Features),
            ("Notes", Field::InternalNotes),
            ("Internal Notes", Field::InternalNotes),
            ("Comments (internal)", Field::InternalNotes),
            ("Price", Field::Price),
            ("Retail Price", Field::Price),
            ("Selling Price", Field::Price),
            ("Mileage", Field::Mileage),
            ("Location", Field::LocationId),
            ("Cost Price", Field::CostPrice),
        ];
        for (header, field) in cases {
            assert_eq!(recognise(header), Some(*field), "{header}");
        }
        assert_eq!(recognise("Customer Name"), None);
        assert_eq!(recognise(""), None);
        assert_eq!(recognise(" - "), None);
    }
}
